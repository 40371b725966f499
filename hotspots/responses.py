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

``evaluate --incidents`` never touches the store: it reads police.uk files. Stored responses
(``geodata.responses``) are evaluated on the incident store by :func:`evaluate_response` /
:func:`evaluate_in_store`: ``T`` is the response's place, ``D`` the ring of
:data:`DEFAULT_BUFFER_M` metres clipped to the CSP and excluding other responses' places,
``C`` the CSP's comparable hotspots (the outlines the map shows) clear of any response in the
period, falling back to the rest of the CSP (the result says which and why); monthly counts
and harm; :func:`summarise_evaluations` pools a CSP's responses; :func:`disclosed_evaluation`
is what partner viewers see; with at least :data:`MIN_SYNTHETIC_PRE` months before the start,
:func:`synthetic_control` adds a synthetic-control estimate from the CSP's LSOAs clear of the
response, with a placebo-in-space p-value (Abadie, Diamond & Hainmueller 2010).

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

Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *Journal of the American Statistical Association* 105(490), 493-505.

Barnett, A. G., van der Pols, J. C. & Dobson, A. J. (2005). Regression to the mean: what it is
and how to deal with it. *International Journal of Epidemiology* 34(1), 215-220.

Usage::

    python -m hotspots.responses evaluate --incidents FILE... --target GEOJSON --start YYYY-MM
        [--pre N] [--post N] [--buffer METRES] [--crime-group NAME] [--control GEOJSON]
        [--format table|json]

    python -m hotspots.responses evaluate --id N [--pre N] [--post N] [--buffer METRES]
        [--crime-group NAME] [--store DIR] [--format table|json]
    python -m hotspots.responses list [--area CODE] [--status S] [--type T] [--format table|json]
        [--store DIR]
    python -m hotspots.responses add --title T --type KEY --lead-agency A --area CODE
        --start YYYY-MM (--target GEOJSON | --lsoa CODES | --ward CODES) [--partners A,B]
        [--end YYYY-MM] [--status planned|active|ended] [--notes TEXT] [--user NAME]
        [--store DIR] [--format table|json]

``evaluate --id`` evaluates a stored response (:func:`evaluate_in_store`) against the CSP's
hotspots of the months before its start drawn with the settings' defaults; ``list`` and
``add`` read and write the responses store (``geodata.responses``; every ``add`` is in the
audit log). Bad input (no month before the start in the
data, an empty, invalid or non-GeoJSON polygon, unknown crime group, unreadable files) exits 2
with a message on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from geodata.responses import STATUSES
from hotspots._validation import check_float, check_int

