"""Speed benchmarks (a script, not a test): ``python -m hotspots.bench [--quick] [--format ...]``.

Benchmarks, all on incidents drawn to look like the shipped Humber data
(real in-area police.uk locations resampled with replacement; "unique"
variants add 30 m Gaussian jitter so no two incidents share a point):

* ``kde``: :func:`hotspots.kde.kernel_density` at 50 m cells, bandwidth
  250 m, over the whole Humber extent (about 3,500 km²), against
  scikit-learn ``KernelDensity(kernel="gaussian", rtol=1e-4)`` evaluated on
  a random sample of grid cells (time extrapolated to the full grid) and
  against the exact kernel sum on a sample of cells above 1 % of the peak.
* ``dbscan``: :func:`hotspots.clusters.dbscan_incidents` against plain
  ``sklearn.cluster.DBSCAN`` on every incident, each run in its own
  subprocess so the peak memory (``VmHWM``) is its own; labels compared as
  partitions.  Plain DBSCAN is skipped when its predicted memory exceeds
  8 GB.
* ``gi_star``: :func:`hotspots.getis_ord.gi_star_lsoas` and
  :func:`hotspots.getis_ord.gi_star_grid` (250 m squares) with 999
  permutations.
* ``emerging``: :func:`hotspots.emerging.emerging_hotspots` on a space-time
  cube of 36 months x the whole Humber at 500 m cells (real locations
  resampled, 2,500 incidents a month).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_PLAIN_LIMIT_MB = 8000.0
_OURS_LIMIT_MB = 1000.0


def _load():
    from hotspots._cli import load_every_crime_type

    inc, lsoas = load_every_crime_type()
    inc = inc[inc["in_area"].to_numpy(dtype=bool)]
    return inc["x"].to_numpy(float), inc["y"].to_numpy(float), lsoas, inc


def synthetic_points(x: np.ndarray, y: np.ndarray, n: int, *, jitter: float,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Resample real locations (with replacement) and add Gaussian jitter (metres)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, n)
    sx, sy = x[idx].copy(), y[idx].copy()
    if jitter > 0:
        sx += rng.normal(0, jitter, n)
        sy += rng.normal(0, jitter, n)
    return sx, sy


def _record(benchmark, n, params, seconds, peak_mb=None, baseline=None, baseline_seconds=None,
            ratio=None, max_rel_error=None, median_rel_error=None, note=""):
    return {"benchmark": benchmark, "n": n, "params": params, "seconds": seconds,
            "peak_mb": peak_mb, "baseline": baseline, "baseline_seconds": baseline_seconds,
            "ratio": ratio, "max_rel_error": max_rel_error,
            "median_rel_error": median_rel_error, "note": note}


def bench_kde(x, y, bounds, n: int, *, sample_cells: int, seed: int = 0) -> dict:
    """KDE of ``n`` synthetic incidents vs scikit-learn and the exact kernel sum."""
    from sklearn.neighbors import KernelDensity

    from hotspots.kde import exact_kernel_density, kernel_density

    bw, cs = 250.0, 50.0
    sx, sy = synthetic_points(x, y, n, jitter=30.0, seed=seed)
    kernel_density(sx[:1000], sy[:1000], bandwidth=bw, cell_size=cs, bounds=bounds)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        surface = kernel_density(sx, sy, bandwidth=bw, cell_size=cs, bounds=bounds)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    grid = surface.grid
    xs, ys = grid.cell_centres()
    rng = np.random.default_rng(seed + 1)
    # Accuracy: a random sample of the cells above 1 % of the peak.
    dens = surface.density
    hot = np.flatnonzero(dens.ravel() > 0.01 * dens.max())
    pick = rng.choice(hot, size=min(sample_cells, hot.size), replace=False)
    jj, ii = np.unravel_index(pick, grid.shape)
    exact = exact_kernel_density(sx, sy, xs[ii], ys[jj], bandwidth=bw)
    rel = np.abs(dens.ravel()[pick] - exact) / exact
    # scikit-learn timing: a random sample of all cells, extrapolated.
    m = max(50, sample_cells // 4)
    allpick = rng.choice(grid.n_cells, size=m, replace=False)
    aj, ai = np.unravel_index(allpick, grid.shape)
    kd = KernelDensity(kernel="gaussian", bandwidth=bw, rtol=1e-4).fit(np.column_stack([sx, sy]))
    t0 = time.perf_counter()
    kd.score_samples(np.column_stack([xs[ai], ys[aj]]))
    t_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    kd2 = KernelDensity(kernel="gaussian", bandwidth=bw, rtol=1e-4).fit(np.column_stack([sx, sy]))
    t_fit = time.perf_counter() - t0
    del kd2
    sk_full = t_fit + t_sample * grid.n_cells / m
    return _record("kde", n, f"cell 50 m, bw 250 m, {grid.n_cells:,} cells", ours,
                   baseline="sklearn KernelDensity(rtol=1e-4), extrapolated from "
                            f"{m} cells", baseline_seconds=sk_full, ratio=sk_full / ours,
                   max_rel_error=float(rel.max()), median_rel_error=float(np.median(rel)),
                   note=f"error vs exact sum on {pick.size} cells > 1% of max")


_WORKER = r"""
import json, sys, time, numpy as np
impl, path, eps, ms, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
xy = np.load(path)
rec = {}
t0 = time.perf_counter()
try:
    if impl == "ours":
        from hotspots.clusters import dbscan_incidents
        labels = dbscan_incidents(xy[:, 0], xy[:, 1], eps=eps, min_samples=ms,
                                  max_memory_mb=%(limit)s).labels
    else:
        from sklearn.cluster import DBSCAN
        model = DBSCAN(eps=eps, min_samples=ms, algorithm="kd_tree").fit(xy)
        labels = model.labels_
        core = np.zeros(labels.size, dtype=bool)
        core[model.core_sample_indices_] = True
        np.save(out + ".core.npy", core)
    rec["seconds"] = time.perf_counter() - t0
    np.save(out, np.asarray(labels))
