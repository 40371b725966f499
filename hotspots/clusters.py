"""DBSCAN clustering of incidents that share anonymised map points.

police.uk snaps every incident to one of a fixed set of anonymous map
points, so many incidents share identical coordinates.  DBSCAN is run on
the **unique** locations with their incident counts as ``sample_weight``;
this gives the same clusters as DBSCAN on every incident (a location is a
core point when the incidents within ``eps`` - its own included - number at
least ``min_samples``) at a fraction of the memory, because the neighbour
lists DBSCAN materialises grow with the square of the number of points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.neighbors import KDTree, NearestNeighbors

from geodata.crs import BNG
from hotspots._validation import as_coordinates, check_float, check_int, check_option

__all__ = [
    "BYTES_PER_NEIGHBOUR_PAIR",
    "ClusterMemoryError",
    "ClusterResult",
    "auto_eps",
    "auto_min_samples",
    "cluster_outlines",
    "dbscan_incidents",
    "estimate_dbscan_memory_mb",
    "estimate_neighbour_pairs",
]

CRS = BNG

#: Bytes of peak memory per neighbour pair DBSCAN materialises: an int64
#: index in the neighbourhood arrays plus temporary buffers of the tree query.
#: Measured about 12 bytes per pair with scikit-learn 1.9 (plain DBSCAN on
#: 200k incidents, 307 million pairs, peak RSS +3.5 GB); rounded up to 16.
BYTES_PER_NEIGHBOUR_PAIR: int = 16

#: Upper cap of :func:`auto_min_samples`.
MAX_AUTO_MIN_SAMPLES: int = 50


class ClusterMemoryError(ValueError):
    """DBSCAN would need more memory than allowed for the chosen ``eps``.

    The message gives the predicted memory in MB and a smaller ``eps`` that
    fits; the same numbers are available as attributes.

    Attributes
    ----------
    predicted_mb : float
        Predicted peak memory of DBSCAN at the requested ``eps``, MB.
    max_memory_mb : float
        The allowed memory, MB.
    eps : float
        The requested neighbourhood radius, metres.
    suggested_eps : float or None
        A smaller radius in metres whose prediction fits, or ``None`` if
        none does.
    """

    def __init__(
        self,
        message: str,
        *,
        predicted_mb: float,
        max_memory_mb: float,
        eps: float,
        suggested_eps: float | None,
    ):
        super().__init__(message)
        self.predicted_mb = predicted_mb
        self.max_memory_mb = max_memory_mb
        self.eps = eps
        self.suggested_eps = suggested_eps


@dataclass(frozen=True)
class ClusterResult:
    """Result of :func:`dbscan_incidents`.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (n,)
        Cluster of each incident: -1 for noise, clusters ``0..k-1`` ranked
        by incident count (0 = most incidents; ties by first location in
        lexicographic (x, y) order).
    eps : float
        Neighbourhood radius used, metres.
    min_samples : int
        Minimum incidents within ``eps`` (own location included) for a core point.
    n_clusters : int
        Number of clusters ``k``.
    n_noise : int
        Number of incidents labelled -1.
    n_unique_locations : int
        Number of distinct (x, y) locations clustered.
    """

    labels: np.ndarray
    eps: float
    min_samples: int
    n_clusters: int
    n_noise: int
    n_unique_locations: int


def _unique_locations(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (x, y) rows in order of first occurrence, the inverse mapping and counts.

    First-occurrence order makes DBSCAN on the unique locations discover clusters in the same
    order as DBSCAN on every incident (co-located incidents share their core status), so a
    border incident reachable from two clusters joins the same one in both: identical labels.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # One hash of each (x, y) pair held exactly as a complex number; pandas numbers the
    # distinct values in order of first occurrence (a sort of the pairs took 6 times longer).
    codes, distinct = pd.factorize(x + 1j * y)
    codes = codes.astype(np.int64)
    uniq = np.column_stack([distinct.real, distinct.imag])
    return uniq, codes, np.bincount(codes, minlength=distinct.size).astype(np.int64)


def auto_min_samples(n: int) -> int:
    """Default DBSCAN ``min_samples`` for ``n`` incidents.

    Heuristic: ``max(5, min(50, ceil(sqrt(n) / 2)))``.  It grows slowly with
    the data so that a year of a force area's violence (tens of thousands of
    incidents) needs a few dozen incidents within ``eps`` to seed a cluster,
    while small selections still need at least 5.

    Parameters
    ----------
    n : int
        Number of incidents, >= 0.

    Returns
    -------
    int
        ``min_samples`` in [5, 50].
    """
    n = check_int(n, "n", "auto_min_samples", low=0)
    return int(max(5, min(MAX_AUTO_MIN_SAMPLES, math.ceil(math.sqrt(n) / 2))))


def _knee(values: np.ndarray) -> float:
    """Knee of an ascending curve: the point farthest below its chord."""
    m = values.size
    if m == 0:
        return math.nan
    if m < 3 or values[-1] == values[0]:
        return float(values[-1])
    t = np.linspace(0.0, 1.0, m)
    v = (values - values[0]) / (values[-1] - values[0])
    return float(values[int(np.argmax(t - v))])


def _k_distances(uniq: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Distance from each unique location to its k-th nearest incident.

    Incidents are counted by multiplicity, the location itself included, so
    a location holding >= k incidents has distance 0.  ``inf`` when fewer
    than ``k`` incidents exist in total.
    """
    m = uniq.shape[0]
    out = np.full(m, np.inf)
    if m == 0:
        return out
    tree = cKDTree(uniq)
    # Locations hold several incidents each, so the k-th incident is usually among far
    # fewer than k locations: ask for about twice the locations the average count needs,
    # then the full k only for the locations not reached (a query's cost grows with its k:
    # 41 ms for the Humber's 7,400 locations at k = 50, 29 ms in two steps). The distance
    # at which the count reaches k does not depend on the order of equidistant
    # neighbours, so both steps give the one-step distances (tested).
    q_full = min(k, m)
    q_first = min(q_full, max(8, math.ceil(2 * k / float(counts.mean()))))
    todo = np.arange(m)
    for q in dict.fromkeys((q_first, q_full)):
        dist, ind = tree.query(uniq[todo], k=q)
        dist, ind = dist.reshape(todo.size, q), ind.reshape(todo.size, q)  # k=1: 1-d
        cum = np.cumsum(counts[ind], axis=1)
        reached = cum[:, -1] >= k
        first = np.argmax(cum >= k, axis=1)
        out[todo[reached]] = dist[np.flatnonzero(reached), first[reached]]
        todo = todo[~reached]
        if todo.size == 0:
            break
    return out


