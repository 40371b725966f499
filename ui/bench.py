"""How fast the dashboard answers: the real pages, driven in-process, timed.

``python -m ui.bench [--format table|json] [--store generated|shipped] [--pages ...]
[--actions ...] [--store-dir DIR]`` runs each page with Streamlit's ``AppTest`` (the same
script runner the server uses, without a browser) and reports, per page and interaction:

- ``cold_s``: server seconds of the run with empty process caches (the page's first view after
  a start; the interaction's first time with those choices);
- ``warm_s``: the same again once cached (a second visitor; the interaction repeated);
- ``bytes``: the size of the messages the run sends to the browser (every ``ForwardMsg``, as
  serialised protobuf; the map's deck.gl JSON is counted inside them);
- ``baseline_cold_s``, ``baseline_warm_s``, ``baseline_bytes``: the same with the per-ingest
  aggregates switched off (``HUMBER_AGGREGATES=0``, :mod:`geodata.aggregates`) and the caches
  cleared: the dashboard as it was before they existed, computing from the raw incidents.

Both are measured in one run, on one store. ``--store shipped`` is a copy of the shipped
police.uk months; ``--store generated`` (the default) is three years of Humberside
(``--rows``, default 300,000 incidents over 36 contiguous months), made by resampling the
shipped months and moving every incident to a real police.uk map point near a jittered
position (seeded, so every run builds the same store), then stored through the normal ingest
path. It is kept in ``--store-dir`` (default a folder in the temporary directory named by its
size and seed) and reused by later runs.

"After a start" means: the store is ingested, the back-tested default bandwidths of the
Humber and the four CSPs are stored beside it (:func:`ui.cached.precompute_defaults`, timed as
its own record), the process caches are emptied, and then what ``serve.py`` loads in the
background at a server's start is loaded (:func:`ui.warmup.warm_up`: page imports, reference
tables, aggregates, street labels, then the standard views, every area's default view of
each crime group; timed as its own record). A change of crime group therefore finds its
analysis computed; a change of months or settings is a new selection, computed while timed.
The baseline runs without the aggregates and the warm-up.

Targets (issue #12): every page's first render ≤ 2 s, every interaction ≤ 0.5 s of server
time, on the 2-core development machine. ``docs/performance.md`` records the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from geodata.aggregates import ENV_SWITCH
from geodata.paths import REPO_ROOT, shipped_crime_files

TARGET_FIRST_RENDER_S = 2.0
TARGET_INTERACTION_S = 0.5
GENERATED_ROWS = 300_000
GENERATED_MONTHS = 36
GENERATED_LAST_MONTH = "2024-03"
#: Standard deviation of the jitter before snapping to the nearest real map point, metres.
JITTER_M = 250.0
RECORD_KEYS = ("page", "action", "cold_s", "warm_s", "bytes", "baseline_cold_s",
               "baseline_warm_s")
ACTIONS = ("group", "all_crime", "layer", "find_place", "months")
ACTION_LABELS = {"load": "first render", "group": "switch crime group",
                 "all_crime": "switch to \"All crime\"", "layer": "toggle a layer",
                 "find_place": "find a place", "months": "change month range"}
APP_DIR = REPO_ROOT


# --------------------------------------------------------------------------- the store
def generate_incidents(folder: Path, *, rows: int = GENERATED_ROWS,
                       months: int = GENERATED_MONTHS, last_month: str = GENERATED_LAST_MONTH,
                       seed: int = 0, jitter_m: float = JITTER_M) -> list[Path]:
    """Write police.uk-shaped monthly CSVs of `rows` Humberside incidents over `months`
    contiguous months ending `last_month`.

    Every row is a shipped incident (its crime type, outcome, force) moved to the real
    police.uk map point nearest to its own point plus a Gaussian jitter of `jitter_m` metres:
    locations, LSOA codes and names stay those of real map points, so the store looks like
    Humberside, not like noise. Deterministic for a given `seed`.

    Parameters
    ----------
    folder : Path
        Where to write ``YYYY-MM-humberside-street.csv`` files.
    rows : int, default 300,000
        Incidents in all (spread evenly over the months).
    months : int, default 36
        Contiguous months.
    last_month : str, default "2024-03"
        The newest month, ``YYYY-MM``.
    seed : int, default 0
        Random seed.
    jitter_m : float, default 250
        Jitter before snapping, metres (EPSG:27700).

    Returns
    -------
    list of Path
        The CSV files, oldest month first.
    """
    from scipy.spatial import cKDTree

    from geodata.crs import lonlat_to_bng

    if not isinstance(rows, (int, np.integer)) or rows < months:
        raise ValueError(f"'rows' should be an integer of at least {months} (one a month), "
                         f"got {rows!r}.")
    if not isinstance(months, (int, np.integer)) or months < 1:
        raise ValueError(f"'months' should be a positive integer, got {months!r}.")
    source = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                        for p in shipped_crime_files()], ignore_index=True)
    located = source[(source["Longitude"] != "") & (source["LSOA code"] != "")]
    points = located.drop_duplicates(["Longitude", "Latitude"])[
        ["Longitude", "Latitude", "Location", "LSOA code", "LSOA name"]].reset_index(drop=True)
    px, py = lonlat_to_bng(points["Longitude"].astype(float), points["Latitude"].astype(float))
    tree = cKDTree(np.column_stack([px, py]))
    rng = np.random.default_rng(seed)
    periods = pd.period_range(end=last_month, periods=months, freq="M").strftime("%Y-%m")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, month in enumerate(periods):
        size = rows // months + (1 if index < rows % months else 0)
        picked = located.iloc[rng.integers(0, len(located), size)].reset_index(drop=True)
        x, y = lonlat_to_bng(picked["Longitude"].astype(float), picked["Latitude"].astype(float))
        _, nearest = tree.query(np.column_stack([x + rng.normal(0, jitter_m, size),
                                                 y + rng.normal(0, jitter_m, size)]))
        moved = points.iloc[nearest].reset_index(drop=True)
        frame = picked.assign(**{column: moved[column].to_numpy() for column in moved})
        frame["Month"] = month
        ids = rng.integers(0, 2**63, size, dtype=np.int64)
        frame["Crime ID"] = np.where(frame["Crime ID"] != "",
                                     [f"bench{month}{i:019d}" for i in ids], "")
        path = folder / f"{month}-humberside-street.csv"
        frame.to_csv(path, index=False)  # benchmark input, not product output
        paths.append(path)
    return paths


def generated_store(directory: Path | None = None, *, rows: int = GENERATED_ROWS,
                    seed: int = 0) -> Path:
    """The generated three-year store: built once (through :func:`geodata.ingest.ingest_files`)
    and reused while its folder holds a committed store of the same size and seed."""
    from geodata.ingest import ingest_files
    from geodata.store import IncidentStore

    directory = Path(directory) if directory else \
        Path(tempfile.gettempdir()) / f"humber-bench-store-{rows}-{seed}"
    marker = directory / "bench.json"
    wanted = {"rows": rows, "seed": seed, "months": GENERATED_MONTHS,
              "last_month": GENERATED_LAST_MONTH, "jitter_m": JITTER_M}
    if marker.exists() and json.loads(marker.read_text()) == wanted and \
            IncidentStore(directory).version > 0:
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="humber-bench-csv-") as folder:
        files = generate_incidents(Path(folder), rows=rows, seed=seed)
        ingest_files(files, store=IncidentStore(directory), user="bench")
    marker.write_text(json.dumps(wanted))
    return directory


def shipped_store(directory: Path | None = None) -> Path:
    """A new store seeded with the shipped police.uk months (as a fresh clone's)."""
    from geodata.ingest import open_store

    directory = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="humber-bench-"))
    open_store(directory)
    return directory