except Exception as error:  # ClusterMemoryError
    rec["refused"] = f"{type(error).__name__}: {error}"
    rec["seconds"] = time.perf_counter() - t0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        rec["peak_mb"] = int(line.split()[1]) / 1024
print(json.dumps(rec))
""" % {"limit": _OURS_LIMIT_MB}


def _run_worker(impl: str, path: Path, eps: float, min_samples: int, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _WORKER, impl, str(path), str(eps),
                           str(min_samples), str(out)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two label arrays define the same clusters and the same noise."""
    if a.shape != b.shape or not np.array_equal(a < 0, b < 0):
        return False
    keep = a >= 0
    pairs = np.unique(np.column_stack([a[keep], b[keep]]), axis=0)
    return pairs.shape[0] == np.unique(a[keep]).size == np.unique(b[keep]).size


def _moved_border(a: np.ndarray, b: np.ndarray, core: np.ndarray) -> int:
    """Non-core incidents whose cluster differs once core clusters are matched."""
    mapping = dict(zip(b[core].tolist(), a[core].tolist()))
    mapped = np.array([mapping.get(v, -2) if v >= 0 else -1 for v in b.tolist()])
    return int(np.count_nonzero(mapped != a))


def bench_dbscan(x, y, n: int, eps: float, *, kind: str, min_samples: int = 50,
                 seed: int = 0) -> list[dict]:
    """Time and peak memory of our DBSCAN and plain DBSCAN (subprocesses)."""
    from sklearn.neighbors import KDTree

    from hotspots.clusters import BYTES_PER_NEIGHBOUR_PAIR

    sx, sy = synthetic_points(x, y, n, jitter=0.0 if kind == "repeated" else 30.0, seed=seed)
    params = f"eps {eps:g} m, min_samples {min_samples}, {kind} locations"
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xy.npy"
        np.save(path, np.column_stack([sx, sy]))
        ours = _run_worker("ours", path, eps, min_samples, Path(tmp) / "ours.npy")
        # Plain DBSCAN memory prediction: neighbour pairs among all incidents.
        uniq, inv, counts = np.unique(np.column_stack([sx, sy]), axis=0, return_inverse=True,
                                      return_counts=True)
        tree = KDTree(uniq)
        nb = tree.query_radius(uniq, r=eps)
        pairs_all = int(sum(int(counts[i] * counts[nbr].sum()) for i, nbr in enumerate(nb)))
        predicted_plain = pairs_all * BYTES_PER_NEIGHBOUR_PAIR / 2**20
        if predicted_plain > _PLAIN_LIMIT_MB:
            plain = {"skipped": f"plain DBSCAN predicted {predicted_plain:,.0f} MB > "
                                f"{_PLAIN_LIMIT_MB:,.0f} MB: not run"}
        else:
            plain = _run_worker("plain", path, eps, min_samples, Path(tmp) / "plain.npy")
        same = None
        if (Path(tmp) / "ours.npy").exists() and (Path(tmp) / "plain.npy").exists():
            a = np.load(Path(tmp) / "ours.npy")
            b = np.load(Path(tmp) / "plain.npy")
            core = np.load(Path(tmp) / "plain.npy.core.npy")
            same = same_partition(a, b)
            if not same:
                same_core = np.array_equal(a < 0, b < 0) and same_partition(a[core], b[core])
                moved = _moved_border(a, b, core)
                same = (f"same noise and same clusters of core incidents; {moved} border "
                        "incident(s) in another adjacent cluster (DBSCAN assigns a border "
                        "point reachable from two clusters to the first expanded)"
                        if same_core else "PARTITIONS DIFFER")
    note = []
    if "refused" in ours:
        note.append("refused: " + ours["refused"])
    if "error" in ours:
        note.append("error: " + ours["error"])
    if "skipped" in plain:
        note.append(plain["skipped"])
    if "error" in plain:
        note.append("plain error: " + plain["error"])
    if same is not None:
        note.append("identical partitions" if same is True else str(same))
    note.append(f"plain predicted {predicted_plain:,.0f} MB")
    rec = _record("dbscan", n, params, ours.get("seconds"), peak_mb=ours.get("peak_mb"),
                  baseline="sklearn DBSCAN on every incident",
                  baseline_seconds=plain.get("seconds"),
                  ratio=(plain["seconds"] / ours["seconds"]
                         if "seconds" in plain and ours.get("seconds") and "refused" not in ours
                         else None),
                  note="; ".join(note))
    rec["baseline_peak_mb"] = plain.get("peak_mb")
    out.append(rec)
    return out