#: Default share of incidents whose k-neighbourhood must fit within the automatic eps.
AUTO_EPS_QUANTILE: float = 0.10
#: Default bounds of the automatic eps, metres.
AUTO_EPS_LOWER: float = 50.0
AUTO_EPS_UPPER: float = 1000.0

EPS_METHODS: tuple[str, ...] = ("quantile", "knee")


def auto_eps(x, y, *, min_samples: int, method: str = "quantile",
             quantile: float = AUTO_EPS_QUANTILE, lower: float = AUTO_EPS_LOWER,
             upper: float = AUTO_EPS_UPPER) -> float:
    """DBSCAN ``eps`` from the distribution of k-nearest-neighbour distances.

    For each incident the distance to its ``min_samples``-th nearest incident (itself and
    incidents at the same location included, so a location holding ``min_samples``
    incidents has distance 0) is computed. Two rules turn these k-distances into an eps:

    - ``"quantile"`` (default, the hotspot reading of DBSCAN): the ``quantile`` of the
      k-distances, so that about that share of incidents are core points; clusters are
      then the places where incidents concentrate most, not whole towns. On three months
      of Humber serious violence, ``quantile=0.10`` gives 6 to 11 clusters per CSP
      holding 14-19% of incidents, with eps between 127 m and 187 m.
    - ``"knee"``: the knee of the sorted k-distance curve (the point farthest below the
      chord from the first to the last value, on axes scaled to [0, 1]), the classic
      heuristic of Ester et al. (1996). Distances are capped at ``upper`` first so that a
      long rural tail does not drag the knee out. In a dense city it links whole
      districts into one cluster (Hull, 2024-01..03: 522 m).

    The result is clipped to ``[lower, upper]``.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).
    min_samples : int
        ``k`` of the k-distances, >= 1 (the DBSCAN ``min_samples``).
    method : {"quantile", "knee"}, default "quantile"
        How the k-distances become eps (see above).
    quantile : float, default 0.10
        Share of incidents in (0, 1) used by ``method="quantile"``.
    lower : float, default 50.0
        Smallest eps returned, metres, > 0.
    upper : float, default 1000.0
        Largest eps returned, metres, >= ``lower``.

    Returns
    -------
    float
        eps in metres.  ``upper`` when there are fewer than ``min_samples``
        incidents (no cluster is possible at any radius).

    References
    ----------
    Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based algorithm for
    discovering clusters in large spatial databases with noise. KDD-96, 226-231.
    """
    func = "auto_eps"
    xa, ya = as_coordinates(x, y, func)
    min_samples = check_int(min_samples, "min_samples", func, low=1)
    method = check_option(method, "method", func, EPS_METHODS)
    quantile = check_float(quantile, "quantile", func, low=0.0, high=1.0)
    lower = check_float(lower, "lower", func, low=0.0)
    upper = check_float(upper, "upper", func, low=0.0)
    if upper < lower:
        raise ValueError(
            f"The 'upper' parameter of {func} must be >= 'lower' ({lower:g}). "
            f"Got {upper:g} instead."
        )
    uniq, _, counts = _unique_locations(xa, ya)
    return _eps_of_locations(uniq, counts, min_samples=min_samples, method=method,
                             quantile=quantile, lower=lower, upper=upper)