# --------------------------------------------------------------------------- the pages
@dataclass(frozen=True)
class Page:
    """A page to drive: how to start it and the widget key prefix of its filters."""

    name: str
    key: str
    area_code: str | None
    start: Callable[[], object]
    actions: tuple[str, ...]


def _router(url_path: str, timeout: float):
    """The app (``app.py``, its sign-in and navigation) opened at ``/<url_path>``, as a
    browser opening that address would."""
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    def start():
        at = AppTest.from_file(str(APP_DIR / "app.py"), default_timeout=timeout)
        at._page_hash = calc_hash(url_path)  # st.Page's script hash is that of its url_path
        return at
    return start


def _pages(timeout: float) -> dict[str, Page]:
    from config import get_config

    hull = next(a for a in get_config().areas if a.short_name == "Hull")
    return {
        "overview": Page("overview", "humber", None, _router("overview", timeout), ACTIONS),
        hull.slug: Page(hull.slug, hull.slug, hull.code, _router(hull.slug, timeout), ACTIONS),
        "need": Page("need", "need", None, _router("need", timeout),
                     ("group", "all_crime", "find_place", "months")),
    }


class _Sent:
    """Counts the bytes of the messages each script run sends to the browser."""

    last = 0

    @classmethod
    @contextlib.contextmanager
    def installed(cls):
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        original = LocalScriptRunner.run

        def run(self, *args, **kwargs):
            tree = original(self, *args, **kwargs)
            cls.last = sum(message.ByteSize() for message in self.forward_msgs())
            return tree

        LocalScriptRunner.run = run
        try:
            yield cls
        finally:
            LocalScriptRunner.run = original


