"""Did a response work? Before/after evaluation of a place: WDD, WDQ and a plain verdict.

The evaluation half of the tasking cycle (issue 10). A place that was tasked (the *target*
``T``, a polygon) is compared, over equal windows of months before and after the start of the
response, with

* a *buffer* ``D``: the ring of ``buffer_m`` metres (default 250 m) around ``T``, where
  displacement (crime moving round the corner) or a diffusion of benefits would show, clipped
  to the study area when the study area is the union of the Humber LSOAs; and
* a *control* ``C``: by default the rest of the study area outside ``T`` and ``D`` (the union
  of the Humber LSOAs when at least half of ``T`` lies in it, otherwise the convex hull of
  the incidents in the files), which stands for what would have happened anyway.

Months: the ``pre`` months just before ``start`` are "before", ``start`` and the ``post - 1``
months after it are "after". Months absent from the data are gaps, reported and left out;
when the number of months present before and after differ, the after counts are scaled to
the before length (their Poisson variance by the square of the factor).

Statistics (counts ``T0, T1`` before/after in the target, ``D0, D1`` in the buffer,
``C0, C1`` in the control):

* **Weighted Displacement Difference** (Wheeler & Ratcliffe 2018), a difference-in-
  differences of raw counts, ``WDD = (T1 - T0) - (C1 - C0) + (D1 - D0) - (Cd1 - Cd0)`` with
  ``Cd`` the control of the displacement area. The paper's variance,
  ``T0 + T1 + C0 + C1 + D0 + D1 + Cd0 + Cd1``, assumes the four areas are independent
  Poisson counts. Here one control serves both terms unless a separate one is given, so
  ``WDD = dT + dD - 2 dC`` and its Poisson variance is ``T0 + T1 + D0 + D1 + 4 (C0 + C1)``
  (the same counts enter twice, so their variance enters four times); with a separate
  displacement control the paper's variance is used as printed. Negative WDD = fewer
  incidents than the control predicts (a reduction). Also the target-only difference
  ``dT - dC`` with variance ``T0 + T1 + C0 + C1``.
* **Weighted Displacement Quotient** (Bowers & Johnson 2003),
  ``WDQ = (D1/C1 - D0/C0) / (T1/C1 - T0/C0)``, only when the denominator shows a treatment
  effect (< 0) and all six counts are > 0; otherwise None with the reason.

Nothing here touches the incident store: the command line reads police.uk files.

References
----------
Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science* 7(1), 11.

Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical displacement and diffusion
of benefit effects of crime prevention activity. *Journal of Quantitative Criminology* 19(3),
275-301.

Guerette, R. T. & Bowers, K. J. (2009). Assessing the extent of crime displacement and
diffusion of benefits: a review of situational crime prevention evaluations. *Criminology*
47(4), 1331-1368.

Barnett, A. G., van der Pols, J. C. & Dobson, A. J. (2005). Regression to the mean: what it is
and how to deal with it. *International Journal of Epidemiology* 34(1), 215-220.

Usage::

    python -m hotspots.responses evaluate --incidents FILE... --target GEOJSON --start YYYY-MM
        [--pre N] [--post N] [--buffer METRES] [--crime-group NAME] [--control GEOJSON]
        [--format table|json]

``list`` and ``add`` (a store of responses) are not built yet: they exit 2 with "not
available yet: the responses store is not built". Bad input (no month before the start in the
data, an empty, invalid or non-GeoJSON polygon, unknown crime group, unreadable files) exits 2
with a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from hotspots._validation import check_float, check_int

__all__ = ["Areas", "ResponseEvaluation", "WDDResult", "WDQResult", "evaluate_monthly",
           "monthly_counts", "period_months", "read_target", "response_areas", "verdict_text",
           "wdd", "wdq"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: Fewer target incidents than this (before + after) are too few to tell anything.
MIN_TARGET_INCIDENTS = 20
#: A control with more than this many times the target's "before" incidents dominates the WDD.
CONTROL_DOMINATES = 5
#: Buffer rings are drawn with this many segments per quarter circle.
QUAD_SEGS = 16
NOT_BUILT = "not available yet: the responses store is not built"


# ------------------------------------------------------------------------------ months
def _check_month(value, name: str, func: str) -> str:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValueError(f"The {name!r} parameter of {func} must be a month 'YYYY-MM'. Got "
                         f"{value!r} instead.")
    return value


def _shift(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_months(start: str, pre: int = 3, post: int = 3) -> tuple[list[str], list[str]]:
    """The months before and after the start of a response.

    Parameters
    ----------
    start : str
        First month of the response, ``YYYY-MM``; it counts as "after".
    pre, post : int, default 3
        Months before (>= 1) and after (>= 1, the start included).

    Returns
    -------
    before, after : list of str
        ``start - pre … start - 1`` and ``start … start + post - 1``, oldest first.
    """
    func = "period_months"
    start = _check_month(start, "start", func)
    pre = check_int(pre, "pre", func, low=1)
    post = check_int(post, "post", func, low=1)
    return ([_shift(start, k) for k in range(-pre, 0)],
            [_shift(start, k) for k in range(post)])


# ------------------------------------------------------------------------------ statistics
def _count(value, name: str, func: str) -> float:
    return check_float(value, name, func, low=0.0, low_open=False)


def _p_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(frozen=True)
class WDDResult:
    """A Weighted Displacement Difference and its normal test.

    Attributes
    ----------
    wdd : float
        Net change in incidents relative to the control (negative = reduction).
    variance, se : float
        Poisson variance and its square root.
    z, p : float or None
        ``wdd / se`` and the two-sided p-value (None when ``se`` is 0).
    ci_low, ci_high : float
        95% interval ``wdd ± 1.96 se``.
    """

    wdd: float
    variance: float
    se: float
    z: float | None
    p: float | None
    ci_low: float
    ci_high: float


def _test(value: float, variance: float) -> WDDResult:
    se = math.sqrt(variance)
    z = value / se if se > 0 else None
    return WDDResult(wdd=value, variance=variance, se=se, z=z,
                     p=None if z is None else _p_two_sided(z),
                     ci_low=value - Z95 * se, ci_high=value + Z95 * se)


def wdd(t0, t1, c0, c1, d0=0, d1=0, cd0=None, cd1=None, *, scale: float = 1.0) -> WDDResult:
    """Weighted Displacement Difference test (Wheeler & Ratcliffe 2018).

    Parameters
    ----------
    t0, t1 : float
        Incidents in the target before and after.
    c0, c1 : float
        Incidents in the control area before and after.
    d0, d1 : float, default 0
        Incidents in the displacement buffer before and after (0, 0: target only).
    cd0, cd1 : float, optional
        Incidents in a separate control for the buffer. Default: the target's control
        ``c0, c1`` is used for both terms.
    scale : float, default 1.0
        Factor applied to every "after" count (months before / months after, when the
        windows differ in length); their variances are multiplied by ``scale ** 2``.

    Returns
    -------
    WDDResult
        ``WDD = (T1 - T0) - (C1 - C0) + (D1 - D0) - (Cd1 - Cd0)`` (after counts scaled).
        With a separate displacement control the variance is the paper's
        ``T0 + T1 + C0 + C1 + D0 + D1 + Cd0 + Cd1`` (``scale**2`` on the after counts).
        With the shared control ``WDD = dT + dD - 2 dC`` and the variance is
        ``T0 + T1 + D0 + D1 + 4 (C0 + C1)``: the same Poisson counts enter twice.

    References
    ----------
    Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement difference test
    to evaluate place based crime interventions. *Crime Science* 7(1), 11.
    """
    func = "wdd"
    t0, t1, c0, c1, d0, d1 = (_count(v, n, func) for v, n in
                              ((t0, "t0"), (t1, "t1"), (c0, "c0"), (c1, "c1"), (d0, "d0"),
                               (d1, "d1")))
    scale = check_float(scale, "scale", func, low=0.0)
    if (cd0 is None) != (cd1 is None):
        raise ValueError(f"The 'cd0' and 'cd1' parameters of {func} must be given together. "
                         f"Got cd0={cd0!r} and cd1={cd1!r} instead.")
    s2 = scale * scale
    if cd0 is None:
        value = (scale * t1 - t0) + (scale * d1 - d0) - 2.0 * (scale * c1 - c0)
        variance = t0 + s2 * t1 + d0 + s2 * d1 + 4.0 * (c0 + s2 * c1)
    else:
        cd0, cd1 = _count(cd0, "cd0", func), _count(cd1, "cd1", func)
        value = ((scale * t1 - t0) - (scale * c1 - c0) + (scale * d1 - d0)
                 - (scale * cd1 - cd0))
        variance = t0 + s2 * t1 + c0 + s2 * c1 + d0 + s2 * d1 + cd0 + s2 * cd1
    return _test(value, variance)


def wdd_target(t0, t1, c0, c1, *, scale: float = 1.0) -> WDDResult:
    """Target-only difference ``(T1 - T0) - (C1 - C0)``, variance ``T0 + T1 + C0 + C1``.

    The Wheeler & Ratcliffe (2018) test without a displacement area (a difference in
    differences of Poisson counts); ``scale`` as in :func:`wdd`.
    """
    func = "wdd_target"
    t0, t1, c0, c1 = (_count(v, n, func) for v, n in
                      ((t0, "t0"), (t1, "t1"), (c0, "c0"), (c1, "c1")))
    scale = check_float(scale, "scale", func, low=0.0)
    s2 = scale * scale
    return _test((scale * t1 - t0) - (scale * c1 - c0), t0 + s2 * t1 + c0 + s2 * c1)


@dataclass(frozen=True)
class WDQResult:
    """A Weighted Displacement Quotient, or why there is none.

    Attributes
    ----------
    wdq : float or None
        ``(D1/C1 - D0/C0) / (T1/C1 - T0/C0)``; None when not meaningful.
    success_measure : float or None
        The denominator ``T1/C1 - T0/C0`` (< 0: the target improved against the control).
    buffer_measure : float or None
        The numerator ``D1/C1 - D0/C0``.
    reason : str
        Why ``wdq`` is None ("" when it is given).
    reading : str
        What the value means, or "" when None.
    """

    wdq: float | None
    success_measure: float | None
    buffer_measure: float | None
    reason: str
    reading: str


def wdq_reading(value: float) -> str:
    """The conventional reading of a WDQ value (Bowers & Johnson 2003)."""
    if value > 1:
        return ("diffusion of benefits greater than the direct effect: the buffer improved "
                "more than the target, relative to the control")
    if value > 0:
        return "diffusion of benefits: the buffer improved too, relative to the control"
    if value == 0:
        return "no displacement and no diffusion of benefits"
    if value >= -1:
        return ("displacement: the buffer worsened relative to the control, by less than the "
                "target improved")
    return ("displacement greater than the direct effect: the buffer worsened by more than "
            "the target improved, a net loss")


def wdq(t0, t1, c0, c1, d0, d1) -> WDQResult:
    """Weighted Displacement Quotient (Bowers & Johnson 2003).

    Parameters
    ----------
    t0, t1, c0, c1, d0, d1 : float
        Incidents before/after in the target, the control and the buffer (>= 0).

    Returns
    -------
    WDQResult
        ``WDQ = (D1/C1 - D0/C0) / (T1/C1 - T0/C0)``, given only when every count is > 0 and
        the success measure ``T1/C1 - T0/C0`` is < 0 (a treatment effect to displace);
        otherwise None with the reason. WDQ > 1: diffusion of benefits greater than the
        direct effect; 0 < WDQ <= 1: diffusion; WDQ < 0: displacement (< -1: more than the
        direct effect). It has no sampling distribution: read it with the WDD test.

    References
    ----------
    Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical displacement and
    diffusion of benefit effects of crime prevention activity. *Journal of Quantitative
    Criminology* 19(3), 275-301.
    """
    func = "wdq"
    counts = {n: _count(v, n, func) for v, n in
              ((t0, "t0"), (t1, "t1"), (c0, "c0"), (c1, "c1"), (d0, "d0"), (d1, "d1"))}
    zero = [n for n, v in counts.items() if v <= 0]
    if zero:
        return WDQResult(None, None, None,
                         f"not computed: the counts {', '.join(zero)} are 0, and the quotient "
                         f"needs incidents in every area and period", "")
    t0, t1, c0, c1, d0, d1 = counts.values()
    success = t1 / c1 - t0 / c0
    buffer = d1 / c1 - d0 / c0
    if success >= 0:
        return WDQResult(None, success, buffer,
                         f"not computed: the target did not improve against the control "
                         f"(T1/C1 - T0/C0 = {success:+.4f} >= 0), so there is no effect to "
                         f"displace", "")
    value = buffer / success
    return WDQResult(value, success, buffer, "", wdq_reading(value))


# ------------------------------------------------------------------------------ geometry
def read_target(path: str | Path, *, what: str = "--target") -> shapely.Geometry:
    """Read a GeoJSON polygon (EPSG:4326) and return it in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        A GeoJSON FeatureCollection, Feature or geometry of Polygon/MultiPolygon type (all
        polygon features are joined). Coordinates are longitude/latitude in degrees (RFC 7946);
        a ``crs`` member other than EPSG:4326/CRS84 is refused.
    what : str, default "--target"
        Name of the input in messages.

    Returns
    -------
    shapely Polygon or MultiPolygon
        In British National Grid metres.

    Raises
    ------
    DataValidationError
        If the file is missing, not JSON, not GeoJSON, holds no polygon, an empty or invalid
        polygon, or coordinates outside Great Britain; the message says what was expected.
    """
    from geodata.crs import BNG, GB_LAT_RANGE, GB_LON_RANGE, WGS84
    from geodata.errors import DataValidationError
    from pyproj import Transformer

    path = Path(path)
    expected = ("expected a GeoJSON Polygon or MultiPolygon (a FeatureCollection, a Feature or "
                "a bare geometry) in longitude/latitude, EPSG:4326")
    if not path.is_file():
        raise DataValidationError(f"{what} {path}: no such file; {expected}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataValidationError(f"{what} {path}: not a GeoJSON file ({error}); "
                                  f"{expected}.") from None
    if not isinstance(data, dict) or "type" not in data:
        raise DataValidationError(f"{what} {path}: {expected}; got JSON without a GeoJSON "
                                  f"'type' member.")
    crs = data.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) \
            else str(crs)
        if not re.search(r"(EPSG:+4326|CRS84)$", name):
            raise DataValidationError(f"{what} {path}: {expected}; got a 'crs' member naming "
                                      f"{name!r}. Export the polygon as EPSG:4326.")
    kind = data["type"]
    if kind == "FeatureCollection":
        features = data.get("features") or []
        geometries = [f.get("geometry") for f in features if isinstance(f, dict)]
    elif kind == "Feature":
        geometries = [data.get("geometry")]
    else:
        geometries = [data]
    polygons = []
    others = set()
    for geometry in geometries:
        if not isinstance(geometry, dict):
            continue
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            others.add(str(geometry.get("type")))
            continue
        try:
            polygons.append(shape(geometry))
        except Exception as error:  # shapely raises several types for malformed coordinates
            raise DataValidationError(f"{what} {path}: malformed {geometry.get('type')} "
                                      f"coordinates ({error}); {expected}.") from None
    if not polygons:
        got = f"geometries of type {sorted(others)}" if others else "no geometry"
        raise DataValidationError(f"{what} {path}: {expected}; got {got}.")
    for polygon in polygons:
        if not polygon.is_valid:
            raise DataValidationError(f"{what} {path}: the polygon is invalid "
                                      f"({explain_validity(polygon)}); expected a simple "
                                      f"polygon whose edges do not cross.")
    merged = shapely.union_all(polygons)
    if merged.is_empty or merged.area == 0:
        raise DataValidationError(f"{what} {path}: the polygon is empty (no area); "
                                  f"{expected} enclosing the place.")
    lon0, lat0, lon1, lat1 = merged.bounds
    if not (GB_LON_RANGE[0] <= lon0 and lon1 <= GB_LON_RANGE[1]
            and GB_LAT_RANGE[0] <= lat0 and lat1 <= GB_LAT_RANGE[1]):
        raise DataValidationError(
            f"{what} {path}: expected longitude in {GB_LON_RANGE} and latitude in "
            f"{GB_LAT_RANGE} (degrees, EPSG:4326, Great Britain); got bounds "
            f"({lon0:g}, {lat0:g}, {lon1:g}, {lat1:g}). British National Grid metres must be "
            f"reprojected to EPSG:4326 first.")
    transformer = Transformer.from_crs(WGS84, BNG, always_xy=True)

    def to_bng(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(merged, to_bng)


@dataclass(frozen=True)
class Areas:
    """Target, buffer ring and control polygons (EPSG:27700) and how they were drawn.

    Attributes
    ----------
    target, buffer, control : shapely geometry
        ``T``, ``D`` and ``C``; disjoint but for their boundaries.
    buffer_m : float
        Width of the buffer ring, metres.
    control_text : str
        How the control was chosen, for the report.
    study_text : str
        What the study area is.
    """

    target: shapely.Geometry
    buffer: shapely.Geometry
    control: shapely.Geometry
    buffer_m: float
    control_text: str
    study_text: str

    def areas_km2(self) -> dict[str, float]:
        """Areas of ``T``, ``D`` and ``C`` in km²."""
        return {"target": self.target.area / 1e6, "buffer": self.buffer.area / 1e6,
                "control": self.control.area / 1e6}


def response_areas(target, *, study_area=None, buffer_m: float = 250.0, control=None,
                   study_text: str = "the study area", clip_buffer: bool = True) -> Areas:
    """Draw the buffer ring and the control around a target.

    Parameters
    ----------
    target : shapely Polygon or MultiPolygon
        The tasked place, EPSG:27700, non-empty.
    study_area : shapely geometry, optional
        The area the data covers. The buffer is clipped to it; the default control is the
        study area outside ``T`` and ``D``. Required unless `control` is given.
    buffer_m : float, default 250.0
        Width of the ring (>= 0 metres; 0: no buffer). Drawn with :data:`QUAD_SEGS` segments
        per quarter circle.
    control : shapely geometry, optional
        A chosen control area; the part inside ``T`` or the ring is removed.
    study_text : str, default "the study area"
        Name of the study area in ``control_text``.
    clip_buffer : bool, default True
        Clip the ring to `study_area` (False when the study area is only the convex hull of
        the incidents, not a real boundary).

    Returns
    -------
    Areas

    Raises
    ------
    ValueError
        If the target is empty, lies outside the study area, or the control is empty.
    """
    func = "response_areas"
    if not isinstance(target, shapely.Geometry) or target.is_empty or target.area <= 0:
        raise ValueError(f"The 'target' parameter of {func} must be a non-empty polygon. Got "
                         f"{getattr(target, 'wkt', repr(target))[:60]} instead.")
    buffer_m = check_float(buffer_m, "buffer_m", func, low=0.0, low_open=False)
    if study_area is None and control is None:
        raise ValueError(f"The 'study_area' parameter of {func} is required when no control "
                         f"is given. Got None instead.")
    if study_area is not None and not target.intersects(study_area):
        raise ValueError(f"The target lies outside {study_text}: expected a place inside the "
                         f"area the incident data covers; got a target whose bounds are "
                         f"{tuple(round(v) for v in target.bounds)} (EPSG:27700).")
    outer = target.buffer(buffer_m, quad_segs=QUAD_SEGS) if buffer_m > 0 else target
    ring = outer.difference(target)
    if study_area is not None and clip_buffer:
        ring = ring.intersection(study_area)
    if control is None:
        control_geom = study_area.difference(outer)
        km2 = control_geom.area / 1e6
        text = f"rest of {study_text} outside target and buffer ({km2:,.1f} km²)"
    else:
        control_geom = control.difference(outer)
        km2 = control_geom.area / 1e6
        text = f"the control polygon given, outside target and buffer ({km2:,.1f} km²)"
    if control_geom.is_empty or control_geom.area <= 0:
        raise ValueError(f"The control area is empty: expected some of {study_text} (or of the "
                         f"control given) outside the target and its {buffer_m:g} m buffer; "
                         f"got none.")
    return Areas(target=target, buffer=ring, control=control_geom, buffer_m=buffer_m,
                 control_text=text, study_text=study_text)


def monthly_counts(incidents: pd.DataFrame, areas: Areas, months: Iterable[str]) -> pd.DataFrame:
    """Incidents per month in the target, the buffer and the control.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``x``, ``y`` (EPSG:27700) and ``month`` (``YYYY-MM``), already filtered to the crime
        types of interest.
    areas : Areas
        From :func:`response_areas`.
    months : iterable of str
        Months to report (a row each, zeros included).

    Returns
    -------
    pandas.DataFrame
        ``month``, ``target``, ``buffer``, ``control`` (ints). A point in two areas (on a
        shared boundary) counts once, in the first of target, buffer, control.
    """
    missing = [c for c in ("x", "y", "month") if c not in incidents.columns]
    if missing:
        raise ValueError(f"The 'incidents' parameter of monthly_counts must have columns "
                         f"['x', 'y', 'month']. Got {list(incidents.columns)} instead.")
    months = list(months)
    x = incidents["x"].to_numpy(dtype=float)
    y = incidents["y"].to_numpy(dtype=float)
    in_t = shapely.contains_xy(areas.target, x, y) | shapely.intersects_xy(
        areas.target.boundary, x, y)
    if areas.buffer.is_empty:
        in_d = np.zeros_like(in_t)
    else:
        in_d = ~in_t & shapely.intersects_xy(areas.buffer, x, y)
    in_c = ~in_t & ~in_d & shapely.intersects_xy(areas.control, x, y)
    month = incidents["month"].astype(str).to_numpy()
    rows = []
    for m in months:
        sel = month == m
        rows.append({"month": m, "target": int((sel & in_t).sum()),
                     "buffer": int((sel & in_d).sum()), "control": int((sel & in_c).sum())})
    return pd.DataFrame(rows, columns=["month", "target", "buffer", "control"])


# ------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class ResponseEvaluation:
    """The evaluation of one response (see :func:`evaluate_monthly`).

    ``*_before``/``*_after`` are raw counts over the months present; WDD figures use the
    after counts multiplied by ``post_scale``.
    """

    start: str
    months_before: list[str]
    months_after: list[str]
    months_missing: list[str]
    post_scale: float
    target_before: int
    target_after: int
    buffer_before: int
    buffer_after: int
    control_before: int
    control_after: int
    control: str
    wdd: float
    wdd_se: float
    wdd_z: float | None
    wdd_p: float | None
    wdd_ci: tuple[float, float]
    wdd_target: float
    wdd_target_se: float
    wdd_target_z: float | None
    wdd_target_p: float | None
    wdd_target_ci: tuple[float, float]
    wdq: float | None
    wdq_reason: str
    wdq_reading: str
    verdict: str
    caveats: list[str]
    monthly: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def record(self) -> dict:
        """JSON-ready dict (``extra`` merged in at the top level, NaN as None)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"}
        out["wdd_ci"] = list(self.wdd_ci)
        out["wdd_target_ci"] = list(self.wdd_target_ci)
        out["months_used"] = self.months_before + self.months_after
        out.update(self.extra)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in out.items()}


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def verdict_text(result: WDDResult, *, t0: int, t1: int, c0: int, d0: int, d1: int,
                 wdq_result: WDQResult, months_before: list[str], months_after: list[str],
                 months_missing: list[str], post_scale: float,
                 min_target: int = MIN_TARGET_INCIDENTS) -> tuple[str, list[str]]:
    """A plain-language verdict a commissioner can read, and its caveats.

    Parameters
    ----------
    result : WDDResult
        The WDD of target and buffer (:func:`wdd`).
    t0, t1, c0, d0, d1 : int
        Raw counts (target before/after, control before, buffer before/after).
    wdq_result : WDQResult
        From :func:`wdq`.
    months_before, months_after, months_missing : list of str
        The months compared and the gaps.
    post_scale : float
        Factor applied to the after counts.
    min_target : int, default MIN_TARGET_INCIDENTS
        Fewer target incidents (before + after) than this: "too few to tell".

    Returns
    -------
    verdict : str
        The headline and the caveats, as one paragraph.
    caveats : list of str
        The caveats alone.

    References
    ----------
    Barnett, A. G., van der Pols, J. C. & Dobson, A. J. (2005). Regression to the mean: what
    it is and how to deal with it. *International Journal of Epidemiology* 34(1), 215-220.
    """
    def months(ms: list[str]) -> str:
        return ms[0] if len(ms) == 1 else f"{ms[0]}..{ms[-1]}"

    span = f"{months(months_before)} against {months(months_after)}"
    ci = f"95% interval {_n(result.ci_low)} to {_n(result.ci_high)}"
    dominated = t0 > 0 and c0 > CONTROL_DOMINATES * t0
    if t0 + t1 < min_target:
        head = (f"Too few incidents to tell: the target had {t0} before and {t1} after "
                f"({span}); at least {min_target} in all are needed before a change can be "
                f"told apart from chance.")
    elif result.p is None or result.p >= 0.05:
        head = (f"No change that chance would not explain: relative to the control, the "
                f"target and its buffer changed by {_n(result.wdd)} incidents ({ci}, p = "
                f"{'n/a' if result.p is None else f'{result.p:.2f}'}), not significant at 5% "
                f"({span}).")
    elif dominated:
        head = (f"Not a fair test: the control had {c0 / t0:,.0f} times the target's "
                f"incidents before the start, so the difference of {_n(result.wdd)} "
                f"incidents ({ci}, p = {result.p:.3f}; {span}) mostly measures the "
                f"control's own change. Give a control area with about as many incidents as "
                f"the target (--control) before drawing a conclusion.")
    elif result.wdd < 0:
        head = (f"Reduction: relative to the control, the target and its buffer had about "
                f"{_n(-result.wdd)} fewer incidents after the start ({ci}, p = "
                f"{result.p:.3f}; {span}).")
    else:
        head = (f"Increase: relative to the control, the target and its buffer had about "
                f"{_n(result.wdd)} more incidents after the start ({ci}, p = {result.p:.3f}; "
                f"{span}).")
    if wdq_result.wdq is not None:
        head += (f" Weighted displacement quotient {wdq_result.wdq:.2f}: "
                 f"{wdq_result.reading}.")
    caveats = [
        "Regression to the mean: a place chosen because it was unusually busy tends to fall "
        "back the next months even without any response, so a fall in a hotspot picked for "
        "being high overstates the effect.",
        "police.uk data: incidents are dated by month only and placed on anonymised map "
        "points snapped to the nearest of a fixed set of locations, so counts near the edge of "
        "the target or the buffer may belong on the other side.",
    ]
    if months_missing:
        caveats.append(f"Months missing in the data were left out: "
                       f"{', '.join(months_missing)}.")
    if post_scale != 1.0:
        caveats.append(f"{len(months_before)} month(s) before but {len(months_after)} after: "
                       f"the after counts were multiplied by {post_scale:g} to compare equal "
                       f"lengths (their chance variation grows accordingly).")
    if dominated:
        caveats.append(f"The control area had {c0 / t0:,.0f} times the target's incidents "
                       f"before the start: its own ups and downs dominate the WDD's "
                       f"uncertainty; a control similar in size to the target would give a "
                       f"sharper test.")
    if d0 + d1 == 0:
        caveats.append("No incidents in the buffer: displacement cannot be assessed.")
    if wdq_result.wdq is not None:
        caveats.append("The WDQ is a ratio without a test of its own: read it only alongside "
                       "a significant WDD.")
    return head + " Caveats: " + " ".join(caveats), caveats


