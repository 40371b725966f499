"""One analysis of a selection for the map, the tasking pack, the meeting page and evaluations.

:func:`hotspots_with_change` is the single place where a selection's hotspots are found,
named, compared with the comparable previous period and classed. Every consumer (the map and
its tables in :mod:`ui.cached`, :mod:`reports.tasking_pack`, the "Since the last meeting"
page, the response evaluation's hotspot outlines) draws from its result, so the pack's
outlines are the map's for the same filters, and the previous-period, change and persistence
steps exist once.

The steps:

1. :func:`hotspots.pipeline.hotspot_analysis` on the selected months (surface, outlines at
   the chosen threshold, ranked table; protected for aggregate-only audiences).
2. The comparable previous period (:func:`hotspots.pipeline.comparable_previous_period`:
   contiguous, of equal length, entirely stored), or none and why.
3. The same analysis, same parameters, on the previous period.
4. :func:`hotspots.change.hotspot_change` between the two surfaces per month, thresholded as
   the map is (same method and value), and each hotspot's class: the plurality of its
   cells (:func:`hotspots.hotspot_profile.persistence_by_outline`); an earlier hotspot is
   *ceased* when most of its hotspot cells are.
5. A name for every hotspot from its busiest street (:func:`busiest_streets`).

Everything is in EPSG:27700 metres. No Streamlit, no I/O: incidents come from a `load`
callable the caller provides (the store, a cached wrapper, a test frame).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.change import HotspotChange, hotspot_change
from hotspots.disclosure import DisclosureRule, rounded_counts
from hotspots.hotspot_profile import persistence_by_outline, street_name
from hotspots.kde import DensitySurface
from hotspots.pipeline import (
    HotspotAnalysis,
    calendar_months,
    comparable_previous_period,
    density_surface,
    hotspot_analysis,
)
from hotspots.summary import assign_to_polygons

__all__ = ["CHANGE_STATUSES", "EARLIER_PREFIX", "HotspotsWithChange", "busiest_streets",
           "comparison_period",
           "emerging_by_outline", "hotspot_names", "hotspots_with_change", "months_since",
           "named_hotspots", "places_that_moved"]

#: How :func:`hotspots_with_change` names the previous period's hotspots.
EARLIER_PREFIX = "Earlier hotspot"

#: What :func:`places_that_moved` calls a place, in the order the meeting page lists them.
CHANGE_STATUSES: tuple[str, ...] = ("new", "intensifying", "persistent", "diminishing",
                                    "ceased")

#: Separator of "Hotspot 2 — Newland Avenue" (an em dash, as the README writes it).
NAME_SEPARATOR = " — "


@dataclass(frozen=True)
class HotspotsWithChange(HotspotAnalysis):
    """A selection's hotspots with their names, their change and the period compared.

    It is a :class:`hotspots.pipeline.HotspotAnalysis` (``surface``, ``threshold``,
    ``threshold_label``, ``outlines``, ``table``, ``n_incidents``), whose ``outlines`` and
    ``table`` also carry, per hotspot:

    - ``street``: the busiest street inside it (police.uk map point names, ``"On or near"``
      dropped), ``""`` when none of its incidents has a location;
    - ``name``: ``"Hotspot 2 — Newland Avenue"`` (``"Hotspot 2"`` without a street);
    - ``persistence``: its change class against the previous period (new, persistent,
      intensifying, diminishing or ceased; ``""`` when there is no comparable period);
    - ``incidents_before``: incidents of the previous period inside the same outline (NaN
      without a comparable period; rounded, NaN when suppressed, for aggregate-only
      audiences).

    Parameters
    ----------
    months : tuple of str
        The selected months, ``YYYY-MM``.
    previous_months : tuple of str
        The comparable previous period, ``()`` when there is none.
    comparison : str
        One sentence: what the selection is compared with, or why it is not.
    change : HotspotChange or None
        Cell classes between the previous period and the selection (densities per month);
        None without a comparison.
    previous : HotspotAnalysis or None
        The previous period's hotspots, same parameters, with ``street``, ``name``
        (``"Earlier hotspot 1 — …"``), ``persistence`` (of its cells: ``"ceased"`` when
        most are) and ``incidents_after`` (the selection's incidents inside it). None
        without a comparison, or when computed with ``earlier_hotspots=False``.
    """

    months: tuple[str, ...] = ()
    previous_months: tuple[str, ...] = ()
    comparison: str = ""
    change: HotspotChange | None = None
    previous: HotspotAnalysis | None = None

    @property
    def persistence(self) -> dict[int, str]:
        """Hotspot id -> change class, for hotspots whose class is known."""
        if "persistence" not in self.table:
            return {}
        return {int(i): str(c) for i, c in zip(self.table["hotspot_id"],
                                               self.table["persistence"]) if c}

    @property
    def names(self) -> dict[int, str]:
        """Hotspot id -> its name (``"Hotspot 2 — Newland Avenue"``)."""
        return dict(zip(self.table["hotspot_id"].astype(int), self.table["name"]))


def busiest_streets(incidents: pd.DataFrame, ids) -> dict[int, str]:
    """Find the busiest street of each area: its most frequent police.uk location name.

    Parameters
    ----------
    incidents : pandas.DataFrame
        With a ``location`` column (police.uk ``"On or near X"``; may be missing or empty).
    ids : array-like of int, shape (n,)
        Area id of each incident row (positional), -1 when in none, as from
        :func:`hotspots.summary.assign_to_polygons`.

    Returns
    -------
    dict of int to str
        Area id -> street. Ties go to the alphabetically first name, so the name does not
        depend on row order. police.uk names of kinds of place ("Nightclub", "Supermarket",
        :func:`geodata.places.is_street`) are not streets and are skipped. Areas whose
        incidents have no street are left out.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) != len(incidents):
        raise ValueError(f"busiest_streets: 'ids' must have one value per incident row "
                         f"({len(incidents)}). Got {len(ids)} instead.")
    if "location" not in incidents.columns or not len(incidents):
        return {}
    inside = np.flatnonzero(ids >= 0)
    # parse each distinct location once (a few thousand map points, not every incident)
    codes, locations = pd.factorize(incidents["location"].iloc[inside], use_na_sentinel=True)
    names = [_street_or_blank(v) for v in locations]
    street_of, streets = pd.factorize(np.array(names + [""], dtype=object))
    blank = street_of[-1]                      # the code of "" (no street)
    street = street_of[codes]                  # code -1 (no location) takes the "" row
    keep = street != blank
    if not keep.any():
        return {}
    area, street = ids[inside][keep], street[keep]
    keys, counts = np.unique(area * len(streets) + street, return_counts=True)
    pairs = np.column_stack(np.divmod(keys, len(streets)))
    alphabetical = np.empty(len(streets), dtype=np.int64)
    alphabetical[np.argsort(np.asarray(streets, dtype=str), kind="stable")] = \
        np.arange(len(streets))
    # per area: most incidents first, ties by the alphabetically first street
    order = np.lexsort((alphabetical[pairs[:, 1]], -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.r_[True, pairs[1:, 0] != pairs[:-1, 0]]
    return {int(a): str(streets[k]) for a, k in pairs[first]}


@functools.lru_cache(maxsize=1 << 16)
def _street_or_blank(location: str) -> str:
    """The street of a police.uk location, "" when it names a kind of place or nothing (a
    few thousand distinct map points, parsed once per process)."""
    from geodata.places import is_street  # on use: importing hotspots loads no geodata

    name = street_name(location) or ""
    return name if is_street(name) else ""


def hotspot_names(ids: Iterable[int], streets: dict[int, str], *,
                  prefix: str = "Hotspot") -> list[str]:
    """``"Hotspot 2 — Newland Avenue"`` for each id (``"Hotspot 2"`` without a street)."""
    return [f"{prefix} {int(i)}" + (f"{NAME_SEPARATOR}{streets[int(i)]}"
                                    if streets.get(int(i)) else "") for i in ids]


def _name(analysis: HotspotAnalysis, incidents: pd.DataFrame, *,
          prefix: str) -> tuple[HotspotAnalysis, np.ndarray]:
    """Add ``street`` and ``name`` columns; return the analysis and each incident's id."""
    x = incidents["x"].to_numpy(dtype=float)
    y = incidents["y"].to_numpy(dtype=float)
    outlines, table = analysis.outlines, analysis.table
    if outlines.empty:
        ids = np.full(len(incidents), -1, dtype=np.int64)
        outlines = outlines.assign(street=pd.Series([], dtype=object),
                                   name=pd.Series([], dtype=object))
        table = table.assign(street=pd.Series([], dtype=object),
                             name=pd.Series([], dtype=object))
        return dataclasses.replace(analysis, outlines=outlines, table=table), ids
    ids = assign_to_polygons(x, y, outlines, "hotspot_id")
    streets = busiest_streets(incidents, ids)
    hotspot_ids = outlines["hotspot_id"].astype(int).tolist()
    street = [streets.get(i, "") for i in hotspot_ids]
    name = hotspot_names(hotspot_ids, streets, prefix=prefix)
    outlines = outlines.assign(street=street, name=name)
    by_id = dict(zip(hotspot_ids, zip(street, name)))
    table = table.assign(street=[by_id[int(i)][0] for i in table["hotspot_id"]],
                         name=[by_id[int(i)][1] for i in table["hotspot_id"]])
    return dataclasses.replace(analysis, outlines=outlines, table=table), ids


def _counts_inside(incidents: pd.DataFrame, outlines: gpd.GeoDataFrame,
                   disclosure: DisclosureRule | None) -> np.ndarray:
    """Incidents inside each outline (in the outlines' order); rounded with `disclosure`."""
    if outlines.empty:
        return np.zeros(0)
    ids = assign_to_polygons(incidents["x"].to_numpy(dtype=float),
                             incidents["y"].to_numpy(dtype=float), outlines, "hotspot_id")
    counts = pd.Series(ids[ids >= 0]).value_counts()
    values = outlines["hotspot_id"].astype(int).map(counts).fillna(0).to_numpy(dtype=float)
    return values if disclosure is None else rounded_counts(values, disclosure)


def _per_month(surface: DensitySurface, n_months: int) -> DensitySurface:
    return dataclasses.replace(surface, density=np.asarray(surface.density) / n_months,
                               total_weight=surface.total_weight / n_months)


def _with_column(analysis: HotspotAnalysis, column: str, values) -> HotspotAnalysis:
    """`values` (one per outline, in the outlines' order) as `column` of outlines and table."""
    outlines = analysis.outlines.assign(**{column: values})
    by_id = dict(zip(outlines["hotspot_id"].astype(int), outlines[column]))
    table = analysis.table.assign(**{column: [by_id[int(i)] for i in
                                              analysis.table["hotspot_id"]]})
    return dataclasses.replace(analysis, outlines=outlines, table=table)


def comparison_period(months: Iterable[str], stored_months: Iterable[str],
                      load: Callable[[tuple[str, ...]], pd.DataFrame]
                      ) -> tuple[tuple[str, ...], str]:
    """The previous period a selection's hotspots are compared with, and why.

    The comparable previous period (:func:`hotspots.pipeline.comparable_previous_period`:
    complete, contiguous, of equal length), unless either period holds no incident.

    Parameters
    ----------
    months, stored_months : iterable of str
        The selected and the stored months, ``YYYY-MM``.
    load : callable
        ``load(months) -> DataFrame`` of the selection's incidents in those months.

    Returns
    -------
    previous_months : tuple of str
        Empty when there is nothing to compare with.
    comparison : str
        Which period the selection is compared with, or why it is compared with none.
    """
    months = tuple(sorted(set(months)))
    previous_months, comparison = comparable_previous_period(months, stored_months)
    previous_months = tuple(previous_months)
    if previous_months:
        earlier, now = load(previous_months), load(months)
        if len(earlier) == 0 or len(now) == 0:
            empty = "the previous period" if len(earlier) == 0 else "the selected months"
            comparison = (f"{comparison} There are no incidents in {empty}, so no hotspot "
                          f"can be classed as new, persistent or ceased.")
            previous_months = ()
    return previous_months, comparison


def named_hotspots(incidents: pd.DataFrame, *, prefix: str = "Hotspot",
                   **params) -> HotspotAnalysis:
    """One period's hotspots (:func:`hotspots.pipeline.hotspot_analysis` with `params`),
    each named by its busiest street: ``street`` and ``name`` (``"Hotspot 2 — Newland
    Avenue"``, with `prefix` for "Hotspot") columns in its outlines and table."""
    return _name(hotspot_analysis(incidents, **params), incidents, prefix=prefix)[0]


def hotspots_with_change(load: Callable[[tuple[str, ...]], pd.DataFrame], *,
                         months: Iterable[str], stored_months: Iterable[str],
                         study_area: shapely.Geometry, lsoas: pd.DataFrame, bandwidth: float,
                         cell_size: float, threshold_method: str, threshold_value: float,
                         weight: str | None = None, disclosure: DisclosureRule | None = None,
                         change_pct: float = 25.0,
                         analyse: Callable[[tuple[str, ...], str], HotspotAnalysis] | None
                         = None, earlier_hotspots: bool = True) -> HotspotsWithChange:
    """Find a selection's hotspots, name them and compare them with the previous period.

    Parameters
    ----------
    load : callable
        ``load(months) -> DataFrame``: the incidents of the selection's area and crime group
        in those months (a tuple of ``YYYY-MM``), with ``x``, ``y`` (EPSG:27700 metres),
        ``crime_type``, ``lsoa21cd``, ``location`` and the `weight` column if one is given.
        Called once for the selection and once for the previous period (if comparable).
    months : iterable of str
        The selected months, ``YYYY-MM``.
    stored_months : iterable of str
        The months the store holds (to find a comparable previous period).
    study_area : shapely geometry
        The area, EPSG:27700.
    lsoas : pandas.DataFrame
        ``lsoa21cd``, ``lsoa21nm``, ``imd_decile`` (for the ranked tables).
    bandwidth, cell_size : float
        Gaussian kernel standard deviation and grid cell side, metres.
    threshold_method : {"top_percent", "mean_multiple"}
        How hotspots are thresholded in both periods.
    threshold_value : float
        Percentage of the area, or multiple of the mean density.
    weight : str, optional
        Column of per-incident weights (harm): densities and ranks by it.
    disclosure : DisclosureRule, optional
        For aggregate-only audiences (see :func:`hotspots.pipeline.hotspot_analysis`); counts
        only, both periods protected, ``incidents_before`` rounded.
    change_pct : float, default 25.0
        Relative change of a hotspot cell's density beyond which it is intensifying or
        diminishing, per cent.
    analyse : callable, optional
        ``analyse(months, prefix) -> HotspotAnalysis``: each period's
        :func:`named_hotspots` with these settings, from a cache of the caller's (the
        dashboard keeps each period's analysis, so a period met again, or computed ahead on
        another core, is not computed twice). By default computed here.
    earlier_hotspots : bool, default True
        Find the previous period's own hotspots (``previous``: what ceased, and the places
        that moved). False computes only its density surface, which is all the change
        classes, ``persistence`` and ``incidents_before`` need (a map's view); ``previous``
        is then None.

    Returns
    -------
    HotspotsWithChange
    """
    months = tuple(sorted(set(months)))
    if not months:
        raise ValueError("The 'months' parameter of hotspots_with_change must name at least "
                         "one YYYY-MM month. Got none.")
    if not callable(load):
        raise TypeError(f"The 'load' parameter of hotspots_with_change must be a callable "
                        f"taking a tuple of months. Got {type(load).__name__} instead.")
    params = dict(study_area=study_area, lsoas=lsoas, bandwidth=bandwidth, cell_size=cell_size,
                  threshold_method=threshold_method, threshold_value=threshold_value,
                  weight=weight, disclosure=disclosure)
    loaded: dict[tuple[str, ...], pd.DataFrame] = {}

    def load_once(period: tuple[str, ...]) -> pd.DataFrame:
        if period not in loaded:
            loaded[period] = load(period)
        return loaded[period]

    if analyse is None:
        def analyse(period: tuple[str, ...], prefix: str) -> HotspotAnalysis:
            return named_hotspots(load_once(period), prefix=prefix, **params)
    elif not callable(analyse):
        raise TypeError(f"The 'analyse' parameter of hotspots_with_change must be a callable "
                        f"taking months and a name prefix. Got {type(analyse).__name__} "
                        f"instead.")
    incidents = load_once(months)
    current = analyse(months, "Hotspot")
    previous_months, comparison = comparison_period(months, stored_months, load_once)
    change, previous = None, None
    persistence = [""] * len(current.outlines)
    before_counts = np.full(len(current.outlines), np.nan)
    if previous_months:
        earlier = load_once(previous_months)
        if earlier_hotspots:
            previous = analyse(tuple(previous_months), EARLIER_PREFIX)
            earlier_surface = previous.surface
        else:
            earlier_surface = density_surface(
                earlier, study_area=study_area, bandwidth=bandwidth, cell_size=cell_size,
                weight=weight, disclosure=disclosure)
        change = hotspot_change(_per_month(earlier_surface, len(previous_months)),
                                _per_month(current.surface, len(months)),
                                threshold_method=threshold_method,
                                threshold_value=threshold_value, mask_geometry=study_area,
                                change_pct=change_pct)
        if len(current.outlines):
            classes = persistence_by_outline(change, current.outlines)
            persistence = [classes.get(int(i), "") for i in current.outlines["hotspot_id"]]
            before_counts = _counts_inside(earlier, current.outlines, disclosure)
        if previous is not None and len(previous.outlines):
            classes = persistence_by_outline(change, previous.outlines)
            previous = _with_column(previous, "persistence",
                                    [classes.get(int(i), "")
                                     for i in previous.outlines["hotspot_id"]])
            previous = _with_column(previous, "incidents_after",
                                    _counts_inside(incidents, previous.outlines,
                                                   disclosure))
        elif previous is not None:
            previous = _with_column(_with_column(previous, "persistence", []),
                                    "incidents_after", [])
    current = _with_column(current, "persistence", persistence)
    current = _with_column(current, "incidents_before", before_counts)
    fields = {f.name: getattr(current, f.name) for f in dataclasses.fields(HotspotAnalysis)}
    return HotspotsWithChange(**fields, months=months, previous_months=tuple(previous_months),
                              comparison=comparison, change=change, previous=previous)


def places_that_moved(result: HotspotsWithChange) -> pd.DataFrame:
    """Every hotspot of either period with its incidents before and after, ranked by change.

    Parameters
    ----------
    result : HotspotsWithChange
        With a comparable previous period (otherwise the frame is empty).

    Returns
    -------
    pandas.DataFrame
        ``name``, ``status`` (the hotspot's class; earlier hotspots only when ``"ceased"``),
        ``before`` and ``after`` (incidents inside the outline in the previous period and in
        the selection; rounded, NaN when suppressed, for aggregate-only audiences),
        ``change`` (``after - before``; NaN when either is suppressed) and ``change_pct``
        (NaN when ``before`` is 0 or unknown). Ranked by the size of the change, largest
        first, then by name; rows whose change is unknown last.
    """
    columns = ["name", "status", "before", "after", "change", "change_pct"]
    if not isinstance(result, HotspotsWithChange):
        raise TypeError(f"The 'result' parameter of places_that_moved must be a "
                        f"HotspotsWithChange. Got {type(result).__name__} instead.")
    if result.previous_months and result.previous is None:
        raise ValueError("places_that_moved needs the previous period's hotspots: compute "
                         "the result with earlier_hotspots=True. Got one without them.")
    if not result.previous_months:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in ("name", "status")
                                          else float) for c in columns})
    now = result.table
    rows = pd.DataFrame({"name": now["name"], "status": now["persistence"],
                         "before": now["incidents_before"].astype(float),
                         "after": now["incidents"].astype(float)})
    earlier = result.previous.table
    ceased = earlier[earlier["persistence"] == "ceased"]
    rows = pd.concat([rows, pd.DataFrame({"name": ceased["name"], "status": "ceased",
                                          "before": ceased["incidents"].astype(float),
                                          "after": ceased["incidents_after"].astype(float)})],
                     ignore_index=True)
    rows["change"] = rows["after"] - rows["before"]
    rows["change_pct"] = np.where(rows["before"] > 0,
                                  100.0 * rows["change"] / rows["before"].where(
                                      rows["before"] > 0), np.nan)
    rows["_size"] = rows["change"].abs()
    rows = rows.sort_values(["_size", "name"], ascending=[False, True], na_position="last",
                            kind="stable", ignore_index=True)
    return rows[columns]


