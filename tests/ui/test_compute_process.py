"""The second process that computes clusters and predicted cells while a page finds hotspots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots import pipeline
from hotspots.disclosure import DisclosureRule
from hotspots.pipeline import ClusterMemoryError
from ui import cached, compute_process, offload_tasks
from ui.deck import polygon_records


@pytest.fixture
def process():
    compute_process.start()
    yield
    compute_process.stop()


def _raises_memory_error() -> None:
    raise ClusterMemoryError("too big", predicted_mb=2.0, max_memory_mb=1.0, eps=500.0,
                             suggested_eps=None)


def test_without_the_process_the_caller_computes():
    compute_process.stop()
    assert not compute_process.running()
    assert compute_process.run(os.getpid) == os.getpid()


def test_the_process_computes_what_the_caller_would(fresh_store, process):
    assert compute_process.run(os.getpid) != os.getpid()   # another process
    months = tuple(cached.available_months()[-3:])
    group = cached.get_config().default_crime_group
    incidents = cached.selected_incidents("E06000010", months, group)
    context = cached.context_incidents("E06000010", months, group)
    area = cached.study_area("E06000010")
    there = compute_process.run(pipeline.cluster_analysis, incidents,
                                lsoas=cached.lsoa_table(), eps=None, min_samples=None,
                                max_memory_mb=1024.0)
    here = pipeline.cluster_analysis(incidents, lsoas=cached.lsoa_table(), eps=None,
                                     min_samples=None, max_memory_mb=1024.0)
    assert here.result.n_clusters > 0
    np.testing.assert_array_equal(there.result.labels, here.result.labels)
    pd.testing.assert_frame_equal(there.table, here.table)
    assert there.outlines.geometry.geom_equals_exact(here.outlines.geometry, 0.0).all()
    cells_there = compute_process.run(pipeline.predicted_cells, incidents, context,
                                      study_area=area, coverage=2.0)
    cells_here = pipeline.predicted_cells(incidents, context, study_area=area, coverage=2.0)
    assert len(cells_here.outlines) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(cells_there.outlines.drop(columns="geometry")),
                                  pd.DataFrame(cells_here.outlines.drop(columns="geometry")))
    assert cells_there.outlines.geometry.geom_equals_exact(cells_here.outlines.geometry,
                                                           0.0).all()
    # with the map's records of them, made there too
    cells, records = compute_process.run(offload_tasks.predicted_with_records, incidents,
                                         context, study_area=area, coverage=2.0)
    assert cells.outlines.geometry.geom_equals_exact(cells_here.outlines.geometry, 0.0).all()
    assert records == polygon_records(cells_here.outlines, ["cells"]) and len(records)


@pytest.mark.parametrize("measure, rule", [("count", None), ("harm", None),
                                           ("count", DisclosureRule())])
def test_the_cached_analyses_send_only_what_they_read(fresh_store, process, measure, rule):
    # ui.cached pickles only the columns the library reads; the results are those of the
    # library given every column
    months = tuple(cached.available_months()[-3:])
    group = cached.get_config().default_crime_group
    incidents = cached.selected_incidents("E06000010", months, group)
    context = cached.context_incidents("E06000010", months, group)
    area = cached.study_area("E06000010")
    weight = None if rule is not None else cached._weight(measure)
    got = cached.clusters("E06000010", months, group, eps=None, min_samples=None,
                          max_memory_mb=1024.0, measure=measure, disclosure=rule)
    want = pipeline.cluster_analysis(incidents, lsoas=cached.lsoa_table(), eps=None,
                                     min_samples=None, max_memory_mb=1024.0, weight=weight,
                                     disclosure=rule)
    assert len(want.table) > 0
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.outlines.geometry.geom_equals_exact(want.outlines.geometry, 0.0).all()
    cells = cached.predicted("E06000010", months, group, coverage=2.0, disclosure=rule)
    expected = pipeline.predicted_cells(incidents, context, study_area=area, coverage=2.0,
                                        disclosure=rule)
    assert len(expected.outlines) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(cells.outlines.drop(columns="geometry")),
                                  pd.DataFrame(expected.outlines.drop(columns="geometry")))
    assert cells.outlines.geometry.geom_equals_exact(expected.outlines.geometry, 0.0).all()


def test_both_processes_allocate_arrow_strings_with_the_system_allocator(process):
    from ui import memory

    # Importing ui.cached (as every page does) chose it here; the process chose it at start.
    assert memory.allocator() == "system"
    assert compute_process.run(os.getpid) != os.getpid()
    assert compute_process.run(memory.allocator) == "system"


def test_an_error_is_raised_as_itself(process):
    # ClusterMemoryError's keyword arguments do not survive pickling: the caller computes
    # it again, so the page sees the real error.
    with pytest.raises(ClusterMemoryError, match="too big") as raised:
        compute_process.run(_raises_memory_error)
    assert raised.value.predicted_mb == 2.0


def test_what_cannot_be_sent_is_computed_here(process):
    assert compute_process.run(lambda: os.getpid()) == os.getpid()


def test_a_dead_process_is_replaced(process):
    worker = compute_process.run(os.getpid)
    os.kill(worker, signal.SIGKILL)
    assert compute_process.run(os.getpid) == os.getpid()   # computed here meanwhile
    assert compute_process.running()
    again = compute_process.run(os.getpid)
    assert again not in (worker, os.getpid())


def test_the_process_ends_when_its_server_is_killed():
    """A server stopped by a signal runs no exit handler: the process watches it instead."""
    server = subprocess.Popen(
        [sys.executable, "-c",
         "import os, signal\n"
         "from ui import compute_process\n"
         "compute_process.start()\n"
         "print(compute_process.run(os.getpid), flush=True)\n"
         "os.kill(os.getpid(), signal.SIGKILL)\n"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    worker = int(server.stdout.readline())
    assert server.wait(timeout=60) == -signal.SIGKILL
    server.stdout.close()
    deadline = time.monotonic() + 4 * compute_process.WATCH_S + 5
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{worker}").exists()