def evaluate_monthly(monthly: pd.DataFrame, start: str, *, pre: int = 3, post: int = 3,
                     months_present: Iterable[str] | None = None, control_text: str = "",
                     cd: pd.Series | None = None, extra: dict | None = None
                     ) -> ResponseEvaluation:
    """Evaluate a response from monthly counts in target, buffer and control.

    Parameters
    ----------
    monthly : pandas.DataFrame
        ``month``, ``target``, ``buffer``, ``control`` (non-negative counts), one row per
        month; months absent from the frame count as gaps.
    start : str
        First month of the response (``YYYY-MM``, counted as "after").
    pre, post : int, default 3
        Months before and after (the start included).
    months_present : iterable of str, optional
        Months the data covers (a month with no row in it is a gap). Default: the months of
        `monthly`.
    control_text : str, default ""
        How the control was chosen.
    cd : pandas.Series, optional
        Monthly counts of a separate control for the buffer, indexed by month.
    extra : dict, optional
        More figures to carry into :meth:`ResponseEvaluation.record`.

    Returns
    -------
    ResponseEvaluation

    Raises
    ------
    ValueError
        If no month before the start, or none after it, is present; or `monthly` lacks a
        column or holds negative counts.
    """
    func = "evaluate_monthly"
    columns = ["month", "target", "buffer", "control"]
    if not isinstance(monthly, pd.DataFrame) or any(c not in monthly.columns for c in columns):
        got = list(monthly.columns) if isinstance(monthly, pd.DataFrame) else type(monthly)
        raise ValueError(f"The 'monthly' parameter of {func} must be a DataFrame with columns "
                         f"{columns}. Got {got} instead.")
    counts = monthly.set_index(monthly["month"].astype(str))[columns[1:]]
    if (counts.to_numpy(dtype=float) < 0).any():
        raise ValueError(f"The 'monthly' parameter of {func} must hold counts >= 0. Got "
                         f"negative values instead.")
    before, after = period_months(start, pre, post)
    present = set(counts.index) if months_present is None else set(map(str, months_present))
    used_before = [m for m in before if m in present]
    used_after = [m for m in after if m in present]
    missing = [m for m in before + after if m not in present]
    have = ", ".join(sorted(present)) or "none"
    if not used_before:
        raise ValueError(f"No month before the start {start} in the data: expected at least "
                         f"one of {', '.join(before)}; the data has {have}.")
    if not used_after:
        raise ValueError(f"No month from the start {start} on in the data: expected at least "
                         f"one of {', '.join(after)}; the data has {have}.")
    full = counts.reindex(before + after, fill_value=0)

    def total(column: str, months: list[str]) -> int:
        return int(full.loc[months, column].sum())

    t0, t1 = total("target", used_before), total("target", used_after)
    d0, d1 = total("buffer", used_before), total("buffer", used_after)
    c0, c1 = total("control", used_before), total("control", used_after)
    scale = len(used_before) / len(used_after)
    if cd is not None:
        cds = pd.Series(cd).reindex(before + after, fill_value=0)
        cd0, cd1 = int(cds[used_before].sum()), int(cds[used_after].sum())
    else:
        cd0 = cd1 = None
    both = wdd(t0, t1, c0, c1, d0, d1, cd0, cd1, scale=scale)
    alone = wdd_target(t0, t1, c0, c1, scale=scale)
    quotient = wdq(t0, t1, c0, c1, d0, d1)
    text, caveats = verdict_text(both, t0=t0, t1=t1, c0=c0, d0=d0, d1=d1,
                                 wdq_result=quotient, months_before=used_before,
                                 months_after=used_after, months_missing=missing,
                                 post_scale=scale)
    rows = [{"month": m, "target": int(full.at[m, "target"]),
             "buffer": int(full.at[m, "buffer"]), "control": int(full.at[m, "control"]),
             "present": m in present} for m in before + after]
    more = dict(extra or {})
    if cd is not None:
        more.update({"displacement_control_before": cd0, "displacement_control_after": cd1})
    return ResponseEvaluation(
        start=start, months_before=used_before, months_after=used_after,
        months_missing=missing, post_scale=scale, target_before=t0, target_after=t1,
        buffer_before=d0, buffer_after=d1, control_before=c0, control_after=c1,
        control=control_text, wdd=both.wdd, wdd_se=both.se, wdd_z=both.z, wdd_p=both.p,
        wdd_ci=(both.ci_low, both.ci_high), wdd_target=alone.wdd, wdd_target_se=alone.se,
        wdd_target_z=alone.z, wdd_target_p=alone.p,
        wdd_target_ci=(alone.ci_low, alone.ci_high), wdq=quotient.wdq,
        wdq_reason=quotient.reason, wdq_reading=quotient.reading, verdict=text,
        caveats=caveats, monthly=rows, extra=more)


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hotspots.responses",
        description="Evaluate a response at a place: Weighted Displacement Difference and "
                    "Quotient before/after, with a buffer ring and a control area.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{evaluate,list,add}")
    e = sub.add_parser("evaluate", help="evaluate a place given as a GeoJSON polygon on "
                                        "police.uk files (the store is not touched)")
    e.add_argument("--incidents", nargs="+", type=Path, required=True,
                   help="police.uk street-level CSV files")
    e.add_argument("--target", type=Path, required=True,
                   help="GeoJSON polygon of the place (EPSG:4326 longitude/latitude)")
    e.add_argument("--start", required=True,
                   help="first month of the response, YYYY-MM (counted as 'after')")
    e.add_argument("--pre", type=int, default=3, help="months before the start (default 3)")
    e.add_argument("--post", type=int, default=3,
                   help="months from the start on, the start included (default 3)")
    e.add_argument("--buffer", type=float, default=250.0,
                   help="width of the displacement/diffusion ring, metres (default 250)")
    e.add_argument("--crime-group", default=None,
                   help="crime group name (default: config/crime_groups.toml's default)")
    e.add_argument("--control", type=Path, default=None,
                   help="GeoJSON polygon of a control area (default: the rest of the study "
                        "area outside target and buffer)")
    e.add_argument("--format", choices=("table", "json"), default="table")
    for name, text in (("list", "list stored responses (not available yet)"),
                       ("add", "store a response (not available yet)")):
        s = sub.add_parser(name, help=text)
        s.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