def _eps_of_locations(uniq: np.ndarray, counts: np.ndarray, *, min_samples: int,
                      method: str = "quantile", quantile: float = AUTO_EPS_QUANTILE,
                      lower: float = AUTO_EPS_LOWER, upper: float = AUTO_EPS_UPPER) -> float:
    """:func:`auto_eps` of validated incidents given as their unique locations and counts."""
    if counts.sum() < min_samples:
        return upper  # no cluster is possible at any radius
    kd = _k_distances(uniq, counts, min_samples)
    # Distances beyond `upper` can never be chosen: capping them keeps a long
    # rural / out-of-area tail from dragging the knee to large values.
    curve = np.minimum(np.sort(np.repeat(kd, counts)), upper)
    if method == "quantile":
        chosen = float(np.quantile(curve, quantile))
    else:
        chosen = _knee(curve)
    if not math.isfinite(chosen):
        return upper
    return float(min(max(chosen, lower), upper))


def _count_pairs(uniq: np.ndarray, eps: float, tree: KDTree | None = None) -> int:
    if uniq.shape[0] == 0:
        return 0
    tree = KDTree(uniq) if tree is None else tree
    return int(tree.query_radius(uniq, r=eps, count_only=True).sum())


def _pairs_upper_bound(uniq: np.ndarray, eps: float) -> int:
    """At least :func:`_count_pairs`, in a millisecond: locations binned into ``eps``-sided
    squares, each paired with every location of the 3 x 3 squares around its own (a pair
    within ``eps`` never lies farther apart than neighbouring squares)."""
    if uniq.shape[0] == 0:
        return 0
    side = eps * (1 + 1e-9)  # a hair wider: rounding cannot put a pair two squares apart
    span = (uniq.max(axis=0) - uniq.min(axis=0)) / side
    if span.max() > 1e6:  # a tiny eps over a wide area: no cheap bound
        return uniq.shape[0] ** 2
    cells = np.floor((uniq - uniq.min(axis=0)) / side).astype(np.int64)
    height = int(cells[:, 1].max()) + 3          # room for the -1 and +1 neighbours
    keys, per_cell = np.unique((cells[:, 0] + 1) * height + cells[:, 1] + 1,
                               return_counts=True)
    around = np.zeros(keys.size, dtype=np.int64)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            other = keys + dx * height + dy
            at = np.minimum(np.searchsorted(keys, other), keys.size - 1)
            around += np.where(keys[at] == other, per_cell[at], 0)
    return int((per_cell * around).sum())