def emerging_by_outline(result, outlines: gpd.GeoDataFrame, *,
                        id_name: str = "hotspot_id") -> tuple[dict[int, str], dict[int, str]]:
    """Give each outline the emerging hot spot category of the cells under it.

    Parameters
    ----------
    result : hotspots.emerging.EmergingHotSpots
        A cube with enough months (``result.enough``), EPSG:27700 cells.
    outlines : geopandas.GeoDataFrame
        Hotspot polygons (EPSG:27700) with the integer column `id_name`.
    id_name : str, default "hotspot_id"

    Returns
    -------
    classes : dict of int to str
        Outline id -> the category of the cells covering most of its area ("no pattern"
        included); outlines over no cell are left out.
    detail : dict of int to str
        Outline id -> ``"persistent hot spot 3; no pattern 1"``: its cells per category, most
        first, ties by name.
    """
    cells = result.cells(include_no_pattern=True)
    half = result.grid.cell_size / 2
    boxes = shapely.box(cells["x"] - half, cells["y"] - half, cells["x"] + half,
                        cells["y"] + half)
    categories = cells["category"].to_numpy()
    classes, detail = {}, {}
    for outline_id, geom in zip(outlines[id_name], outlines.geometry):
        overlap = shapely.area(shapely.intersection(boxes, geom))
        under = overlap > 0
        if not under.any():
            continue
        by_area = pd.Series(overlap[under]).groupby(categories[under]).sum()
        classes[int(outline_id)] = str(by_area.sort_values(ascending=False, kind="stable")
                                       .index[0])
        n = pd.Series(categories[under]).value_counts()
        n = n.iloc[np.lexsort((n.index.astype(str), -n.to_numpy()))]
        detail[int(outline_id)] = "; ".join(f"{name} {int(k)}" for name, k in n.items())
    return classes, detail