def _timed_run(at) -> tuple[float, int, float]:
    """Wall seconds, bytes sent and CPU seconds of this process for one script run."""
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception[0].value}")
    return seconds, _Sent.last, cpu


def _action(at, page: Page, name: str, months: list[str]):
    """Apply interaction `name` to the running page; return a function undoing it."""
    key = page.key
    if name in ("group", "all_crime"):
        widget = at.selectbox(key=f"{key}_group")
        before = widget.value
        target = "All crime" if name == "all_crime" else next(
            o for o in widget.options if o not in (before, "All crime"))
        widget.set_value(target)
        return lambda: at.selectbox(key=f"{key}_group").set_value(before)
    if name == "layer":
        widget = at.multiselect(key=f"{key}_layers")
        before = list(widget.value)
        extra = "choropleth" if "choropleth" not in before else None
        widget.set_value(before + [extra] if extra else [v for v in before
                                                         if v != "choropleth"])
        return lambda: at.multiselect(key=f"{key}_layers").set_value(before)
    if name == "find_place":
        widget = at.text_input(key=f"{key}_find")
        widget.input("Newland")
        return lambda: at.text_input(key=f"{key}_find").input("")
    if name == "months":
        widget = at.select_slider(key=f"{key}_months")
        before = tuple(widget.value)
        end = months.index(before[1])
        start = max(0, months.index(before[0]) - (3 if end >= 5 else 1))
        widget.set_range(months[start], before[1])
        return lambda: at.select_slider(key=f"{key}_months").set_range(*before)
    raise ValueError(f"Unknown action {name!r}; known: {list(ACTIONS)}.")


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def measure_page(page: Page, actions: tuple[str, ...], months: list[str], *,
                 warm_up: bool = True) -> dict[str, dict]:
    """Cold and warm seconds and bytes of one page's first render and interactions, with
    the current process settings (aggregates on or off); caches cleared first, then, with
    `warm_up`, what a server loads at its start (:func:`ui.warmup.warm_up`, untimed here:
    it has its own record)."""
    _clear_caches()
    if warm_up:
        from ui.warmup import warm_up as load_at_start

        load_at_start(defaults=False)
    results = {}
    at = page.start()
    cold, sent, cold_cpu = _timed_run(at)
    # a second visitor: a new session, warm caches
    warm, _, warm_cpu = _timed_run(page.start())
    results["load"] = {"cold_s": cold, "warm_s": warm, "bytes": sent, "cold_cpu_s": cold_cpu,
                       "warm_cpu_s": warm_cpu}
    for name in actions:
        if name not in page.actions:
            continue
        undo = _action(at, page, name, months)
        cold, sent, cold_cpu = _timed_run(at)
        undo()
        _timed_run(at)
        _action(at, page, name, months)
        warm, _, warm_cpu = _timed_run(at)
        undo()
        _timed_run(at)
        results[name] = {"cold_s": cold, "warm_s": warm, "bytes": sent,
                         "cold_cpu_s": cold_cpu, "warm_cpu_s": warm_cpu}
    return results