def estimate_neighbour_pairs(x, y, *, eps: float) -> int:
    """Number of neighbour pairs DBSCAN will materialise.

    Counts ordered pairs ``(i, j)`` of **unique** locations within ``eps``
    of each other, each location paired with itself included - the total
    length of the neighbourhood lists that :func:`dbscan_incidents` builds.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).
    eps : float
        Neighbourhood radius, metres, > 0.

    Returns
    -------
    int
        Number of ordered pairs, ``>= n_unique_locations``.
    """
    func = "estimate_neighbour_pairs"
    xa, ya = as_coordinates(x, y, func)
    eps = check_float(eps, "eps", func, low=0.0)
    uniq, _, _ = _unique_locations(xa, ya)
    return _count_pairs(uniq, eps)


def estimate_dbscan_memory_mb(n_pairs: int) -> float:
    """Predicted peak memory of DBSCAN's neighbourhood lists.

    Parameters
    ----------
    n_pairs : int
        Neighbour pairs from :func:`estimate_neighbour_pairs`, >= 0.

    Returns
    -------
    float
        Megabytes (2**20 bytes): ``n_pairs * BYTES_PER_NEIGHBOUR_PAIR / 2**20``.
    """
    n_pairs = check_int(n_pairs, "n_pairs", "estimate_dbscan_memory_mb", low=0)
    return n_pairs * BYTES_PER_NEIGHBOUR_PAIR / 2**20


#: Above this many unique locations, pair counts for the eps search are estimated from a
#: random sample of locations (exact counting at a large eps takes tens of seconds).
SAMPLE_ABOVE = 20_000
SAMPLE_SIZE = 5_000


def _sampled_pairs(uniq: np.ndarray, eps: float, tree: KDTree) -> float:
    """Estimated neighbour pairs: mean neighbours of a seeded sample × unique locations."""
    rng = np.random.default_rng(0)
    sample = uniq[rng.choice(uniq.shape[0], size=SAMPLE_SIZE, replace=False)]
    return float(tree.query_radius(sample, r=eps, count_only=True).mean() * uniq.shape[0])


def _suggest_eps(uniq: np.ndarray, tree: KDTree, eps: float, max_memory_mb: float) -> float | None:
    """Largest eps (found by halving then bisection) whose prediction fits.

    For many locations the search uses sampled estimates with a 10% margin, and only the
    final suggestion is checked with an exact count.
    """
    sampled = uniq.shape[0] > SAMPLE_ABOVE

    def fits(e: float, exact: bool = not sampled) -> bool:
        pairs = _count_pairs(uniq, e, tree) if exact else 1.1 * _sampled_pairs(uniq, e, tree)
        return estimate_dbscan_memory_mb(int(pairs)) <= max_memory_mb

    if estimate_dbscan_memory_mb(uniq.shape[0]) > max_memory_mb:
        return None  # even eps -> 0 (self pairs only) does not fit
    hi, lo = eps, eps / 2.0
    while not fits(lo):
        hi, lo = lo, lo / 2.0
        if lo < 1e-3:
            return None
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if fits(mid):
            lo = mid
        else:
            hi = mid
    # Round down to a readable value (whole metres when possible).
    nice = math.floor(lo) if lo >= 2 else math.floor(lo * 100) / 100
    chosen = float(nice) if nice > 0 and fits(nice) else float(lo)
    while sampled and not fits(chosen, exact=True) and chosen > 1e-3:
        chosen = math.floor(chosen * 0.9 * 100) / 100  # the estimate was optimistic
    return chosen