def bench_gi(inc, lsoas, *, area_code: str | None, cell_size: float) -> list[dict]:
    """Gi* with 999 permutations on LSOAs (Queen) and on a square grid (Queen)."""
    from hotspots.getis_ord import gi_star_grid, gi_star_lsoas
    from hotspots.pipeline import area_lsoas, study_area

    sub = inc if area_code is None else inc[inc["lad_code"] == area_code]
    la = area_lsoas(lsoas, area_code)
    where = "Humber" if area_code is None else area_code
    t0 = time.perf_counter()
    res = gi_star_lsoas(sub, la, permutations=999, seed=0)
    t_lsoa = time.perf_counter() - t0
    recs = [_record("gi_star", len(sub), f"{len(la)} LSOAs ({where}), Queen, 999 perms", t_lsoa,
                    note=f"{int((res['gi_class'] != 'not significant').sum())} significant")]
    t0 = time.perf_counter()
    res = gi_star_grid(sub, study_area(lsoas, area_code), cell_size=cell_size, permutations=999,
                       seed=0)
    t_grid = time.perf_counter() - t0
    recs.append(_record("gi_star", len(sub),
                        f"{len(res):,} cells of {cell_size:g} m ({where}), Queen, 999 perms",
                        t_grid,
                        note=f"{int((res['gi_class'] != 'not significant').sum())} significant"))
    return recs


def bench_emerging(x, y, lsoas, *, months: int = 36, per_month: int = 2500,
                   cell_size: float = 500.0, seed: int = 0) -> dict:
    """Emerging hot spots on a cube of `months` months x the whole Humber."""
    import pandas as pd

    from hotspots.emerging import emerging_hotspots
    from hotspots.pipeline import study_area

    area = study_area(lsoas, None)
    n = months * per_month
    sx, sy = synthetic_points(x, y, n, jitter=0.0, seed=seed)
    labels = [f"{2021 + k // 12}-{k % 12 + 1:02d}" for k in range(months)]
    frame = pd.DataFrame({"x": sx, "y": sy, "month": np.repeat(labels, per_month)})
    t0 = time.perf_counter()
    result = emerging_hotspots(frame, area, months=labels, cell_size=cell_size)
    seconds = time.perf_counter() - t0
    cells = int(result.mask.sum()) if result.enough else 0
    found = {k: v for k, v in result.category_counts().items() if v and k != "no pattern"}
    return _record("emerging", n, f"{months} months x {cells:,} cells of {cell_size:g} m "
                                  f"(Humber), Gi* queen + 1 month, FDR, Mann-Kendall", seconds,
                   note=f"{sum(found.values()):,} cells with a pattern")


def run(quick: bool = False) -> list[dict]:
    """Run every benchmark and return the records."""
    x, y, lsoas, inc = _load()
    bounds = tuple(float(v) for v in lsoas.total_bounds)
    records = []
    for n in ((10_000, 50_000) if quick else (10_000, 50_000, 200_000)):
        records.append(bench_kde(x, y, bounds, n, sample_cells=400 if quick else 2000))
    n_db = 50_000 if quick else 200_000
    for kind in ("repeated", "unique"):
        for eps in ((250.0, 500.0) if quick else (100.0, 250.0, 500.0)):
            records += bench_dbscan(x, y, n_db, eps, kind=kind)
    records += bench_gi(inc, lsoas, area_code="E06000010" if quick else None, cell_size=250.0)
    records.append(bench_emerging(x, y, lsoas))
    return records


def _fmt(v, spec="{:.3g}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return spec.format(v) if isinstance(v, (int, float)) else str(v)


def format_table(records: list[dict]) -> str:
    """Plain-text table of the records."""
    head = ["benchmark", "n", "params", "seconds", "peak_mb", "baseline_s", "ratio",
            "max_err", "med_err", "note"]
    rows = [[r["benchmark"], f"{r['n']:,}", r["params"], _fmt(r["seconds"]),
             _fmt(r["peak_mb"], "{:.0f}"), _fmt(r["baseline_seconds"]), _fmt(r["ratio"], "{:.0f}x"),
             _fmt(r["max_rel_error"], "{:.2%}"), _fmt(r["median_rel_error"], "{:.3%}"),
             (r["note"] + (f"; plain peak {r['baseline_peak_mb']:.0f} MB"
                           if r.get("baseline_peak_mb") else ""))] for r in records]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    widths[-1] = 0
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Entry point of ``python -m hotspots.bench``."""
    p = argparse.ArgumentParser(prog="python -m hotspots.bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller N (about a minute)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    args = p.parse_args(argv)
    records = run(quick=args.quick)
    if args.format == "json":
        print(json.dumps(records, indent=1))
    else:
        print(format_table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