def run(argv: Sequence[str] | None = None) -> ResponseEvaluation:
    """Parse ``evaluate`` arguments, read the files and evaluate (exits 2 on bad input)."""
    from config import get_config
    from geodata.errors import DataValidationError
    from geodata.incidents import load_incidents
    from geodata.reference import load_lsoa11_lookup, load_lsoa_table

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "evaluate":
        parser.exit(2, f"{parser.prog} {args.command}: {NOT_BUILT}.\n")
    sub = "python -m hotspots.responses evaluate"

    def fail(message: str):
        parser.exit(2, f"{sub}: error: {message}\n")

    if not _MONTH.match(args.start):
        fail(f"--start must be a month YYYY-MM; got {args.start!r}.")
    if args.pre < 1:
        fail(f"--pre must be at least 1 month; got {args.pre}.")
    if args.post < 1:
        fail(f"--post must be at least 1 month; got {args.post}.")
    if not (math.isfinite(args.buffer) and args.buffer >= 0):
        fail(f"--buffer must be a number of metres >= 0; got {args.buffer}.")
    cfg = get_config()
    group_name = args.crime_group or cfg.default_crime_group
    groups = {g.name: g for g in cfg.crime_groups}
    if group_name not in groups:
        fail(f"Unknown crime group {group_name!r}; known: {', '.join(groups)}.")
    missing = [str(p) for p in args.incidents if not Path(p).is_file()]
    if missing:
        fail(f"No such incident file(s): {', '.join(missing)}.")
    try:
        target = read_target(args.target)
        control = None if args.control is None else read_target(args.control, what="--control")
        all_types = {t for g in cfg.crime_groups for t in g.types}
        lsoas = load_lsoa_table()
        incidents = load_incidents(args.incidents, lsoas=lsoas, lookup=load_lsoa11_lookup(),
                                   known_crime_types=all_types).accepted
    except DataValidationError as error:
        fail(str(error))
    present = sorted(set(incidents["month"].astype(str)))
    humber = shapely.union_all(lsoas.geometry.to_numpy())
    if target.intersection(humber).area >= 0.5 * target.area:
        study, study_text, clip = humber, "the Humber area (union of its 2021 LSOAs)", True
    else:  # outside the known area: bound the control by the data, do not clip the ring
        points = shapely.points(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float))
        study = shapely.convex_hull(shapely.multipoints(points))
        study_text, clip = "the convex hull of the incidents in the files", False
    try:
        areas = response_areas(target, study_area=study, buffer_m=args.buffer, control=control,
                               study_text=study_text, clip_buffer=clip)
    except ValueError as error:
        fail(str(error))
    before, after = period_months(args.start, args.pre, args.post)
    chosen = incidents[incidents["crime_type"].isin(list(groups[group_name].types))
                       & incidents["month"].astype(str).isin(before + after)]
    monthly = monthly_counts(chosen, areas, before + after)
    km2 = areas.areas_km2()
    extra = {"pre": args.pre, "post": args.post, "buffer_m": args.buffer,
             "crime_group": group_name, "study_area": study_text,
             "target_area_km2": km2["target"], "buffer_area_km2": km2["buffer"],
             "control_area_km2": km2["control"], "months_in_files": present,
             "files": [str(p) for p in args.incidents]}
    try:
        return evaluate_monthly(monthly, args.start, pre=args.pre, post=args.post,
                                months_present=present, control_text=areas.control_text,
                                extra=extra)
    except ValueError as error:
        fail(str(error))


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hotspots.responses``; returns the exit status."""
    result = run(argv)
    args = _parser().parse_args(argv)
    record = result.record()
    if args.format == "json":
        print(json.dumps(record, indent=1, ensure_ascii=False))
        return 0
    rows = [("months before", ", ".join(result.months_before)),
            ("months after", ", ".join(result.months_after)),
            ("months missing", ", ".join(result.months_missing) or "none"),
            ("target before / after", f"{result.target_before} / {result.target_after}"),
            ("buffer before / after", f"{result.buffer_before} / {result.buffer_after}"),
            ("control before / after", f"{result.control_before} / {result.control_after}"),
            ("control", result.control),
            ("after counts scaled by", _fmt(result.post_scale)),
            ("WDD (target + buffer)", f"{_fmt(result.wdd)} (se {_fmt(result.wdd_se)}, z "
                                      f"{_fmt(result.wdd_z)}, p {_fmt(result.wdd_p)})"),
            ("WDD 95% interval", f"{_fmt(result.wdd_ci[0])} to {_fmt(result.wdd_ci[1])}"),
            ("WDD (target only)", f"{_fmt(result.wdd_target)} (se {_fmt(result.wdd_target_se)}"
                                  f", p {_fmt(result.wdd_target_p)})"),
            ("WDQ", _fmt(result.wdq) if result.wdq is not None else result.wdq_reason)]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print()
    print(pd.DataFrame(result.monthly).to_string(index=False))
    print()
    print(result.verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