def _dbscan_labels(uniq: np.ndarray, counts: np.ndarray, *, eps: float,
                   min_samples: int) -> np.ndarray:
    """``DBSCAN(eps, min_samples, algorithm="kd_tree").fit(uniq, sample_weight=counts)``'s
    labels, the same neighbourhoods walked in the same order.

    scikit-learn sums each location's neighbour weights in a Python loop (50 ms for the
    Humber's 7,400 locations); here one ``np.add.reduceat`` does it (the counts are whole
    numbers, so the sums are exact either way) before scikit-learn's own inner loop
    labels the clusters. Falls back to ``DBSCAN`` if that loop is not found (it is
    private to scikit-learn, whose version is pinned).
    """
    try:
        from sklearn.cluster._dbscan_inner import dbscan_inner
    except ImportError:  # pragma: no cover - a scikit-learn without it
        return DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(
            uniq, sample_weight=counts.astype(np.float64)).labels_
    neighborhoods = NearestNeighbors(radius=eps, algorithm="kd_tree").fit(uniq) \
        .radius_neighbors(uniq, return_distance=False)
    lengths = np.fromiter((len(n) for n in neighborhoods), dtype=np.intp,
                          count=len(neighborhoods))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    # every location is its own neighbour, so no neighbourhood is empty (and there is at
    # least one location: dbscan_incidents returns before for no incidents)
    weight = np.add.reduceat(counts.astype(np.float64)[np.concatenate(neighborhoods)], starts)
    labels = np.full(uniq.shape[0], -1, dtype=np.intp)
    dbscan_inner(np.asarray(weight >= min_samples, dtype=np.uint8), neighborhoods, labels)
    return labels


def dbscan_incidents(
    x,
    y,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    max_memory_mb: float = 1024.0,
) -> ClusterResult:
    """DBSCAN clusters of incidents, computed on their unique locations.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).  Repeated
        coordinates (police.uk map points) are expected.
    eps : float, optional
        Neighbourhood radius in metres, > 0.  Default :func:`auto_eps`.
    min_samples : int, optional
        Incidents within ``eps`` (own location included) needed for a core
        point, >= 1.  Default :func:`auto_min_samples` of ``n``.
    max_memory_mb : float, default 1024.0
        Memory budget for DBSCAN's neighbour lists, MB (> 0).

    Returns
    -------
    ClusterResult
        Labels per incident (-1 noise, clusters ranked by size) and the
        parameters used.  The clustering equals ``DBSCAN(eps,
        min_samples).fit(xy)`` on all incidents up to renumbering, border
        points reachable from two clusters included (see ``_unique_locations``).

    Raises
    ------
    ClusterMemoryError
        If the predicted memory (:func:`estimate_dbscan_memory_mb`) exceeds
        ``max_memory_mb``; the message names a smaller eps that fits.
    """
    func = "dbscan_incidents"
    xa, ya = as_coordinates(x, y, func)
    if eps is not None:
        eps = check_float(eps, "eps", func, low=0.0)
    if min_samples is not None:
        min_samples = check_int(min_samples, "min_samples", func, low=1)
    max_memory_mb = check_float(max_memory_mb, "max_memory_mb", func, low=0.0)

    n = xa.size
    if min_samples is None:
        min_samples = auto_min_samples(n)
    uniq, inverse, counts = _unique_locations(xa, ya)
    if eps is None:  # auto_eps, from the unique locations found once
        eps = _eps_of_locations(uniq, counts, min_samples=min_samples)
    if n == 0:
        return ClusterResult(
            labels=np.zeros(0, dtype=np.int64), eps=eps, min_samples=min_samples,
            n_clusters=0, n_noise=0, n_unique_locations=0,
        )

    if estimate_dbscan_memory_mb(uniq.shape[0] ** 2) <= max_memory_mb or \
            estimate_dbscan_memory_mb(_pairs_upper_bound(uniq, eps)) <= max_memory_mb:
        n_pairs = 0  # even an upper bound of the pairs fits: no need to count them
    else:
        tree = KDTree(uniq)
        sampled = int(_sampled_pairs(uniq, eps, tree)) if uniq.shape[0] > SAMPLE_ABOVE else 0
        if estimate_dbscan_memory_mb(sampled) > 2 * max_memory_mb:
            n_pairs = sampled  # far over budget: no exact count
        else:
            n_pairs = _count_pairs(uniq, eps, tree)
    predicted = estimate_dbscan_memory_mb(n_pairs)
    if predicted > max_memory_mb:
        suggestion = _suggest_eps(uniq, tree, eps, max_memory_mb)
        hint = (
            f"Use eps={suggestion:g} m or less, or raise max_memory_mb."
            if suggestion is not None
            else "No eps fits: raise max_memory_mb or cluster fewer incidents."
        )
        raise ClusterMemoryError(
            f"DBSCAN with eps={eps:g} m on {uniq.shape[0]:,} unique locations would build "
            f"{n_pairs:,} neighbour pairs, about {predicted:,.0f} MB, more than "
            f"max_memory_mb={max_memory_mb:g} MB. {hint}",
            predicted_mb=predicted, max_memory_mb=max_memory_mb, eps=eps, suggested_eps=suggestion,
        )

    raw = _dbscan_labels(uniq, counts, eps=eps, min_samples=min_samples)
    per_incident = raw[inverse]

    # Rank clusters by incident count (descending); ties by original label,
    # i.e. by the cluster's first location in lexicographic (x, y) order.
    k = int(raw.max()) + 1 if raw.size else 0
    labels = np.full(n, -1, dtype=np.int64)
    if k:
        sizes = np.bincount(per_incident[per_incident >= 0], minlength=k)
        order = np.argsort(-sizes, kind="stable")
        rank = np.empty(k, dtype=np.int64)
        rank[order] = np.arange(k)
        clustered = per_incident >= 0
        labels[clustered] = rank[per_incident[clustered]]
    labels.flags.writeable = False
    return ClusterResult(
        labels=labels,
        eps=float(eps),
        min_samples=int(min_samples),
        n_clusters=k,
        n_noise=int(np.count_nonzero(labels < 0)),
        n_unique_locations=int(uniq.shape[0]),
    )