def months_since(meeting: str, stored_months: Iterable[str]) -> tuple[tuple[str, ...], str]:
    """List the months "since the last meeting": its month to the latest stored month.

    The meeting's own month is included: police.uk publishes a month some weeks after it
    ends, so a meeting never saw its own month's data.

    Parameters
    ----------
    meeting : str
        The month of the last meeting, ``YYYY-MM``.
    stored_months : iterable of str
        The months the store holds.

    Returns
    -------
    months : tuple of str
        Every calendar month from `meeting` to the latest stored month, or ``()`` when one
        of them is not stored or none is.
    reason : str
        Why there are no months (empty when there are).
    """
    stored = sorted(set(stored_months))
    first = calendar_months(meeting, meeting)[0]  # validates YYYY-MM
    if not stored or stored[-1] < first:
        latest = stored[-1] if stored else "no month"
        return (), (f"No data is stored from {first} on (the latest stored month is "
                    f"{latest}), so nothing has happened since that meeting in the data yet.")
    months = calendar_months(first, stored[-1])
    missing = [m for m in months if m not in set(stored)]
    if missing:
        return (), (f"The months since the meeting ({months[0]} to {months[-1]}) are not all "
                    f"stored ({len(missing)} missing, e.g. {missing[0]}), so they cannot be "
                    f"compared honestly; ingest the missing months first.")
    return months, ""
