"""Benchmark of the incident store: ingest speed, peak memory and the dashboard's typical query.

``python -m geodata.bench [--sizes 100000,1000000] [--large-file 1000000]
[--format table|json]`` generates N rows in police.uk format (resampled from the shipped
Humberside months, spread over monthly files), ingests them into a new store in a child process
(so its peak memory is its own), and times the dashboard's typical query (one CSP, three months,
one crime group) on the full store. It then ingests one single police.uk-shaped CSV of
``--large-file`` rows (one month) and reports the child's peak resident memory (``VmHWM``),
next to the peak for a 1,000-row file: the ingest reads, checks and stores a CSV in chunks, so
the difference must not grow with the size of the file.

Targets on the 2-core development machine: ingest ≥ 100,000 rows/s, peak memory below 1 GB for
1,000,000 rows (in monthly files or in one file), typical query < 200 ms on 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from config import get_config
from geodata.paths import REPO_ROOT, shipped_crime_files

TARGET_ROWS_PER_S = 100_000
TARGET_PEAK_MB = 1024
TARGET_QUERY_MS = 200
ROWS_PER_MONTH = 85_000  # about a large force's month (all of England and Wales: ~500,000)


def generate(n: int, folder: Path, *, seed: int = 0, single_file: bool = False) -> list[Path]:
    """Write `n` police.uk rows, resampled from the shipped months, as monthly CSV files.

    With `single_file`, all rows go in one file of one month (a national month is ~500,000).
    These are benchmark inputs, not product output: written with plain ``to_csv``.
    """
    source = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                        for p in shipped_crime_files()[1:]], ignore_index=True)
    rng = np.random.default_rng(seed)
    n_months = 1 if single_file else max(1, -(-n // ROWS_PER_MONTH))
    months = pd.period_range("2019-01", periods=n_months, freq="M").strftime("%Y-%m")
    paths = []
    for index, month in enumerate(months):
        size = n // n_months + (1 if index < n % n_months else 0)
        rows = source.iloc[rng.integers(0, len(source), size)].assign(Month=month)
        path = folder / f"{month}-humberside-street.csv"
        rows.to_csv(path, index=False)
        paths.append(path)
    return paths


def _child_ingest(store: str, files: list[str]) -> None:
    """Run in a child process: ingest, then print time and peak memory as JSON."""
    from geodata.ingest import ingest_files
    from geodata.store import IncidentStore

    start = time.perf_counter()
    report = ingest_files(files, store=IncidentStore(store), user="bench")
    seconds = time.perf_counter() - start
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text()
                   .splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024,
                      "accepted": report.accepted, "rejected": report.rejected_count}))


def _ingest_in_child(store: Path, files: list[Path]) -> dict:
    code = ("import json, sys; from geodata.bench import _child_ingest; "
            "_child_ingest(sys.argv[1], json.loads(sys.argv[2]))")
    result = subprocess.run([sys.executable, "-c", code, str(store),
                             json.dumps([str(p) for p in files])],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_large_file(n: int) -> list[dict]:
    """Peak memory of ingesting one police.uk CSV of `n` rows, and of a 1,000-row file."""
    records = []
    with tempfile.TemporaryDirectory(prefix="humber-bench-") as folder:
        folder = Path(folder)
        (folder / "small").mkdir()
        small = _ingest_in_child(folder / "small-store",
                                 generate(1000, folder / "small", single_file=True))
        large_files = generate(n, folder, single_file=True)
        size_mb = large_files[0].stat().st_size / 2**20
        large = _ingest_in_child(folder / "store", large_files)
    for rows, child, note in ((1000, small, "baseline: imports, boundaries"),
                              (n, large, f"one {size_mb:,.0f} MB file")):
        records.append({"benchmark": f"peak memory, one police.uk CSV ({note})", "n": rows,
                        "files": 1, "seconds": round(child["seconds"], 3),
                        "rows_per_s": round(rows / child["seconds"]),
                        "peak_mb": round(child["peak_mb"], 1),
                        "target": f"< {TARGET_PEAK_MB} MB",
                        "meets_target": child["peak_mb"] < TARGET_PEAK_MB,
                        "accepted": child["accepted"], "rejected": child["rejected"]})
    records[-1]["growth_mb"] = round(large["peak_mb"] - small["peak_mb"], 1)
    return records


def _typical_query_ms(store_dir: Path, repeats: int = 7) -> tuple[float, int]:
    from geodata.store import IncidentStore

    config = get_config()
    store = IncidentStore(store_dir)
    months = store.months()[-3:]
    group = config.crime_group(config.default_crime_group)
    columns = ["month", "crime_type", "location", "lsoa21cd", "lad_code", "x", "y", "lon",
               "lat", "weight"]
    times, rows = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        rows = len(store.query(area_code=config.areas[0].code, months=months,
                               crime_types=group.types, columns=columns))
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), rows


def run(sizes: list[int]) -> list[dict]:
    """Generate, ingest and query each size; return one record per measurement."""
    records = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="humber-bench-") as folder:
            folder = Path(folder)
            files = generate(n, folder)
            store = folder / "store"
            child = _ingest_in_child(store, files)
            query_ms, query_rows = _typical_query_ms(store)
            rate = n / child["seconds"]
            records.append({"benchmark": "ingest", "n": n, "files": len(files),
                            "seconds": round(child["seconds"], 3),
                            "rows_per_s": round(rate), "peak_mb": round(child["peak_mb"], 1),
                            "target": f">= {TARGET_ROWS_PER_S:,} rows/s"
                                      + (f", < {TARGET_PEAK_MB} MB" if n >= 1_000_000 else ""),
                            "meets_target": rate >= TARGET_ROWS_PER_S and (
                                n < 1_000_000 or child["peak_mb"] < TARGET_PEAK_MB),
                            "accepted": child["accepted"], "rejected": child["rejected"]})
            records.append({"benchmark": "typical query (one CSP, 3 months, one crime group)",
                            "n": n, "seconds": round(query_ms / 1000, 4),
                            "rows_returned": query_rows, "target": f"< {TARGET_QUERY_MS} ms",
                            "meets_target": query_ms < TARGET_QUERY_MS})
    return records


def _table(records: list[dict]) -> str:
    lines = [f"{'benchmark':<62} {'n':>9} {'seconds':>9} {'rows/s':>9} {'peak MB':>8} "
             f"{'target':<28} ok"]
    for r in records:
        lines.append(f"{r['benchmark']:<62} {r['n']:>9,} {r['seconds']:>9.3f} "
                     f"{r.get('rows_per_s', ''):>9} {r.get('peak_mb', ''):>8} "
                     f"{r['target']:<28} {'yes' if r['meets_target'] else 'NO'}")
        if "growth_mb" in r:
            lines.append(f"  peak memory above the 1,000-row baseline: {r['growth_mb']:,.1f} MB "
                         f"for {r['n']:,} rows in one file")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m geodata.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated row counts (default 100000,1000000)")
    parser.add_argument("--large-file", type=int, default=1_000_000, metavar="N",
                        help="rows of the single large CSV whose peak memory is measured "
                             "(default 1000000; 0 skips it)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers; got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes must list positive row counts")
    if args.large_file < 0:
        parser.error(f"--large-file must be 0 or a positive row count; got {args.large_file}")
    records = run(sizes) + (run_large_file(args.large_file) if args.large_file else [])
    print(json.dumps(records, indent=1) if args.format == "json" else _table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