__all__ = ["Areas", "DEFAULT_BUFFER_M", "MIN_SYNTHETIC_PRE", "ResponseEvaluation",
           "SyntheticControl", "WDDResult", "WDQResult", "audit_recorder",
           "default_hotspot_outlines", "disclosed_evaluation", "donor_panel",
           "evaluate_in_store", "evaluate_monthly", "evaluate_response", "monthly_counts",
           "monthly_table", "outcome", "parse_target", "period_months", "place_from_geojson",
           "place_from_hotspots", "place_from_lsoas", "place_from_wards", "read_target",
           "response_areas", "stored_response_areas", "summarise_evaluations",
           "synthetic_control", "verdict_text", "wdd", "wdq", "window_overlaps"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: Fewer target incidents than this (before + after) are too few to tell anything.
MIN_TARGET_INCIDENTS = 20
#: A control with more than this many times the target's "before" incidents dominates the WDD.
CONTROL_DOMINATES = 5
#: Buffer rings are drawn with this many segments per quarter circle.
QUAD_SEGS = 16


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
    from geodata.errors import DataValidationError

    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{what} {path}: no such file; {GEOJSON_EXPECTED}.")
    return parse_target(path.read_bytes(), label=f"{what} {path}")


#: What a target or control polygon file must be, for messages.
GEOJSON_EXPECTED = ("expected a GeoJSON Polygon or MultiPolygon (a FeatureCollection, a Feature "
                    "or a bare geometry) in longitude/latitude, EPSG:4326")


def parse_target(data: bytes | str, *, label: str = "GeoJSON") -> shapely.Geometry:
    """Parse GeoJSON text holding a polygon (EPSG:4326) and return it in EPSG:27700.

    Parameters
    ----------
    data : bytes or str
        The GeoJSON text (an uploaded file's content, for instance).
    label : str, default "GeoJSON"
        Name of the input in messages (a file name).

    Returns
    -------
    shapely Polygon or MultiPolygon
        In British National Grid metres, like :func:`read_target`'s.

    Raises
    ------
    DataValidationError
        As :func:`read_target`.
    """
    from pyproj import Transformer

    from geodata.crs import BNG, GB_LAT_RANGE, GB_LON_RANGE, WGS84
    from geodata.errors import DataValidationError

    expected = GEOJSON_EXPECTED
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataValidationError(f"{label}: not a GeoJSON file ({error}); "
                                  f"{expected}.") from None
    if not isinstance(data, dict) or "type" not in data:
        raise DataValidationError(f"{label}: {expected}; got JSON without a GeoJSON "
                                  f"'type' member.")
    crs = data.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) \
            else str(crs)
        if not re.search(r"(EPSG:+4326|CRS84)$", name):
            raise DataValidationError(f"{label}: {expected}; got a 'crs' member naming "
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
            raise DataValidationError(f"{label}: malformed {geometry.get('type')} "
                                      f"coordinates ({error}); {expected}.") from None
    if not polygons:
        got = f"geometries of type {sorted(others)}" if others else "no geometry"
        raise DataValidationError(f"{label}: {expected}; got {got}.")
    for polygon in polygons:
        if not polygon.is_valid:
            raise DataValidationError(f"{label}: the polygon is invalid "
                                      f"({explain_validity(polygon)}); expected a simple "
                                      f"polygon whose edges do not cross.")
    merged = shapely.union_all(polygons)
    if merged.is_empty or merged.area == 0:
        raise DataValidationError(f"{label}: the polygon is empty (no area); "
                                  f"{expected} enclosing the place.")
    lon0, lat0, lon1, lat1 = merged.bounds
    if not (GB_LON_RANGE[0] <= lon0 and lon1 <= GB_LON_RANGE[1]
            and GB_LAT_RANGE[0] <= lat0 and lat1 <= GB_LAT_RANGE[1]):
        raise DataValidationError(
            f"{label}: expected longitude in {GB_LON_RANGE} and latitude in "
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


# ------------------------------------------------------------------------------ stored responses
#: Default width of the displacement/diffusion ring around a stored response, metres.
DEFAULT_BUFFER_M = 250.0
#: Comparable hotspots serve as the control only with at least this many incidents before.
MIN_CONTROL_INCIDENTS = 10


def window_overlaps(start: str, end: str | None, first: str, last: str) -> bool:
    """Whether a response running ``start`` … ``end`` (None: open) overlaps
    ``first`` … ``last``."""
    return start <= last and (end is None or end >= first)


def _union(geometries) -> shapely.Geometry:
    geometries = [g for g in geometries if g is not None and not g.is_empty]
    return shapely.union_all(geometries) if geometries else shapely.Polygon()


def stored_response_areas(response, *, study_area, study_text: str, incidents: pd.DataFrame,
                          months_before: Sequence[str], hotspot_outlines=None,
                          other_places: Sequence = (), buffer_m: float = DEFAULT_BUFFER_M,
                          min_control: int = MIN_CONTROL_INCIDENTS) -> tuple[Areas, dict]:
    """Target, buffer and control of a stored response, and how the control was chosen.

    Parameters
    ----------
    response : geodata.responses.Response
        Uses ``geometry`` (EPSG:27700).
    study_area : shapely geometry
        The response's CSP (union of its LSOAs), EPSG:27700.
    study_text : str
        Its name, for the control description.
    incidents : pandas.DataFrame
        ``x``, ``y``, ``month`` of the CSP's incidents (the crime group chosen).
    months_before : sequence of str
        The months before the start (to check the control has incidents).
    hotspot_outlines : geopandas.GeoDataFrame, optional
        Current hotspot outlines of the CSP (EPSG:27700, ``hotspot_id``), the ones the map
        shows. Those clear of the target, its buffer and every other response's place are the
        default control: places picked the same way, so regression to the mean is shared.
    other_places : sequence of shapely geometry
        Places of the other responses running in the period: left out of buffer and control.
    buffer_m : float, default DEFAULT_BUFFER_M
        Width of the ring, metres.
    min_control : int, default MIN_CONTROL_INCIDENTS
        Fewer incidents than this in the comparable hotspots before the start: fall back to
        the rest of the CSP.

    Returns
    -------
    areas : Areas
    control : dict
        ``kind`` ("hotspots" or "rest_of_csp"), ``hotspot_ids`` (list), ``reason`` (why).
    """
    func = "stored_response_areas"
    buffer_m = check_float(buffer_m, "buffer_m", func, low=0.0, low_open=False)
    target = response.geometry
    others = _union(other_places)
    base = response_areas(target, study_area=study_area, buffer_m=buffer_m,
                          study_text=study_text)
    outer = target.buffer(buffer_m, quad_segs=QUAD_SEGS) if buffer_m > 0 else target
    ring = base.buffer.difference(others) if not others.is_empty else base.buffer
    excluded = outer.union(others) if not others.is_empty else outer
    before = incidents[incidents["month"].astype(str).isin(list(months_before))]
    xb, yb = before["x"].to_numpy(float), before["y"].to_numpy(float)
    reason = "no hotspot outlines were given"
    if hotspot_outlines is not None and len(hotspot_outlines):
        outlines = hotspot_outlines[hotspot_outlines.geometry.intersects(study_area)]
        free = outlines[~outlines.geometry.intersects(excluded)]
        if len(free):
            geometry = _union(free.geometry).intersection(study_area)
            n = int(shapely.intersects_xy(geometry, xb, yb).sum()) if len(xb) else 0
            if n >= min_control:
                ids = [int(i) for i in free["hotspot_id"]] if "hotspot_id" in free else []
                km2 = geometry.area / 1e6
                text = (f"{len(free)} comparable hotspot(s) with no response in the period "
                        f"({study_text}; ids {', '.join(map(str, ids))}; {km2:,.2f} km², "
                        f"{n} incidents before the start): places picked the same way as the "
                        f"target, so regression to the mean is shared")
                return (Areas(target=target, buffer=ring, control=geometry, buffer_m=buffer_m,
                              control_text=text, study_text=study_text),
                        {"kind": "hotspots", "hotspot_ids": ids, "reason": ""})
            reason = (f"the {len(free)} hotspot(s) clear of this and other responses had "
                      f"{n} incident(s) before the start (fewer than {min_control})")
        else:
            reason = "every current hotspot of the CSP is in this or another response's area"
    control = base.control.difference(others) if not others.is_empty else base.control
    km2 = control.area / 1e6
    text = (f"rest of {study_text} outside the target, its buffer and other responses' places "
            f"({km2:,.1f} km²), because {reason}; regression to the mean is not shared")
    return (Areas(target=target, buffer=ring, control=control, buffer_m=buffer_m,
                  control_text=text, study_text=study_text),
            {"kind": "rest_of_csp", "hotspot_ids": [], "reason": reason})


def monthly_table(incidents: pd.DataFrame, areas: Areas, months: Iterable[str], *,
                  weight: str | None = "harm") -> pd.DataFrame:
    """Incidents and harm per month in the target, the buffer and the control.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``x``, ``y``, ``month`` and, for harm, the `weight` column.
    areas : Areas
    months : iterable of str
    weight : str or None, default "harm"
        Column summed for ``*_harm`` (None or absent: no harm columns).

    Returns
    -------
    pandas.DataFrame
        :func:`monthly_counts`' columns plus ``target_harm``, ``buffer_harm``,
        ``control_harm`` (floats) when `weight` is a column.
    """
    months = list(months)
    counts = monthly_counts(incidents, areas, months)
    if weight is None or weight not in incidents.columns:
        return counts
    x = incidents["x"].to_numpy(dtype=float)
    y = incidents["y"].to_numpy(dtype=float)
    w = incidents[weight].to_numpy(dtype=float)
    in_t = shapely.contains_xy(areas.target, x, y) | shapely.intersects_xy(
        areas.target.boundary, x, y)
    in_d = (np.zeros_like(in_t) if areas.buffer.is_empty
            else ~in_t & shapely.intersects_xy(areas.buffer, x, y))
    in_c = ~in_t & ~in_d & shapely.intersects_xy(areas.control, x, y)
    month = incidents["month"].astype(str).to_numpy()
    for name, mask in (("target", in_t), ("buffer", in_d), ("control", in_c)):
        counts[f"{name}_harm"] = [float(w[(month == m) & mask].sum()) for m in months]
    return counts


def evaluate_response(response, incidents: pd.DataFrame, *, study_area, study_text: str,
                      months_present: Iterable[str], hotspot_outlines=None,
                      other_responses: Sequence = (), pre: int = 3, post: int = 3,
                      buffer_m: float = DEFAULT_BUFFER_M, crime_group: str = "",
                      donors=None) -> ResponseEvaluation:
    """Evaluate a stored response on the incident store's incidents.

    ``T`` is the response's place; ``D`` the ring of `buffer_m` metres around it, clipped to
    the CSP and excluding other responses' places; ``C`` the comparable hotspots of the CSP
    with no response in the period (the outlines the map shows), else the rest of the CSP
    (:func:`stored_response_areas` says which and why). Monthly counts and harm, WDD for
    ``T + D`` and ``T`` alone, WDQ when meaningful, the verdict.

    Parameters
    ----------
    response : geodata.responses.Response
    incidents : pandas.DataFrame
        The CSP's incidents of the crime group for (at least) the evaluation months: ``x``,
        ``y``, ``month`` and optionally ``harm``.
    study_area : shapely geometry
        The CSP, EPSG:27700.
    study_text : str
        Its name.
    months_present : iterable of str
        Months the store holds (others are gaps).
    hotspot_outlines : geopandas.GeoDataFrame, optional
        The CSP's current hotspot outlines (EPSG:27700, ``hotspot_id``).
    other_responses : sequence of Response
        All responses (this one is skipped); those running in the evaluation window are
        excluded from the buffer and the control.
    pre, post : int, default 3
        Months before, and from the start on.
    buffer_m : float, default DEFAULT_BUFFER_M
    crime_group : str, default ""
        Recorded in the result.
    donors : geopandas.GeoDataFrame, optional
        The CSP's LSOAs (``lsoa21cd``, geometry): with at least :data:`MIN_SYNTHETIC_PRE`
        months before the start, those clear of the target, its buffer and other responses
        are the donors of a synthetic control (:func:`synthetic_control`).

    Returns
    -------
    ResponseEvaluation
        ``extra["synthetic"]`` is the synthetic-control record or None, with
        ``extra["synthetic_reason"]`` saying why not; ``extra`` also holds ``response_id``,
        ``control_kind``, ``control_hotspot_ids``, ``buffer_m``, areas in km² and
        ``<area>_harm_before``/``_after``; ``monthly`` rows carry ``<area>_harm``.

    Raises
    ------
    ValueError
        No month before, or from, the start in the data; the place outside the CSP.
    """
    before, after = period_months(response.start_month, pre, post)
    window = before + after
    others = [o.geometry for o in other_responses
              if o.id != response.id and window_overlaps(o.start_month, o.end_month,
                                                         window[0], window[-1])]
    missing = [c for c in ("x", "y", "month") if c not in incidents.columns]
    if missing:
        raise ValueError(f"The 'incidents' parameter of evaluate_response must have columns "
                         f"['x', 'y', 'month']. Got {list(incidents.columns)} instead.")
    chosen = incidents[incidents["month"].astype(str).isin(window)]
    areas, control = stored_response_areas(
        response, study_area=study_area, study_text=study_text, incidents=chosen,
        months_before=before, hotspot_outlines=hotspot_outlines, other_places=others,
        buffer_m=buffer_m)
    table = monthly_table(chosen, areas, window)
    present = sorted(set(map(str, months_present)))
    km2 = areas.areas_km2()
    extra = {"response_id": response.id, "title": response.title, "lad_code": response.lad_code,
             "pre": pre, "post": post, "buffer_m": buffer_m, "crime_group": crime_group,
             "control_kind": control["kind"], "control_hotspot_ids": control["hotspot_ids"],
             "target_area_km2": km2["target"], "buffer_area_km2": km2["buffer"],
             "control_area_km2": km2["control"], "other_responses_excluded": len(others)}
    result = evaluate_monthly(table, response.start_month, pre=pre, post=post,
                              months_present=present, control_text=areas.control_text,
                              extra=extra)
    if "target_harm" in table.columns:
        used_b, used_a = result.months_before, result.months_after
        indexed = table.set_index("month")
        for name in ("target", "buffer", "control"):
            result.extra[f"{name}_harm_before"] = float(
                indexed.loc[used_b, f"{name}_harm"].sum())
            result.extra[f"{name}_harm_after"] = float(indexed.loc[used_a, f"{name}_harm"].sum())
        harm = {m: row for m, row in indexed.iterrows()}
        for row in result.monthly:
            for name in ("target", "buffer", "control"):
                row[f"{name}_harm"] = float(harm[row["month"]][f"{name}_harm"])
    result.extra["synthetic"], result.extra["synthetic_reason"] = None, (
        "no synthetic control: no donor places were given" if donors is None else "")
    if donors is not None and len(result.months_before) < MIN_SYNTHETIC_PRE:
        result.extra["synthetic_reason"] = (
            f"no synthetic control: it needs at least {MIN_SYNTHETIC_PRE} months before the "
            f"start in the data; there are {len(result.months_before)}")
    elif donors is not None:
        used = result.months_before + result.months_after
        exclude = _union([response.geometry.buffer(buffer_m, quad_segs=QUAD_SEGS), *others])
        panel = donor_panel(chosen, donors, exclude, used)
        target = table.set_index("month").loc[used, "target"].to_numpy(float)
        synthetic = synthetic_control(target, panel, months_before=result.months_before,
                                      months_after=result.months_after)
        if isinstance(synthetic, str):
            result.extra["synthetic_reason"] = synthetic
        else:
            result.extra["synthetic"] = synthetic.record()
    return result


def disclosed_evaluation(result: ResponseEvaluation, rule) -> ResponseEvaluation:
    """The evaluation as partner and public roles may see it.

    Every count is rounded by :func:`hotspots.disclosure.rounded_count` (below the threshold:
    suppressed), and the WDD, WDQ and verdict are recomputed from the rounded totals, so no
    figure carries more than a rounded count. Harm is dropped. When a target total is
    suppressed the statistics are not given.

    Parameters
    ----------
    result : ResponseEvaluation
    rule : hotspots.disclosure.DisclosureRule

    Returns
    -------
    ResponseEvaluation
        ``extra["disclosure"]`` is True; monthly counts are None where suppressed.
    """
    from hotspots.disclosure import rounded_count

    def r(value):
        v = rounded_count(value, rule)
        return None if math.isnan(v) else int(v)

    totals = {k: r(getattr(result, k)) for k in
              ("target_before", "target_after", "buffer_before", "buffer_after",
               "control_before", "control_after")}
    monthly = [{"month": row["month"], "target": r(row["target"]), "buffer": r(row["buffer"]),
                "control": r(row["control"]), "present": row["present"]}
               for row in result.monthly]
    extra = {k: v for k, v in result.extra.items()
             if "harm" not in k and not k.startswith("synthetic")}
    extra["disclosure"] = True
    extra["synthetic_reason"] = "no synthetic control under disclosure control"
    suppressed = [k for k in ("target_before", "target_after", "control_before",
                              "control_after") if totals[k] is None]
    if suppressed:
        text = (f"Too few incidents to show: under disclosure control counts below "
                f"{rule.threshold} are not shown, and the target or control has fewer than "
                f"{rule.threshold} incidents before or after the start, so no estimate is "
                f"given.")
        nan = float("nan")
        return ResponseEvaluation(
            start=result.start, months_before=result.months_before,
            months_after=result.months_after, months_missing=result.months_missing,
            post_scale=result.post_scale, **{k: (v if v is not None else -1)
                                             for k, v in totals.items()},
            control=result.control, wdd=nan, wdd_se=nan, wdd_z=None, wdd_p=None,
            wdd_ci=(nan, nan), wdd_target=nan, wdd_target_se=nan, wdd_target_z=None,
            wdd_target_p=None, wdd_target_ci=(nan, nan), wdq=None,
            wdq_reason="not shown under disclosure control", wdq_reading="", verdict=text,
            caveats=[text], monthly=monthly, extra=extra)
    t0, t1 = totals["target_before"], totals["target_after"]
    c0, c1 = totals["control_before"], totals["control_after"]
    d0, d1 = totals["buffer_before"] or 0, totals["buffer_after"] or 0
    scale = result.post_scale
    both = wdd(t0, t1, c0, c1, d0, d1, scale=scale)
    alone = wdd_target(t0, t1, c0, c1, scale=scale)
    quotient = wdq(t0, t1, c0, c1, d0, d1)
    text, caveats = verdict_text(both, t0=t0, t1=t1, c0=c0, d0=d0, d1=d1, wdq_result=quotient,
                                 months_before=result.months_before,
                                 months_after=result.months_after,
                                 months_missing=result.months_missing, post_scale=scale)
    note = (f"Disclosure control: counts rounded to multiples of {rule.rounding}, those below "
            f"{rule.threshold} not shown (a suppressed buffer count counts as 0); the figures "
            f"are computed from the rounded counts.")
    return ResponseEvaluation(
        start=result.start, months_before=result.months_before,
        months_after=result.months_after, months_missing=result.months_missing,
        post_scale=scale, target_before=t0, target_after=t1, buffer_before=d0,
        buffer_after=d1, control_before=c0, control_after=c1, control=result.control,
        wdd=both.wdd, wdd_se=both.se, wdd_z=both.z, wdd_p=both.p,
        wdd_ci=(both.ci_low, both.ci_high), wdd_target=alone.wdd, wdd_target_se=alone.se,
        wdd_target_z=alone.z, wdd_target_p=alone.p, wdd_target_ci=(alone.ci_low, alone.ci_high),
        wdq=quotient.wdq, wdq_reason=quotient.reason, wdq_reading=quotient.reading,
        verdict=text + " " + note, caveats=[*caveats, note], monthly=monthly, extra=extra)


def outcome(result: ResponseEvaluation, *, alpha: float = 0.05) -> str:
    """``"reduction"``, ``"increase"``, ``"no clear change"`` or ``"not evaluable"``."""
    if result.wdd_p is None or (isinstance(result.wdd, float) and math.isnan(result.wdd)):
        return "not evaluable"
    if result.target_before + result.target_after < MIN_TARGET_INCIDENTS:
        return "too few incidents"
    if result.wdd_p < alpha:
        return "reduction" if result.wdd < 0 else "increase"
    return "no clear change"


def summarise_evaluations(results: Sequence[ResponseEvaluation]) -> dict:
    """Summary over all responses of a CSP.

    The pooled WDD is the sum of the responses' WDDs with the sum of their variances (Wheeler
    & Ratcliffe 2018 pool areas this way). That assumes the areas are independent: when the
    responses share control hotspots, their control changes are correlated and the interval
    is too narrow; the ``caveat`` says so.

    Parameters
    ----------
    results : sequence of ResponseEvaluation
        Evaluations with a WDD (not-evaluable ones are counted but not pooled).

    Returns
    -------
    dict
        ``responses``, ``pooled`` (how many), counts per :func:`outcome`, ``wdd``, ``wdd_se``,
        ``wdd_z``, ``wdd_p``, ``wdd_ci`` (None when nothing pooled) and ``caveat``.
    """
    outcomes = [outcome(r) for r in results]
    pooled = [r for r in results if r.wdd_p is not None and not math.isnan(r.wdd)]
    out = {"responses": len(results), "pooled": len(pooled),
           **{k: outcomes.count(k) for k in ("reduction", "increase", "no clear change",
                                            "too few incidents", "not evaluable")},
           "caveat": "The pooled WDD adds the responses' WDDs and their variances, as if "
                     "their areas were independent; responses sharing control hotspots make "
                     "the interval too narrow."}
    if not pooled:
        out.update(wdd=None, wdd_se=None, wdd_z=None, wdd_p=None, wdd_ci=None)
        return out
    total = _test(sum(r.wdd for r in pooled), sum(r.wdd_se ** 2 for r in pooled))
    out.update(wdd=total.wdd, wdd_se=total.se, wdd_z=total.z, wdd_p=total.p,
               wdd_ci=(total.ci_low, total.ci_high))
    return out


def evaluate_in_store(response, *, incident_store, lsoas, hotspot_outlines=None,
                      all_responses: Sequence = (), crime_group: str | None = None,
                      pre: int = 3, post: int = 3, buffer_m: float = DEFAULT_BUFFER_M,
                      month_to: str | None = None) -> ResponseEvaluation:
    """:func:`evaluate_response` on the incident store: reads the CSP's incidents itself.

    Parameters
    ----------
    response : geodata.responses.Response
    incident_store : geodata.store.IncidentStore
    lsoas : geopandas.GeoDataFrame
        ``load_lsoa_table()`` (the CSP is the union of its LSOAs).
    hotspot_outlines : geopandas.GeoDataFrame, optional
        The CSP's current hotspot outlines (the map's), for the control.
    all_responses : sequence of Response
        Every response (others running in the window are excluded from buffer and control).
    crime_group : str, optional
        A group of ``config/crime_groups.toml``; default its default group.
    pre, post, buffer_m
        As :func:`evaluate_response`.
    month_to : str, optional
        Use only stored months up to this one (a report "to" a month); default all.
    """
    from config import get_config
    from config.harm import get_harm_weights
    from hotspots.harm import harm_weights
    from hotspots.pipeline import study_area

    config = get_config()
    group = config.crime_group(crime_group or config.default_crime_group)
    before, after = period_months(response.start_month, pre, post)
    present = [m for m in incident_store.months()
               if month_to is None or m <= _check_month(month_to, "month_to", "evaluate_in_store")]
    window = [m for m in before + after if m in present]
    frame = incident_store.query(area_code=response.lad_code, months=window,
                                 crime_types=group.types,
                                 columns=["month", "crime_type", "x", "y", "weight"])
    frame["harm"] = harm_weights(frame["crime_type"], get_harm_weights().weights) * \
        frame["weight"].to_numpy(dtype=float)
    name = config.area(response.lad_code).name
    return evaluate_response(response, frame, study_area=study_area(lsoas, response.lad_code),
                             study_text=name, months_present=present,
                             hotspot_outlines=hotspot_outlines, other_responses=all_responses,
                             pre=pre, post=post, buffer_m=buffer_m, crime_group=group.name,
                             donors=lsoas[lsoas["lad_code"] == response.lad_code])


def default_hotspot_outlines(incident_store, lsoas, area_code: str, months: Sequence[str],
                             crime_group: str | None = None):
    """Hotspot outlines of a CSP with the settings' defaults (``config/settings.toml``).

    For callers without a map (the command line): the kernel bandwidth, cell size and
    threshold are the settings' defaults, and the outlines are of `months`.

    Returns
    -------
    outlines : geopandas.GeoDataFrame
    settings : dict
    """
    from config import get_config
    from hotspots.pipeline import hotspot_analysis, study_area

    config = get_config()
    group = config.crime_group(crime_group or config.default_crime_group)
    method = str(config.setting("hotspot_threshold_method").default)
    value = float(config.setting("hotspot_top_percent" if method == "top_percent"
                                 else "hotspot_mean_multiple").default)
    settings = {"bandwidth_m": float(config.setting("kde_bandwidth").default),
                "cell_size_m": float(config.setting("kde_cell_size").default),
                "threshold_method": method, "threshold_value": value,
                "crime_group": group.name, "months": list(months)}
    incidents = incident_store.query(area_code=area_code, months=list(months),
                                     crime_types=group.types,
                                     columns=["month", "crime_type", "x", "y", "lsoa21cd",
                                              "weight"])
    analysis = hotspot_analysis(incidents, study_area=study_area(lsoas, area_code), lsoas=lsoas,
                                bandwidth=settings["bandwidth_m"],
                                cell_size=settings["cell_size_m"], threshold_method=method,
                                threshold_value=value)
    return analysis.outlines, settings


# ------------------------------------------------------------------------------ synthetic control
#: A synthetic control needs at least this many months before the start.
MIN_SYNTHETIC_PRE = 6


@dataclass(frozen=True)
class SyntheticControl:
    """A synthetic-control estimate (Abadie, Diamond & Hainmueller 2010) and its placebo test.

    Attributes
    ----------
    weights : dict
        Donor id -> weight (>= 0, summing to 1); donors with weight < 0.001 left out.
    effect : float
        Sum over the after months of (target - synthetic target): negative = fewer incidents
        than the weighted donors predict.
    synthetic_after : float
        The synthetic target's incidents over the after months.
    pre_rmspe, post_rmspe : float
        Root mean squared gap before and after the start.
    p_placebo : float
        Placebo-in-space p-value: ``(1 + number of donors whose post/pre RMSPE ratio, as a
        placebo target fitted from the other donors, is at least the target's) / (1 +
        donors)``. The pre-period RMSPE in the ratio is floored at the Poisson standard
        deviation of the unit's monthly count (the square root of its mean before the
        start): a fit closer than chance allows is over-fitting, not precision.
    placebos : int
        Donors used as placebos.
    months_before, months_after : list of str
    """

    weights: dict
    effect: float
    synthetic_after: float
    pre_rmspe: float
    post_rmspe: float
    p_placebo: float
    placebos: int
    months_before: list
    months_after: list

    def record(self) -> dict:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


def _synthetic_weights(donors_pre: np.ndarray, target_pre: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that best reproduce the target before the start
    (least squares; the sum-to-one constraint as a heavily weighted extra row of NNLS)."""
    from scipy.optimize import nnls

    scale = max(1.0, float(np.abs(donors_pre).max(initial=0.0)), float(np.abs(target_pre).max(
        initial=0.0)))
    penalty = 1e3 * scale
    a = np.vstack([donors_pre, np.full((1, donors_pre.shape[1]), penalty)])
    b = np.concatenate([target_pre, [penalty]])
    weights, _ = nnls(a, b, maxiter=50 * donors_pre.shape[1])
    total = weights.sum()
    return weights / total if total > 0 else np.full(donors_pre.shape[1],
                                                     1.0 / donors_pre.shape[1])


def _gaps(donors: np.ndarray, target: np.ndarray, n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    weights = _synthetic_weights(donors[:n_pre], target[:n_pre])
    return weights, target - donors @ weights


def synthetic_control(target: Sequence[float], donors: pd.DataFrame, *,
                      months_before: Sequence[str], months_after: Sequence[str]
                      ) -> SyntheticControl | str:
    """Synthetic-control estimate of a response's effect, with a placebo-in-space p-value.

    Parameters
    ----------
    target : sequence of float
        Monthly incidents in the target, one per month of ``months_before + months_after``.
    donors : pandas.DataFrame
        Monthly incidents of the donor places (columns: their ids), the same rows.
    months_before, months_after : sequence of str
        The months present before the start (at least :data:`MIN_SYNTHETIC_PRE`) and from it.

    Returns
    -------
    SyntheticControl, or str
        The estimate, or why there is none (too few months before, fewer than 2 donors).
    """
    months_before, months_after = list(months_before), list(months_after)
    target = np.asarray(target, dtype=float)
    values = donors.to_numpy(dtype=float)
    n_pre = len(months_before)
    if n_pre < MIN_SYNTHETIC_PRE:
        return (f"no synthetic control: it needs at least {MIN_SYNTHETIC_PRE} months before "
                f"the start in the data; there are {n_pre}")
    if not months_after:
        return "no synthetic control: no month from the start in the data"
    if values.shape[1] < 2:
        return "no synthetic control: fewer than 2 donor places"
    if len(target) != n_pre + len(months_after) or values.shape[0] != len(target):
        raise ValueError(f"The 'target' and 'donors' parameters of synthetic_control must have "
                         f"one row per month ({n_pre + len(months_after)}). Got {len(target)} "
                         f"and {values.shape[0]} instead.")

    def ratio(gaps: np.ndarray, series: np.ndarray) -> float:
        # With more donors than months the fit before the start can be exact (it fits the
        # noise): the pre-period RMSPE is floored at the Poisson standard deviation of the
        # unit's monthly count, so an over-fitted placebo does not get an infinite ratio.
        noise = math.sqrt(max(float(np.mean(series[:n_pre])), 1.0))
        pre = max(math.sqrt(float(np.mean(gaps[:n_pre] ** 2))), noise)
        return math.sqrt(float(np.mean(gaps[n_pre:] ** 2))) / pre

    weights, gaps = _gaps(values, target, n_pre)
    own = ratio(gaps, target)
    ratios = []
    for j in range(values.shape[1]):
        others = np.delete(values, j, axis=1)
        ratios.append(ratio(_gaps(others, values[:, j], n_pre)[1], values[:, j]))
    extreme = sum(1 for r in ratios if r >= own)
    synthetic = values @ weights
    return SyntheticControl(
        weights={str(c): float(w) for c, w in zip(donors.columns, weights) if w >= 0.001},
        effect=float(gaps[n_pre:].sum()), synthetic_after=float(synthetic[n_pre:].sum()),
        pre_rmspe=math.sqrt(float(np.mean(gaps[:n_pre] ** 2))),
        post_rmspe=math.sqrt(float(np.mean(gaps[n_pre:] ** 2))),
        p_placebo=(1 + extreme) / (1 + len(ratios)), placebos=len(ratios),
        months_before=months_before, months_after=months_after)


def donor_panel(incidents: pd.DataFrame, donors, exclude: shapely.Geometry,
                months: Sequence[str]) -> pd.DataFrame:
    """Monthly incidents of donor places (LSOAs) clear of `exclude`.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``x``, ``y``, ``month``.
    donors : geopandas.GeoDataFrame
        Candidate places with ``lsoa21cd`` and geometry (EPSG:27700).
    exclude : shapely geometry
        Target, buffer and other responses' places: donors touching it are left out.
    months : sequence of str

    Returns
    -------
    pandas.DataFrame
        Index: months; columns: donor codes (points on a shared edge count in each).
    """
    clear = donors[~donors.geometry.intersects(exclude)] if not exclude.is_empty else donors
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    month = incidents["month"].astype(str).to_numpy()
    columns = {}
    for code, geometry in zip(clear["lsoa21cd"], clear.geometry):
        inside = shapely.intersects_xy(geometry, x, y)
        columns[code] = [int((inside & (month == m)).sum()) for m in months]
    return pd.DataFrame(columns, index=list(months))


# ------------------------------------------------------------------------------ places
def place_from_hotspots(outlines, ids: Sequence[int], *, settings: dict | None = None,
                        months: Sequence[str] = ()) -> tuple[shapely.Geometry, dict]:
    """A response place made of hotspot outlines.

    Parameters
    ----------
    outlines : geopandas.GeoDataFrame
        Hotspot outlines (EPSG:27700) with ``hotspot_id``.
    ids : sequence of int
        The outlines chosen (at least one).
    settings : dict, optional
        The analysis settings that drew them (bandwidth, cell size, threshold ...), kept with
        the place so it can be redrawn.
    months : sequence of str
        The months of the analysis.

    Returns
    -------
    geometry, place : shapely geometry, dict
    """
    wanted = [int(i) for i in ids]
    known = [int(i) for i in outlines["hotspot_id"]]
    unknown = [i for i in wanted if i not in known]
    if not wanted or unknown:
        raise ValueError(f"place: expected hotspot ids among {known}; got "
                         f"{unknown or 'none'}.")
    chosen = outlines[outlines["hotspot_id"].isin(wanted)]
    geometry = shapely.make_valid(_union(chosen.geometry))
    span = f" of {months[0]} to {months[-1]}" if months else ""
    place = {"kind": "hotspots", "ids": wanted,
             "names": [f"Hotspot {i}" for i in wanted],
             "description": f"hotspot outline(s) {', '.join(map(str, wanted))}{span}",
             "settings": {**(settings or {}), "months": list(months)}}
    return _polygonal(geometry), place


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts (make_valid may add lines or points)."""
    if isinstance(geometry, shapely.GeometryCollection) and not isinstance(
            geometry, (shapely.MultiPolygon,)):
        parts = [g for g in geometry.geoms
                 if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
        geometry = shapely.union_all(parts) if parts else shapely.Polygon()
    return geometry


def _chosen_lsoas(lsoas, codes: Sequence[str], column: str, expected: str,
                  plural: str) -> tuple[list[str], pd.DataFrame]:
    """The stripped `codes` and the rows of `lsoas` whose `column` holds one of them.

    Raises ``ValueError`` naming `expected` codes, how many `plural` the area has and the
    unknown codes, when none is given or any is not in `column`.
    """
    wanted = [str(c).strip() for c in codes if str(c).strip()]
    known = set(lsoas[column])
    unknown = [c for c in wanted if c not in known]
    if not wanted or unknown:
        raise ValueError(f"place: expected {expected} of the area ({len(known)} {plural}, "
                         f"e.g. {min(known) if known else 'none'}); got {unknown or 'none'}.")
    return wanted, lsoas[lsoas[column].isin(wanted)]


def place_from_lsoas(lsoas, codes: Sequence[str]) -> tuple[shapely.Geometry, dict]:
    """A response place made of 2021 LSOAs (``lsoa21cd``, ``lsoa21nm``, geometry)."""
    wanted, chosen = _chosen_lsoas(lsoas, codes, "lsoa21cd", "2021 LSOA codes", "LSOAs")
    names = list(chosen["lsoa21nm"]) if "lsoa21nm" in chosen else wanted
    return (_union(chosen.geometry),
            {"kind": "lsoas", "ids": wanted, "names": [str(n) for n in names],
             "description": f"LSOA(s) {', '.join(wanted)}"})


def place_from_wards(lsoas, codes: Sequence[str]) -> tuple[shapely.Geometry, dict]:
    """A response place made of 2024 wards (the union of their LSOAs, ONS best fit)."""
    wanted, chosen = _chosen_lsoas(lsoas, codes, "ward_code", "2024 ward codes", "wards")
    names = list(dict.fromkeys(chosen["ward_name"]))
    return (_union(chosen.geometry),
            {"kind": "wards", "ids": wanted, "names": [str(n) for n in names],
             "description": f"ward(s) {', '.join(names)} ({', '.join(wanted)}), as their "
                            f"LSOAs"})


def place_from_geojson(data: bytes | str, *, name: str = "upload") -> tuple[shapely.Geometry, dict]:
    """A response place from GeoJSON text (EPSG:4326), reprojected to EPSG:27700."""
    geometry = parse_target(data, label=name)
    return geometry, {"kind": "geojson", "names": [name],
                      "description": f"uploaded GeoJSON polygon {name} (EPSG:4326, reprojected "
                                     f"to EPSG:27700)"}


def audit_recorder(log, *, role: str) -> Callable[[dict], None]:
    """The ``audit`` callable of :class:`geodata.responses.ResponseStore` for an audit log.

    Parameters
    ----------
    log : auth.audit.AuditLog
    role : str
        The role label of who makes the change.

    Returns
    -------
    callable
        Records ``response_changed`` with the response id, CSP, action and changed fields
        (never the place's coordinates).
    """
    def record(change: dict) -> None:
        log.record("response_changed", user=change["user"], role=role,
                   what=f"response {change['response_id']} {change['action']}: "
                        f"{change['title']}",
                   response_id=int(change["response_id"]), area=change["lad_code"],
                   action=change["action"], fields=change["fields"])
    return record


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hotspots.responses",
        description="Evaluate a response at a place: Weighted Displacement Difference and "
                    "Quotient before/after, with a buffer ring and a control area.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{evaluate,list,add}")
    e = sub.add_parser("evaluate", help="evaluate a place given as a GeoJSON polygon on "
                                        "police.uk files (the store is not touched)")
    e.add_argument("--incidents", nargs="+", type=Path, default=None,
                   help="police.uk street-level CSV files")
    e.add_argument("--target", type=Path, default=None,
                   help="GeoJSON polygon of the place (EPSG:4326 longitude/latitude)")
    e.add_argument("--start", default=None,
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
    e.add_argument("--id", type=int, default=None, dest="response_id",
                   help="evaluate a stored response on the incident store instead (its place "
                        "and start month; --incidents, --target and --start are then not "
                        "used)")
    e.add_argument("--store", metavar="DIR", default=None,
                   help="with --id: the store folder (default HUMBER_DATA_DIR or the "
                        "data_dir setting)")
    ls = sub.add_parser("list", help="list stored responses")
    ls.add_argument("--area", default=None, help="only this CSP (LAD code)")
    ls.add_argument("--status", choices=STATUSES, default=None)
    ls.add_argument("--type", default=None, help="a type key of config/response_types.toml")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.add_argument("--store", metavar="DIR", default=None,
                    help="the store folder (default HUMBER_DATA_DIR or the data_dir setting)")
    a = sub.add_parser("add", help="store a response (audited)")
    a.add_argument("--title", required=True)
    a.add_argument("--type", required=True, help="a type key of config/response_types.toml")
    a.add_argument("--lead-agency", required=True)
    a.add_argument("--partners", default="", help="comma-separated partner agencies")
    a.add_argument("--area", required=True, help="the CSP (LAD code), e.g. E06000010")
    a.add_argument("--start", required=True, help="first month, YYYY-MM")
    a.add_argument("--end", default=None, help="last month, YYYY-MM (optional)")
    a.add_argument("--status", choices=STATUSES, default="active")
    a.add_argument("--notes", default="")
    place = a.add_mutually_exclusive_group(required=True)
    place.add_argument("--target", type=Path, help="GeoJSON polygon (EPSG:4326)")
    place.add_argument("--lsoa", help="comma-separated 2021 LSOA codes")
    place.add_argument("--ward", help="comma-separated 2024 ward codes")
    a.add_argument("--user", default=None, help="who adds it (default: the login name)")
    a.add_argument("--format", choices=("table", "json"), default="table")
    a.add_argument("--store", metavar="DIR", default=None,
                   help="the store folder (default HUMBER_DATA_DIR or the data_dir setting)")
    return p


def run(argv: Sequence[str] | None = None) -> ResponseEvaluation:
    """Parse ``evaluate`` arguments, read the files and evaluate (exits 2 on bad input)."""
    from geodata.errors import DataValidationError
    from hotspots._cli import load_every_crime_type

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "evaluate":
        raise ValueError(f"run evaluates; got the command {args.command!r} (use main).")
    sub = "python -m hotspots.responses evaluate"

    def fail(message: str):
        parser.exit(2, f"{sub}: error: {message}\n")

    if args.response_id is not None:
        return _evaluate_stored(args, fail)
    absent = [name for name, value in (("--incidents", args.incidents),
                                       ("--target", args.target), ("--start", args.start))
              if value is None]
    if absent:
        fail(f"the following arguments are required: {', '.join(absent)} (or --id N for a "
             f"stored response).")

    if not _MONTH.match(args.start):
        fail(f"--start must be a month YYYY-MM; got {args.start!r}.")
    group = _checked_window_and_group(args, fail)
    missing = [str(p) for p in args.incidents if not Path(p).is_file()]
    if missing:
        fail(f"No such incident file(s): {', '.join(missing)}.")
    try:
        target = read_target(args.target)
        control = None if args.control is None else read_target(args.control, what="--control")
        incidents, lsoas = load_every_crime_type(args.incidents)
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
    chosen = incidents[incidents["crime_type"].isin(list(group.types))
                       & incidents["month"].astype(str).isin(before + after)]
    monthly = monthly_counts(chosen, areas, before + after)
    km2 = areas.areas_km2()
    extra = {"pre": args.pre, "post": args.post, "buffer_m": args.buffer,
             "crime_group": group.name, "study_area": study_text,
             "target_area_km2": km2["target"], "buffer_area_km2": km2["buffer"],
             "control_area_km2": km2["control"], "months_in_files": present,
             "files": [str(p) for p in args.incidents]}
    try:
        return evaluate_monthly(monthly, args.start, pre=args.pre, post=args.post,
                                months_present=present, control_text=areas.control_text,
                                extra=extra)
    except ValueError as error:
        fail(str(error))


def _response_store(directory: str | None):
    from geodata.ingest import default_store_dir
    from geodata.responses import FILE_NAME, ResponseStore

    folder = Path(directory).expanduser() if directory else default_store_dir()
    return ResponseStore(folder / FILE_NAME), folder


def _list(args) -> int:
    """``list``: the stored responses, filtered."""
    from config import get_config
    from config.response_types import get_response_types

    prog = "python -m hotspots.responses list"
    codes = get_config().area_codes
    if args.area is not None and args.area not in codes:
        _exit(prog, f"--area: expected one of {', '.join(codes)}; got {args.area!r}.")
    types = get_response_types()
    if args.type is not None and args.type not in types:
        _exit(prog, f"--type: expected one of {', '.join(types)}; got {args.type!r}.")
    store, _ = _response_store(args.store)
    rows = [r.record() for r in store.list(
        lad_codes=None if args.area is None else [args.area], status=args.status,
        type=args.type)]
    if args.format == "json":
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    if not rows:
        print("No responses.")
        return 0
    columns = ["id", "lad_code", "status", "type", "start_month", "end_month", "title",
               "lead_agency", "place", "area_km2"]
    print(pd.DataFrame(rows)[columns].to_string(index=False))
    return 0


def _exit(prog: str, message: str) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _add(args) -> int:
    """``add``: validate, store and audit one response."""
    import getpass

    from auth.audit import AuditLog
    from geodata.errors import DataValidationError
    from geodata.reference import load_lsoa_table
    from geodata.responses import ResponseValidationError

    prog = "python -m hotspots.responses add"
    try:
        if args.target is not None:
            if not Path(args.target).is_file():
                _exit(prog, f"--target {args.target}: no such file; {GEOJSON_EXPECTED}.")
            geometry, place = place_from_geojson(Path(args.target).read_bytes(),
                                                 name=Path(args.target).name)
        else:
            lsoas = load_lsoa_table()
            lsoas = lsoas[lsoas["lad_code"] == args.area] if args.area in set(
                lsoas["lad_code"]) else lsoas
            codes = (args.lsoa or args.ward).split(",")
            builder = place_from_lsoas if args.lsoa else place_from_wards
            geometry, place = builder(lsoas, codes)
            if args.area in set(lsoas["lad_code"]):
                place["description"] += " of the CSP"
    except (DataValidationError, ValueError) as error:
        _exit(prog, f"{'--target' if args.target else '--lsoa' if args.lsoa else '--ward'}: "
                    f"{error}")
    store, folder = _response_store(args.store)
    user = args.user or getpass.getuser()
    values = {"title": args.title, "type": args.type, "lead_agency": args.lead_agency,
              "partners": args.partners, "lad_code": args.area, "start_month": args.start,
              "end_month": args.end, "status": args.status, "notes": args.notes,
              "geometry": geometry, "place": place}
    log = AuditLog(folder / "audit.jsonl")
    try:
        response = store.add(values, user=user, audit=audit_recorder(log, role="command line"))
    except ResponseValidationError as error:
        flag = {"lad_code": "--area", "start_month": "--start", "end_month": "--end",
                "lead_agency": "--lead-agency"}.get(error.field, f"--{error.field}")
        _exit(prog, f"{flag}: {error}")
    if args.format == "json":
        print(json.dumps(response.record(), indent=1, ensure_ascii=False))
    else:
        print(f"added response {response.id}: {response.title} ({response.lad_code}, from "
              f"{response.start_month}; {response.place['description']}; "
              f"{response.geometry.area / 1e6:,.3f} km²)")
    return 0


def _checked_window_and_group(args, fail):
    """The crime group of ``--crime-group`` (the configured default if none), after checking
    ``--pre``, ``--post`` and ``--buffer``; `fail` reports the first bad one."""
    from config import get_config

    if args.pre < 1:
        fail(f"--pre must be at least 1 month; got {args.pre}.")
    if args.post < 1:
        fail(f"--post must be at least 1 month; got {args.post}.")
    if not (math.isfinite(args.buffer) and args.buffer >= 0):
        fail(f"--buffer must be a number of metres >= 0; got {args.buffer}.")
    cfg = get_config()
    name = args.crime_group or cfg.default_crime_group
    groups = {g.name: g for g in cfg.crime_groups}
    if name not in groups:
        fail(f"Unknown crime group {name!r}; known: {', '.join(groups)}.")
    return groups[name]


def _evaluate_stored(args, fail) -> ResponseEvaluation:
    """``evaluate --id N``: a stored response on the incident store."""
    from geodata.ingest import open_store
    from geodata.reference import load_lsoa_table

    group = _checked_window_and_group(args, fail).name
    responses, folder = _response_store(args.store)
    try:
        response = responses.get(args.response_id)
    except (KeyError, ValueError) as error:
        fail(str(error).strip('"'))
    incidents = open_store(folder)
    lsoas = load_lsoa_table()
    before, _ = period_months(response.start_month, args.pre, args.post)
    present = [m for m in before if m in set(incidents.months())]
    outlines = None
    settings = {}
    if present:
        outlines, settings = default_hotspot_outlines(incidents, lsoas, response.lad_code,
                                                      present, group)
    try:
        result = evaluate_in_store(response, incident_store=incidents, lsoas=lsoas,
                                   hotspot_outlines=outlines, all_responses=responses.list(),
                                   crime_group=group, pre=args.pre, post=args.post,
                                   buffer_m=args.buffer)
    except ValueError as error:
        fail(str(error))
    result.extra["control_hotspot_settings"] = settings
    return result


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hotspots.responses``; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        return _list(args)
    if args.command == "add":
        return _add(args)
    result = run(argv)
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