def _as_labels(labels, n: int, func: str) -> np.ndarray:
    msg = (
        f"The 'labels' parameter of {func} must be a 1-D array of integer cluster labels "
        "(-1 = noise)."
    )
    if isinstance(labels, pd.Series):
        dtype = labels.dtype
        if not pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(f"{msg} Got a pandas Series of dtype {labels.dtype} instead.")
        arr = labels.to_numpy(dtype=np.int64)
    else:
        arr = np.asarray(labels)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{msg} Got an array of dtype {arr.dtype} instead.")
        arr = arr.astype(np.int64, copy=False)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{msg} Got shape {arr.shape} for {n} points instead.")
    if np.any(arr < -1):
        raise ValueError(f"{msg} Got labels below -1 instead.")
    return arr


def cluster_outlines(
    x, y, labels, *, ratio: float = 0.3, buffer_m: float = 25.0
) -> gpd.GeoDataFrame:
    """One outline polygon per cluster.

    The outline is the concave hull (``shapely.concave_hull``) of the
    cluster's unique locations, buffered so that clusters of one or two
    locations (a point or a line) still get an area.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).
    labels : array-like of int, shape (n,)
        Cluster label per incident, -1 for noise (e.g.
        ``ClusterResult.labels``).
    ratio : float, default 0.3
        Concave hull ratio in [0, 1]: 0 is the most concave, 1 the convex hull.
    buffer_m : float, default 25.0
        Buffer distance around the hull, metres, > 0.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:27700, columns ``cluster_id`` (the label), ``n_incidents``,
        ``n_locations`` (unique locations), ``area_km2`` and ``geometry``,
        sorted by ``n_incidents`` descending (ties by ``cluster_id``).  Empty
        with those columns when every incident is noise.
    """
    func = "cluster_outlines"
    xa, ya = as_coordinates(x, y, func)
    lab = _as_labels(labels, xa.size, func)
    ratio = check_float(ratio, "ratio", func, low=0.0, high=1.0, low_open=False, high_open=False)
    buffer_m = check_float(buffer_m, "buffer_m", func, low=0.0)

    rows = []
    for cid in np.unique(lab[lab >= 0]):
        sel = lab == cid
        pts = np.unique(np.column_stack([xa[sel], ya[sel]]), axis=0)
        hull = shapely.concave_hull(shapely.multipoints(pts), ratio=ratio)
        geom = shapely.buffer(hull, buffer_m)
        rows.append((int(cid), int(sel.sum()), int(pts.shape[0]), geom.area / 1e6, geom))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return gpd.GeoDataFrame(
        {
            "cluster_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "n_incidents": pd.Series([r[1] for r in rows], dtype="int64"),
            "n_locations": pd.Series([r[2] for r in rows], dtype="int64"),
            "area_km2": pd.Series([r[3] for r in rows], dtype="float64"),
        },
        geometry=gpd.GeoSeries([r[4] for r in rows], crs=CRS),
        crs=CRS,
    )
