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

``--fetch`` builds a police.uk-shaped archive of ``--archive-mb`` (1024) MB (43 forces × 36
months, the force's members made from the shipped months), serves it from 127.0.0.1 with
range support, and reports the bytes and seconds ``python -m geodata fetch`` needs to bring a
store up to date by one month, against downloading the whole archive.

``--national`` generates police.uk-shaped rows for 43 forces over 60 months (``--rows``,
default 30,000,000: England and Wales over five years), ingests them a year at a time (each
in a child process), and reports the ingest rate and peak memory, the store's size on disk,
a one-CSP three-month query and a one-force kernel density (query and KDE, with the child's
peak memory).
"""

from __future__ import annotations

import argparse
import json
import shutil
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


# ------------------------------------------------------------------------------ fetch bench
def run_fetch(archive_mb: float = 1024.0) -> list[dict]:
    """Bytes and seconds to bring a store up to date by one month, against the whole archive.

    A store holding 35 of the archive's 36 Humberside months (ingested from the archive
    offline) is brought up to date from a local server; then the whole archive is downloaded
    from the same server, as a browser or ``curl`` would.
    """
    import requests

    from geodata.fetch import HttpClient, fetch_police_uk
    from geodata.police_uk_local import ALL_FORCES, FakePoliceUK, build_archive, generated_month
    from geodata.store import IncidentStore

    months = list(pd.period_range("2021-10", periods=36, freq="M").strftime("%Y-%m"))
    records = []
    with tempfile.TemporaryDirectory(prefix="humber-bench-fetch-") as folder:
        folder = Path(folder)
        csvs = {m: generated_month(m, folder, rows=8000, seed=i) for i, m in enumerate(months)}
        archive = build_archive(folder / f"{months[-1]}.zip", csvs, padding_mb=archive_mb,
                                forces=ALL_FORCES[:42])
        size = archive.stat().st_size
        store = IncidentStore(folder / "store")
        fetch_police_uk(store, force="humberside", from_zip=archive, months_to=months[-2],
                        user="bench")
        server = FakePoliceUK({months[-1]: archive}, months[-1])
        with server.running() as base:
            start = time.perf_counter()
            result = fetch_police_uk(store, force="humberside", base_url=base,
                                     client=HttpClient(), user="bench")
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            whole = 0
            with requests.get(f"{base}/data/archive/{months[-1]}.zip", stream=True,
                              timeout=60) as response, (folder / "whole.zip").open("wb") as sink:
                for block in response.iter_content(1 << 20):
                    sink.write(block)
                    whole += len(block)
            whole_seconds = time.perf_counter() - start
        records.append({"benchmark": f"fetch: store up to date by one month ({size / 2**20:,.0f} "
                                     f"MB archive)", "n": result.rows_read,
                        "seconds": round(seconds, 3), "bytes": result.bytes_transferred,
                        "requests": result.requests,
                        "target": "< 1% of the archive's bytes",
                        "meets_target": result.bytes_transferred < 0.01 * size})
        records.append({"benchmark": "download the whole archive (the same local server)",
                        "n": 0, "seconds": round(whole_seconds, 3), "bytes": whole,
                        "target": "(comparison)", "meets_target": True})
    return records


# --------------------------------------------------------------------------- national bench
NATIONAL_FORCES = 43
NATIONAL_MONTHS = 60
#: Crime types with police.uk's national shares (roughly), so crime-group filters select
#: realistic fractions.
_TYPES = {"Violence and sexual offences": 0.34, "Anti-social behaviour": 0.17,
          "Criminal damage and arson": 0.08, "Public order": 0.07, "Shoplifting": 0.06,
          "Other theft": 0.06, "Vehicle crime": 0.06, "Burglary": 0.04, "Drugs": 0.03,
          "Other crime": 0.02, "Theft from the person": 0.02, "Robbery": 0.01,
          "Possession of weapons": 0.01, "Bicycle theft": 0.01}


def _national_forces() -> list[tuple[str, tuple[float, float]]]:
    """43 forces: Humberside, and 42 synthetic ones centred on a grid over England and Wales."""
    rng = np.random.default_rng(43)
    forces = [("Humberside Police", (-0.4, 53.7))]
    for index in range(NATIONAL_FORCES - 1):
        forces.append((f"Force {index:02d} Police",
                       (float(rng.uniform(-4.5, 1.3)), float(rng.uniform(50.6, 54.9)))))
    return forces


def generate_national(folder: Path, months: list[str], rows_per_file: int, *,
                      seed: int = 0) -> list[Path]:
    """police.uk-shaped CSVs, one per force and month (`rows_per_file` rows each).

    Humberside's rows are resampled from the shipped months (real LSOA codes, so they are
    placed in the four CSPs); the other forces' points scatter around their centre with
    LSOA codes outside the Humber area (stored and flagged, as police.uk's would be).
    Written one file at a time, so memory stays bounded.
    """
    rng = np.random.default_rng(seed)
    shipped = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                         for p in shipped_crime_files()[1:]], ignore_index=True)
    types = list(_TYPES)
    shares = np.array([_TYPES[t] for t in types])
    shares = shares / shares.sum()
    paths = []
    for name, (lon, lat) in _national_forces():
        slug = name.lower().removesuffix(" police").replace(" ", "-")
        for month in months:
            n = rows_per_file
            if name == "Humberside Police":
                rows = shipped.iloc[rng.integers(0, len(shipped), n)].assign(Month=month)
            else:
                rows = pd.DataFrame({
                    "Crime ID": [f"{v:016x}" for v in rng.integers(0, 2**62, n)],
                    "Month": month, "Reported by": name, "Falls within": name,
                    "Longitude": np.round(lon + rng.normal(0, 0.25, n), 6),
                    "Latitude": np.round(lat + rng.normal(0, 0.15, n), 6),
                    "Location": [f"On or near Street {v}" for v in rng.integers(0, 5000, n)],
                    "LSOA code": [f"E0{v:07d}" for v in rng.integers(1_000_000, 1_035_000, n)],
                    "LSOA name": "Elsewhere 001A",
                    "Crime type": rng.choice(types, n, p=shares),
                    "Last outcome category": "Under investigation", "Context": ""})
            path = folder / f"{month}-{slug}-street.csv"
            rows.to_csv(path, index=False)
            paths.append(path)
    return paths


def _child_national_queries(store_dir: str) -> None:
    """Run in a child: the one-CSP month-range query and the one-force KDE, with peak memory."""
    from geodata.store import IncidentStore
    from hotspots.kde import kernel_density

    config = get_config()
    store = IncidentStore(store_dir)
    months = store.months()
    group = config.crime_group(config.default_crime_group)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        rows = len(store.query(area_code=config.areas[0].code, months=months[-3:],
                               crime_types=group.types,
                               columns=["month", "crime_type", "x", "y", "lad_code"]))
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    force = store.query(forces=["Humberside Police"], columns=["x", "y"])
    query_seconds = time.perf_counter() - start
    start = time.perf_counter()
    kernel_density(force["x"].to_numpy(), force["y"].to_numpy(), bandwidth=250.0,
                   cell_size=100.0)
    kde_seconds = time.perf_counter() - start
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text()
                   .splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"query_ms": 1000 * statistics.median(times), "query_rows": rows,
                      "force_rows": len(force), "force_query_s": query_seconds,
                      "kde_s": kde_seconds, "peak_mb": peak_kb / 1024}))


def run_national(rows: int = 30_000_000) -> list[dict]:
    """Generate, ingest (a year at a time) and query `rows` police.uk-shaped national rows."""
    months = list(pd.period_range("2020-01", periods=NATIONAL_MONTHS, freq="M")
                  .strftime("%Y-%m"))
    rows_per_file = max(1, rows // (NATIONAL_FORCES * NATIONAL_MONTHS))
    total_rows, ingest_seconds, peak, generate_seconds = 0, 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory(prefix="humber-bench-national-") as folder:
        folder = Path(folder)
        store = folder / "store"
        for year in range(0, NATIONAL_MONTHS, 12):
            batch = folder / f"batch-{year}"
            batch.mkdir()
            start = time.perf_counter()
            files = generate_national(batch, months[year:year + 12], rows_per_file, seed=year)
            generate_seconds += time.perf_counter() - start
            child = _ingest_in_child(store, files)
            ingest_seconds += child["seconds"]
            peak = max(peak, child["peak_mb"])
            total_rows += child["accepted"] + child["rejected"]
            shutil.rmtree(batch)
        from geodata.store import IncidentStore

        opened = IncidentStore(store)
        size_mb = sum((store / p.path).stat().st_size for p in opened.partitions()) / 2**20
        files = len(opened.partitions())
        code = ("import sys; from geodata.bench import _child_national_queries; "
                "_child_national_queries(sys.argv[1])")
        result = subprocess.run([sys.executable, "-c", code, str(store)], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True)
        queries = json.loads(result.stdout.strip().splitlines()[-1])
    rate = total_rows / ingest_seconds
    return [
        {"benchmark": f"national: ingest ({NATIONAL_FORCES} forces x {NATIONAL_MONTHS} months, "
                      f"a year per call)", "n": total_rows, "seconds": round(ingest_seconds, 1),
         "rows_per_s": round(rate), "peak_mb": round(peak, 1),
         "target": f">= {TARGET_ROWS_PER_S:,} rows/s, < {TARGET_PEAK_MB} MB",
         "meets_target": rate >= TARGET_ROWS_PER_S and peak < TARGET_PEAK_MB,
         "generate_seconds": round(generate_seconds, 1)},
        {"benchmark": f"national: store on disk ({files:,} Parquet files)", "n": total_rows,
         "seconds": 0.0, "size_mb": round(size_mb, 1),
         "bytes_per_row": round(size_mb * 2**20 / max(total_rows, 1), 1),
         "target": "(measure)", "meets_target": True},
        {"benchmark": "national: one CSP, 3 months, one crime group", "n": total_rows,
         "seconds": round(queries["query_ms"] / 1000, 4),
         "rows_returned": queries["query_rows"], "target": f"< {TARGET_QUERY_MS} ms",
         "meets_target": queries["query_ms"] < TARGET_QUERY_MS},
        {"benchmark": "national: one force, all months: query + KDE (250 m, 100 m cells)",
         "n": queries["force_rows"],
         "seconds": round(queries["force_query_s"] + queries["kde_s"], 3),
         "query_seconds": round(queries["force_query_s"], 3),
         "kde_seconds": round(queries["kde_s"], 3), "peak_mb": round(queries["peak_mb"], 1),
         "target": f"< {TARGET_PEAK_MB} MB", "meets_target": queries["peak_mb"] < TARGET_PEAK_MB},
    ]


def _table(records: list[dict]) -> str:
    lines = [f"{'benchmark':<62} {'n':>9} {'seconds':>9} {'rows/s':>9} {'peak MB':>8} "
             f"{'target':<28} ok"]
    for r in records:
        lines.append(f"{r['benchmark']:<62} {r['n']:>9,} {r['seconds']:>9.3f} "
                     f"{r.get('rows_per_s', ''):>9} {r.get('peak_mb', ''):>8} "
                     f"{r['target']:<28} {'yes' if r['meets_target'] else 'NO'}")
        if "bytes" in r:
            lines.append(f"  {r['bytes'] / 2**20:,.2f} MB transferred"
                         + (f" in {r['requests']} requests" if "requests" in r else ""))
        if "size_mb" in r:
            lines.append(f"  {r['size_mb']:,.1f} MB on disk, {r['bytes_per_row']} bytes a row")
        if "kde_seconds" in r:
            lines.append(f"  query {r['query_seconds']} s, KDE {r['kde_seconds']} s")
        if "generate_seconds" in r:
            lines.append(f"  (generating the CSVs took {r['generate_seconds']} s more)")
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
    parser.add_argument("--fetch", action="store_true",
                        help="only the fetch benchmark: one month from a local archive of "
                             "--archive-mb MB, against downloading it whole")
    parser.add_argument("--archive-mb", type=float, default=1024.0, metavar="MB",
                        help="size of the fetch benchmark's archive, also in the default "
                             "run (default 1024)")
    parser.add_argument("--national", action="store_true",
                        help="only the national-scale benchmark (43 forces, 60 months)")
    parser.add_argument("--rows", type=int, default=30_000_000, metavar="N",
                        help="rows of the national benchmark (default 30000000)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args(argv)
    if args.rows < NATIONAL_FORCES * NATIONAL_MONTHS:
        parser.error(f"--rows must be at least {NATIONAL_FORCES * NATIONAL_MONTHS} (one row per "
                     f"force and month); got {args.rows}")
    if args.archive_mb <= 0:
        parser.error(f"--archive-mb must be a positive size; got {args.archive_mb}")
    if args.fetch or args.national:
        records = (run_fetch(args.archive_mb) if args.fetch else []) + \
            (run_national(args.rows) if args.national else [])
        print(json.dumps(records, indent=1) if args.format == "json" else _table(records))
        return 0
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers; got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes must list positive row counts")
    if args.large_file < 0:
        parser.error(f"--large-file must be 0 or a positive row count; got {args.large_file}")
    records = run(sizes) + (run_large_file(args.large_file) if args.large_file else []) + \
        run_fetch(args.archive_mb)
    print(json.dumps(records, indent=1) if args.format == "json" else _table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
