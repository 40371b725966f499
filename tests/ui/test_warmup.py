"""The server's start-up warm-up (``ui/warmup.py``): what it loads, and that ``serve.py``
runs it."""

from __future__ import annotations

import subprocess
import sys

from streamlit.testing.v1 import AppTest

from geodata import aggregates
from geodata.paths import REPO_ROOT
from hotspots.pipeline import latest_contiguous
from tests.ui.conftest import TIMEOUT, _csp_page
from ui import cached, warmup


def test_warm_up_loads_the_selection_free_data_and_stores_the_defaults(fresh_store,
                                                                       monkeypatch):
    assert aggregates.read_derived(cached.store().directory, cached.store_version()) == {}
    seconds = warmup.warm_up()
    assert list(seconds) == ["imports", "reference", "aggregates", "streets", "defaults",
                             "views"]
    stored = aggregates.read_derived(cached.store().directory, cached.store_version())
    areas = {key.split("|")[1] for key in stored if key.startswith("bandwidth|")}
    assert areas == {"humber", *cached.get_config().area_codes}

    # Afterwards the loads are cache hits: nothing is read or unioned again.
    def no_reading(*args, **kwargs):
        raise AssertionError("loaded again after the warm-up")

    monkeypatch.setattr(cached, "load_lsoa_table", no_reading)
    monkeypatch.setattr(cached.pipeline, "study_area", no_reading)
    cached.lsoa_table()
    for area_code in (None, *cached.get_config().area_codes):
        cached.study_area(area_code)


HULL = "E06000010"


def test_after_the_standard_views_a_group_change_computes_nothing(fresh_store, monkeypatch):
    from ui import map_view, need_view

    cached.precompute_defaults({HULL})
    config = cached.get_config()
    assert warmup.standard_views([HULL]) == len(config.crime_groups)

    computations = []

    def computed(*args, **kwargs):
        computations.append(args)
        raise AssertionError("computed again after the standard views")

    for module, name in [(cached, "hotspots_with_change"), (cached, "named_hotspots"),
                         (cached.pipeline, "cluster_analysis"),
                         (cached.pipeline, "predicted_cells"),
                         (cached.offload_tasks, "predicted_with_records"),
                         (cached, "profile_hotspots"),
                         (cached, "lsoa_need_table"), (map_view.deck, "density_image")]:
        monkeypatch.setattr(module, name, computed)
    months = cached.available_months()
    latest = latest_contiguous(months, 3)
    at = AppTest.from_function(_csp_page, args=(HULL,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.select_slider(key="hull_months").value == (latest[0], latest[-1])
    group = at.selectbox(key="hull_group")
    for other in [g for g in group.options if g != group.value]:
        at.selectbox(key="hull_group").set_value(other).run()
        assert not at.exception and not computations, other
        need_view.need_table(config, HULL, latest, other)  # as the Need page asks
    # Another month range is a new selection: computed when asked for, not before.
    at.select_slider(key="hull_months").set_range(months[-2], months[-1]).run()
    assert at.exception and computations


def test_the_switch_turns_the_background_warm_up_off(monkeypatch):
    monkeypatch.setenv(warmup.ENV_SWITCH, "0")
    assert warmup.start_warm_up() is None


def test_the_server_starts_the_warm_up_in_its_lifespan():
    # in a subprocess: importing serve.py marks the process as the served app
    check = "import serve; print(serve.app._user_lifespan is serve.warm_up)"
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "True", result.stderr[-2000:]