@contextlib.contextmanager
def _aggregates(enabled: bool):
    previous = os.environ.get(ENV_SWITCH)
    os.environ[ENV_SWITCH] = "1" if enabled else "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_SWITCH, None)
        else:
            os.environ[ENV_SWITCH] = previous


def run_bench(store_dir: Path, *, pages: list[str] | None = None,
              actions: tuple[str, ...] = ACTIONS, timeout: float = 600.0,
              on_record: Callable[[dict], None] | None = None) -> list[dict]:
    """Measure every page and interaction on the store in `store_dir`, optimised and baseline.

    Parameters
    ----------
    store_dir : Path
        A committed incident store; set as ``HUMBER_DATA_DIR`` for the run.
    pages : list of str, optional
        Page names (``overview``, the Hull page's slug, ``need``); default all.
    actions : tuple of str
        Interactions among :data:`ACTIONS`.
    timeout : float, default 600
        Seconds one script run may take.
    on_record : callable, optional
        Called with each record as soon as it is measured (a long run shows progress).

    Returns
    -------
    list of dict
        One record per page and action (``action`` ``"load"`` is the first render), with
        :data:`RECORD_KEYS` and ``baseline_bytes``, ``label``, ``store_rows``, ``store_months``;
        first a record of the back-tested defaults' precomputation (page ``"(ingest)"``),
        then one of the server's start-up warm-up (page ``"(start)"``, :mod:`ui.warmup`).
    """
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"Unknown actions {unknown}; known: {list(ACTIONS)}.")
    os.environ["HUMBER_DATA_DIR"] = str(store_dir)
    from streamlit import config as streamlit_config

    streamlit_config.set_option("server.address", "127.0.0.1")
    # Without a server runtime (AppTest), the first element a process draws makes Streamlit
    # inspect the call stack to warn about running outside `streamlit run` (0.2 s, once); a
    # server never does, so the first page timed would pay for the harness.
    import streamlit.delta_generator as delta_generator

    delta_generator._use_warning_has_been_displayed = True
    from ui import cached

    available = _pages(timeout)
    chosen = pages or list(available)
    missing = [p for p in chosen if p not in available]
    if missing:
        raise ValueError(f"Unknown pages {missing}; known: {list(available)}.")
    with _aggregates(True):
        _clear_caches()
        months = cached.available_months()
        rows = cached.store().row_count()
        start, cpu = time.perf_counter(), time.process_time()
        cached.precompute_defaults()  # the Humber and every CSP, as the server does
        precompute, cpu = time.perf_counter() - start, time.process_time() - cpu
    records = [{"page": "(ingest)", "action": "precompute_defaults",
                "label": "back-tested default bandwidths of the Humber and every CSP, every "
                         "crime group (once per ingest; not a page view)",
                "cold_s": precompute, "warm_s": precompute, "bytes": 0,
                "baseline_cold_s": 0.0, "baseline_warm_s": 0.0, "baseline_bytes": 0,
                "cold_cpu_s": cpu, "warm_cpu_s": cpu, "store_rows": rows,
                "store_months": len(months)}]
    if on_record:
        on_record(records[0])
    with _aggregates(True):
        from ui.warmup import warm_up

        _clear_caches()
        start, cpu = time.perf_counter(), time.process_time()
        steps = warm_up(defaults=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    records.append({"page": "(start)", "action": "warm_up",
                    "label": "what a server loads at its start, in the background "
                             "(ui.warmup: " + ", ".join(steps) + "); not a page view",
                    "cold_s": seconds, "warm_s": seconds, "bytes": 0,
                    "baseline_cold_s": 0.0, "baseline_warm_s": 0.0, "baseline_bytes": 0,
                    "cold_cpu_s": cpu, "warm_cpu_s": cpu, "store_rows": rows,
                    "store_months": len(months)})
    if on_record:
        on_record(records[-1])
    with _Sent.installed(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in chosen:
            page = available[name]
            with _aggregates(False):  # the dashboard as it was: no warm-up either
                baseline = measure_page(page, actions, months, warm_up=False)
            with _aggregates(True):
                optimised = measure_page(page, actions, months)
            for action, figures in optimised.items():
                before = baseline[action]
                records.append({
                    "page": name, "action": action, "label": ACTION_LABELS[action],
                    "cold_s": figures["cold_s"], "warm_s": figures["warm_s"],
                    "bytes": figures["bytes"], "baseline_cold_s": before["cold_s"],
                    "baseline_warm_s": before["warm_s"], "baseline_bytes": before["bytes"],
                    "cold_cpu_s": figures["cold_cpu_s"], "warm_cpu_s": figures["warm_cpu_s"],
                    "baseline_cold_cpu_s": before["cold_cpu_s"],
                    "baseline_warm_cpu_s": before["warm_cpu_s"],
                    "store_rows": rows, "store_months": len(months)})
                if on_record:
                    on_record(records[-1])
    _clear_caches()
    return records


def _target(record: dict) -> float:
    return TARGET_FIRST_RENDER_S if record["action"] == "load" else TARGET_INTERACTION_S


def format_table(records: list[dict]) -> str:
    """The records as a plain-text table, with each target met or not."""
    lines = [f"{'page':<12} {'action':<28} {'cold s':>7} {'(CPU)':>7} {'warm s':>7} "
             f"{'kB sent':>8}   {'base cold':>9} {'(CPU)':>7} {'base warm':>9} {'base kB':>8}"
             f"  target (cold)"]
    for r in records:
        if r["page"] == "(ingest)":
            lines.append(f"{r['page']:<12} {r['action']:<28} {r['cold_s']:>7.2f} "
                         f"{r['cold_cpu_s']:>7.2f}   (stored beside the incidents, once per "
                         f"ingest)")
            continue
        if r["page"] == "(start)":
            lines.append(f"{r['page']:<12} {r['action']:<28} {r['cold_s']:>7.2f} "
                         f"{r['cold_cpu_s']:>7.2f}   (once per server process, in the "
                         f"background at its start)")
            continue
        met = "met" if r["cold_s"] <= _target(r) else "NOT met"
        lines.append(f"{r['page']:<12} {r.get('label', r['action']):<28} {r['cold_s']:>7.2f} "
                     f"{r['cold_cpu_s']:>7.2f} {r['warm_s']:>7.2f} {r['bytes'] / 1000:>8.0f}   "
                     f"{r['baseline_cold_s']:>9.2f} {r['baseline_cold_cpu_s']:>7.2f} "
                     f"{r['baseline_warm_s']:>9.2f} "
                     f"{r.get('baseline_bytes', 0) / 1000:>8.0f}  ≤ {_target(r):g} s {met}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m ui.bench", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--store", choices=("generated", "shipped"), default="generated")
    parser.add_argument("--store-dir", type=Path, default=None,
                        help="where the store is (kept and reused for --store generated)")
    parser.add_argument("--rows", type=int, default=GENERATED_ROWS,
                        help="incidents of the generated store (36 months)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", nargs="+", default=None,
                        help="pages to measure (default: overview, hull, need)")
    parser.add_argument("--actions", nargs="+", default=list(ACTIONS), choices=ACTIONS)
    args = parser.parse_args(argv)
    from streamlit import logger as streamlit_logger

    # "missing ScriptRunContext" and the like, logged by cached calls outside a script run
    streamlit_logger.set_log_level(logging.ERROR)
    if args.store == "generated":
        directory = generated_store(args.store_dir, rows=args.rows, seed=args.seed)
    else:
        directory = shipped_store(args.store_dir)
    def emit(record: dict) -> None:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in record.items()}), flush=True)

    records = run_bench(directory, pages=args.pages, actions=tuple(args.actions),
                        on_record=emit if args.format == "json" else None)
    if args.format == "table":
        print(f"Store: {directory} ({records[-1].get('store_rows', 0):,} incidents, "
              f"{records[-1].get('store_months', 0)} months)")
        print(format_table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
