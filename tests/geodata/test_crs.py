"""Projections between British National Grid and WGS84."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from geodata import crs


def test_a_known_point_projects_both_ways():
    # central Hull: (509,500 E, 428,800 N) is at longitude -0.341, latitude 53.744
    lon, lat = crs.bng_to_lonlat([509_500.0], [428_800.0])
    assert lon[0] == pytest.approx(-0.3411, abs=1e-3) and lat[0] == pytest.approx(53.7441,
                                                                                   abs=2e-3)
    x, y = crs.lonlat_to_bng(lon, lat)
    np.testing.assert_allclose([x[0], y[0]], [509_500.0, 428_800.0], atol=0.01)


def test_every_thread_projects_on_the_one_projection_thread(monkeypatch):
    """pyproj builds a transformation per thread (30-40 ms) and Streamlit runs each rerun in
    a new thread: the projections all run on one long-lived thread instead."""
    real = crs._transformer
    ran_on: list[str] = []

    class Spy:
        def __init__(self, transformer):
            self.transformer = transformer

        def transform(self, a, b):
            ran_on.append(threading.current_thread().name)
            return self.transformer.transform(a, b)

    monkeypatch.setattr(crs, "_transformer", lambda source, target: Spy(real(source, target)))
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        crs.bng_to_lonlat([509_500.0], [428_800.0]))) for _ in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    assert len(ran_on) == 3 and len(set(ran_on)) == 1
    assert ran_on[0].startswith("humber-crs")
    assert all(np.array_equal(r[0], results[0][0]) for r in results)
