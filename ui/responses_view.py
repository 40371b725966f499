"""The Responses page's pieces: the store, who may edit, evaluations, chart, map and form.

The page (``views/responses.py``) reads widgets and calls these. Evaluations come from
:func:`hotspots.responses.evaluate_response` on the incident store's incidents, with the
control drawn from the same hotspot outlines the page's map shows (``ui.cached.hotspots``).
Partner viewers get :func:`hotspots.responses.disclosed_evaluation` (rounded counts, the
statistics recomputed from them, no harm) and only response places that hold at least the
disclosure threshold of incidents, generalised like hotspot outlines.
"""

from __future__ import annotations

import dataclasses
import re

import altair as alt
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from auth.roles import Viewer
from config import get_config
from config.harm import HARM_LABEL
from config.response_types import get_response_types
from geodata.crs import BNG
from geodata.errors import DataValidationError
from geodata.responses import (
    STATUSES,
    Response,
    ResponseConflict,
    ResponseStore,
    ResponseValidationError,
    default_responses_path,
)
from hotspots import responses as lib
from hotspots.disclosure import DisclosureRule, shown_count
from ui import cached, deck
from ui.access import audit

RESPONSE_COLOUR = [0, 140, 90]
#: Query parameters the hotspot profile's "Record a response here" link sets.
LINK_PARAMS = ("area", "hotspot", "group", "from", "to", "bw", "cell", "tm", "tv", "ms")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def md(text) -> str:
    """User text made safe for Markdown: every Markdown character escaped."""
    return _MARKDOWN.sub(r"\\\1", str(text))


@st.cache_resource(show_spinner=False)
def _store(path: str) -> ResponseStore:
    return ResponseStore(path)


def store() -> ResponseStore:
    """The responses store beside the incident store (``HUMBER_DATA_DIR``)."""
    return _store(str(default_responses_path()))


def can_edit(viewer: Viewer, lad_code: str) -> bool:
    """Analysts and admins edit everywhere, ``csp:<LAD>`` users in their CSP, others never."""
    if viewer.role in ("analyst", "admin"):
        return True
    return viewer.role == "csp" and viewer.lad_code == lad_code


def auditor(viewer: Viewer):
    """The store's ``audit`` callable for this viewer (``response_changed`` records)."""
    return lib.audit_recorder(audit(), role=viewer.label)


# ------------------------------------------------------------------------------ hotspots
@dataclasses.dataclass(frozen=True)
class HotspotSettings:
    """The analysis that draws the "current hotspots" of the page: the map's settings."""

    bandwidth: float
    cell_size: float
    threshold_method: str
    threshold_value: float
    measure: str = "count"

    def text(self) -> str:
        """How the hotspots are drawn, for captions."""
        how = (f"densest {self.threshold_value:g}% of the area"
               if self.threshold_method == "top_percent"
               else f"{self.threshold_value:g} × the area's mean density")
        return (f"kernel density of {'harm' if self.measure == 'harm' else 'incidents'}, "
                f"bandwidth {self.bandwidth:g} m, cells {self.cell_size:g} m, threshold: {how}")

    def record(self) -> dict:
        """The settings kept with a place made of these hotspots."""
        return {"bandwidth_m": self.bandwidth, "cell_size_m": self.cell_size,
                "threshold_method": self.threshold_method,
                "threshold_value": self.threshold_value, "measure": self.measure}


def hotspot_settings(area_code: str, group: str, rule: DisclosureRule | None) -> HotspotSettings:
    """The CSP map's settings passed in the link from a hotspot profile, else the defaults
    (the back-tested bandwidth, ``config/settings.toml``); disclosure floors for partners.
    """
    config = get_config()
    params = st.query_params

    def number(name: str, setting: str, fallback: float) -> float:
        value = params.get(name)
        try:
            value = float(value) if value is not None else fallback
        except ValueError:
            return fallback
        spec = config.setting(setting)
        return value if spec.min <= value <= spec.max else fallback

    method = params.get("tm")
    if method not in ("top_percent", "mean_multiple"):
        method = str(config.setting("hotspot_threshold_method").default)
    value_setting = "hotspot_top_percent" if method == "top_percent" else "hotspot_mean_multiple"
    chosen = HotspotSettings(
        bandwidth=number("bw", "kde_bandwidth", cached.default_bandwidth(area_code, group)),
        cell_size=number("cell", "kde_cell_size",
                         float(config.setting("kde_cell_size").default)),
        threshold_method=method,
        threshold_value=number("tv", value_setting,
                               float(config.setting(value_setting).default)),
        measure="harm" if params.get("ms") == "harm" else "count")
    if rule is not None:  # partners: the floors, and counts only
        chosen = dataclasses.replace(chosen, bandwidth=rule.bandwidth(chosen.bandwidth),
                                     cell_size=rule.cell_size(chosen.cell_size),
                                     measure="count")
    return chosen


def current_hotspots(area_code: str, months: tuple[str, ...], group: str,
                     settings: HotspotSettings, rule: DisclosureRule | None):
    """The CSP's hotspot analysis for the months: the same call as the CSP page's map."""
    return cached.hotspot_analysis(area_code, months, group, bandwidth=settings.bandwidth,
                         cell_size=settings.cell_size,
                         threshold_method=settings.threshold_method,
                         threshold_value=settings.threshold_value, measure=settings.measure,
                         disclosure=rule)


# ------------------------------------------------------------------------------ evaluation
def evaluate(response: Response, *, months: tuple[str, ...], group: str,
             settings: HotspotSettings, pre: int, post: int, buffer_m: float,
             others: tuple[tuple[int, int], ...]) -> lib.ResponseEvaluation:
    """Evaluate one response (cached per response version, store version and settings).

    Raises
    ------
    ValueError
        When the store has no month before (or from) the start: the message says which.
    """
    return _evaluate(response.id, response.version, months, group,
                     dataclasses.astuple(settings), pre, post, buffer_m, others,
                     cached.store_version())


@st.cache_data(show_spinner="Evaluating the response…", max_entries=64)
def _evaluate(response_id, version, months, group, settings, pre, post, buffer_m, others,
              store_version) -> lib.ResponseEvaluation:
    responses = store()
    response = responses.get(response_id)
    everything = responses.list(lad_codes=[response.lad_code])
    before, after = lib.period_months(response.start_month, pre, post)
    stored = set(cached.available_months())
    window = tuple(m for m in before + after if m in stored)
    incidents = cached.selected_incidents(response.lad_code, window, group) if window else \
        pd.DataFrame({"x": [], "y": [], "month": [], "harm": []})
    analysis = current_hotspots(response.lad_code, months, group, HotspotSettings(*settings),
                                None)
    name = get_config().area(response.lad_code).name
    return lib.evaluate_response(
        response, incidents, study_area=cached.study_area(response.lad_code),
        study_text=name, months_present=sorted(stored), hotspot_outlines=analysis.outlines,
        other_responses=everything, pre=pre, post=post, buffer_m=buffer_m, crime_group=group,
        donors=cached.lsoa_table().query("lad_code == @response.lad_code"))


def monthly_chart(result: lib.ResponseEvaluation, *, measure: str = "count") -> alt.Chart:
    """Monthly counts (or harm) in target, buffer and control, one panel each (own scale),
    the start month marked; months missing from the data are left out, not drawn as 0.
    """
    names = {"target": "Target (T)", "buffer": "Buffer (D)", "control": "Control (C)"}
    rows = []
    for row in result.monthly:
        if not row["present"]:
            continue
        for key, label in names.items():
            value = row.get(f"{key}_harm" if measure == "harm" else key)
            rows.append({"month": row["month"], "area": label, "value": value})
    frame = pd.DataFrame(rows, columns=["month", "area", "value"])
    title = HARM_LABEL if measure == "harm" else "Incidents"
    months = [row["month"] for row in result.monthly]
    lines = alt.Chart().mark_line(point=True).encode(
        x=alt.X("month:O", title="Month", scale=alt.Scale(domain=months)),
        y=alt.Y("value:Q", title=title),
        tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("month:O", title="Month"),
                 alt.Tooltip("value:Q", title=title, format=",.0f")])
    start = alt.Chart().mark_rule(strokeDash=[4, 3], color="#444").encode(
        x=alt.datum(result.start))
    # a faceted chart cannot stretch to its container: a fixed panel width
    return (alt.layer(lines, start, data=frame).properties(height=110, width=560)
            .facet(row=alt.Row("area:N", title=None, sort=list(names.values())))
            .resolve_scale(y="independent"))


def _fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:,.{digits}f}"


def figures_table(result: lib.ResponseEvaluation, rule: DisclosureRule | None) -> pd.DataFrame:
    """Before/after counts of T, D and C over the months compared, with plain labels."""
    def count(value):
        if value is None or value < 0:
            return f"<{rule.threshold}" if rule is not None else "n/a"
        return f"{int(value):,}"

    span_b = f"{result.months_before[0]}..{result.months_before[-1]}"
    span_a = f"{result.months_after[0]}..{result.months_after[-1]}"
    rows = [("Target (the response's place)", result.target_before, result.target_after),
            ("Buffer ring (displacement / diffusion)", result.buffer_before,
             result.buffer_after),
            ("Control", result.control_before, result.control_after)]
    return pd.DataFrame([{"Area": a, f"Incidents before ({span_b})": count(b),
                          f"Incidents after ({span_a})": count(c)} for a, b, c in rows])


def render_evaluation(result: lib.ResponseEvaluation, rule: DisclosureRule | None) -> None:
    """Chart, WDD/WDQ figures with plain labels, the control used and the verdict."""
    extra = result.extra
    st.caption(f"{extra.get('crime_group', '')}: {len(result.months_before)} month(s) before "
               f"the start ({', '.join(result.months_before)}) against "
               f"{len(result.months_after)} from it ({', '.join(result.months_after)})"
               + (f"; not in the data: {', '.join(result.months_missing)}"
                  if result.months_missing else "")
               + f". Buffer: a {extra.get('buffer_m', 0):g} m ring.")
    measure = "count"
    if rule is None and "target_harm_before" in extra:
        measure = st.radio("Chart", ["count", "harm"], horizontal=True,
                           key=f"response_chart_{extra.get('response_id')}",
                           format_func={"count": "Incidents", "harm": HARM_LABEL}.get)
    st.altair_chart(monthly_chart(result, measure=measure))
    st.caption("Dashed line: the response's first month. Each panel has its own scale.")
    st.dataframe(figures_table(result, rule), hide_index=True)
    columns = st.columns(3)
    if result.wdd_p is not None:
        columns[0].metric(
            "Net change, target + buffer (WDD)", f"{result.wdd:+,.1f} incidents",
            help=f"Weighted Displacement Difference (Wheeler & Ratcliffe 2018): change in "
                 f"target and buffer minus the change the control implies; negative = fewer "
                 f"incidents. 95% interval {_fmt(result.wdd_ci[0])} to "
                 f"{_fmt(result.wdd_ci[1])}; z = {_fmt(result.wdd_z, 2)}.")
        columns[0].caption(f"95% interval {_fmt(result.wdd_ci[0])} to "
                           f"{_fmt(result.wdd_ci[1])}; p = {result.wdd_p:.3f}")
        columns[1].metric(
            "Net change, target only", f"{result.wdd_target:+,.1f} incidents",
            help="The target's change minus the control's (no buffer).")
        columns[1].caption(f"95% interval {_fmt(result.wdd_target_ci[0])} to "
                           f"{_fmt(result.wdd_target_ci[1])}; p = "
                           f"{_fmt(result.wdd_target_p, 3)}")
    columns[2].metric("Displacement quotient (WDQ)",
                      "not shown" if result.wdq is None else f"{result.wdq:.2f}",
                      help="Weighted Displacement Quotient (Bowers & Johnson 2003): only when "
                           "the target improved against the control.")
    columns[2].caption(result.wdq_reading or result.wdq_reason)
    st.markdown(f"**Control:** {md(result.control)}.")
    st.info(result.verdict)
    synthetic = extra.get("synthetic")
    if synthetic is not None and rule is None:
        st.markdown(
            f"**Synthetic control** (Abadie et al. 2010; donors: "
            f"{len(synthetic['weights'])} LSOAs of the CSP clear of the response): "
            f"{synthetic['effect']:+,.1f} incidents against the weighted donors over "
            f"{', '.join(synthetic['months_after'])} (synthetic: "
            f"{synthetic['synthetic_after']:,.1f}); placebo-in-space p = "
            f"{synthetic['p_placebo']:.3f} over {synthetic['placebos']} placebos; "
            f"fit before the start: RMSPE {synthetic['pre_rmspe']:,.2f} a month.")
    elif extra.get("synthetic_reason"):
        st.caption(md(extra["synthetic_reason"].capitalize() + "."))


def evaluations_summary(results: list[lib.ResponseEvaluation]) -> None:
    """All responses of the CSP: outcomes and the pooled WDD (partners pass their disclosed
    evaluations, so the pooled figures come from rounded counts).
    """
    summary = lib.summarise_evaluations(results)
    text = (f"{summary['responses']} response(s) evaluated: {summary['reduction']} "
            f"reduction(s), {summary['increase']} increase(s), {summary['no clear change']} "
            f"with no clear change, {summary['too few incidents']} with too few incidents, "
            f"{summary['not evaluable']} not evaluable.")
    if summary["wdd"] is not None:
        low, high = summary["wdd_ci"]
        text += (f" Pooled net change (sum of WDDs, target + buffer): "
                 f"{summary['wdd']:+,.1f} incidents (95% interval {low:,.1f} to {high:,.1f}, "
                 f"p = {summary['wdd_p']:.3f}). {summary['caveat']}")
    st.markdown(md(text))


# ------------------------------------------------------------------------------ list and map
def response_frame(responses: list[Response]) -> pd.DataFrame:
    """The list shown on the page (no geometry)."""
    types = get_response_types()
    names = {a.code: a.short_name for a in get_config().areas}
    return pd.DataFrame([{
        "Id": r.id, "Title": r.title, "Type": types.get(r.type, r.type),
        "CSP": names.get(r.lad_code, r.lad_code), "Status": r.status, "Start": r.start_month,
        "End": r.end_month or "", "Lead agency": r.lead_agency,
        "Partners": ", ".join(r.partners), "Place": r.place.get("description", ""),
        "Area (km²)": round(r.geometry.area / 1e6, 3)} for r in responses],
        columns=["Id", "Title", "Type", "CSP", "Status", "Start", "End", "Lead agency",
                 "Partners", "Place", "Area (km²)"])


def drawable_places(responses: list[Response], incidents: pd.DataFrame,
                    rule: DisclosureRule | None) -> tuple[list[Response], int]:
    """Places that may be drawn: all for exact roles; for partners only those holding at
    least ``rule.threshold`` incidents of the map's months, generalised to
    ``rule.generalise_m``. Returns the places and how many were withheld.
    """
    if rule is None:
        return responses, 0
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    shown = []
    for r in responses:
        n = int(shapely.intersects_xy(r.geometry, x, y).sum()) if len(x) else 0
        if n >= rule.threshold:
            generalised = shapely.set_precision(r.geometry, rule.generalise_m)
            if not generalised.is_empty:
                shown.append(dataclasses.replace(r, geometry=generalised))
    return shown, len(responses) - len(shown)


def response_map(area_code: str, responses: list[Response], analysis, *, period: str,
                 rule: DisclosureRule | None) -> None:
    """Response places (green) over the current hotspot outlines (red) and the CSP boundary."""
    config = get_config()
    types = get_response_types()
    layers = []
    lads = cached.lad_boundaries()
    lads = lads[lads["lad_code"] == area_code]
    layers.append(deck.boundary_layer(deck.polygon_records(lads, ["lad_code"]),
                                      layer_id="csp_boundaries", colour=deck.LAD_COLOUR,
                                      width_px=2.0))
    outlines = analysis.outlines
    if len(outlines):
        frame = outlines[["hotspot_id", "incidents", "geometry"]].copy()
        records = deck.polygon_records(frame, ["hotspot_id", "incidents"])
        for record in records:
            count = (f"{int(record['incidents']):,}" if rule is None
                     else shown_count(record["incidents"], rule))
            record["tooltip"] = deck.tooltip_text(f"Hotspot {int(record['hotspot_id'])}",
                                                  [f"Incidents: {count} ({period})"])
            record.pop("incidents")
        layers.append(deck.outline_layer(records, layer_id="hotspots",
                                         colour=deck.HOTSPOT_COLOUR))
    if responses:
        frame = gpd.GeoDataFrame(
            {"response_id": [r.id for r in responses],
             "title": [r.title for r in responses],
             "kind": [types.get(r.type, r.type) for r in responses],
             "status": [r.status for r in responses],
             "start": [r.start_month for r in responses]},
            geometry=[r.geometry for r in responses], crs=BNG)
        records = deck.polygon_records(frame, ["response_id", "title", "kind", "status", "start"])
        for record in records:  # plain text: the deck shows tooltips with innerText
            record["tooltip"] = deck.tooltip_text(
                f"Response {int(record.pop('response_id'))}: {record.pop('title')}",
                [f"{record.pop('kind')}, {record.pop('status')}, from {record.pop('start')}"])
        layers.append(deck.outline_layer(records, layer_id="responses", colour=RESPONSE_COLOUR,
                                         width_px=3.0, fill_alpha=60))
    bounds = tuple(cached.lsoa_table().query("lad_code == @area_code").total_bounds)
    chart = deck.build_deck(layers, deck.view_for_bounds(bounds),
                            basemap_style=str(config.setting("basemap_style").default))
    st.pydeck_chart(chart, height=520, key="responses_map")
    st.caption(f"Green: response places; red: hotspot outlines of {period}; black: the CSP.")


# ------------------------------------------------------------------------------ the form
def _place_input(area_code: str, analysis, months: tuple[str, ...], settings: HotspotSettings,
                 *, key: str, preselected: int | None, current: Response | None):
    """Place picker: hotspot outlines, LSOAs, wards or a GeoJSON upload.

    Returns (geometry, place) or (None, None) when nothing new is chosen (an edit keeps the
    stored place).
    """
    lsoas = cached.lsoa_table()
    lsoas = lsoas[lsoas["lad_code"] == area_code]
    kinds = {"hotspots": "Current hotspot outline(s)", "lsoas": "LSOAs", "wards": "Wards",
             "geojson": "Upload a GeoJSON polygon (EPSG:4326)"}
    options = (["keep"] if current is not None else []) + list(kinds)
    index = options.index("hotspots") if preselected is not None else 0
    kind = st.radio("Place", options, index=index, key=f"{key}_kind", horizontal=True,
                    format_func=lambda k: "Keep the stored place" if k == "keep" else kinds[k])
    if kind == "keep":
        st.caption(f"Stored place: {md(current.place.get('description', ''))}")
        return None, None
    if kind == "hotspots":
        ids = [int(i) for i in analysis.outlines["hotspot_id"]]
        default = [preselected] if preselected in ids else []
        chosen = st.multiselect("Hotspots (as numbered on the map and in the hotspot table)",
                                ids, default=default, key=f"{key}_hotspots",
                                format_func=lambda i: f"Hotspot {i}")
        st.caption(f"Hotspots of {months[0]} to {months[-1]}: {settings.text()}.")
        if not chosen:
            return None, "Choose at least one hotspot."
        return lib.place_from_hotspots(analysis.outlines, chosen, settings=settings.record(),
                                       months=months)
    if kind == "lsoas":
        names = dict(zip(lsoas["lsoa21cd"], lsoas["lsoa21nm"]))
        chosen = st.multiselect("LSOAs", sorted(names), key=f"{key}_lsoas",
                                format_func=lambda c: f"{names[c]} ({c})")
        if not chosen:
            return None, "Choose at least one LSOA."
        return lib.place_from_lsoas(lsoas, chosen)
    if kind == "wards":
        wards = dict(zip(lsoas["ward_code"], lsoas["ward_name"]))
        chosen = st.multiselect("Wards (2024, as their LSOAs)", sorted(wards, key=wards.get),
                                key=f"{key}_wards", format_func=lambda c: f"{wards[c]} ({c})")
        if not chosen:
            return None, "Choose at least one ward."
        return lib.place_from_wards(lsoas, chosen)
    upload = st.file_uploader("GeoJSON polygon (longitude/latitude, EPSG:4326)",
                              type=["geojson", "json"], key=f"{key}_upload")
    if upload is None:
        return None, "Upload a GeoJSON file."
    try:
        return lib.place_from_geojson(upload.getvalue(), name=upload.name)
    except DataValidationError as error:
        return None, str(error)


def response_link_params(area_code: str, hotspot_id: int, *, months: tuple[str, ...],
                         group: str, bandwidth: float, cell_size: float,
                         threshold_method: str, threshold_value: float,
                         measure: str) -> dict[str, str]:
    """Query parameters opening the Responses page with a CSP map's hotspot preselected
    (the same months, crime group and analysis settings, so the hotspot ids match).
    """
    return {"area": area_code, "hotspot": str(int(hotspot_id)), "group": group,
            "from": months[0], "to": months[-1], "bw": f"{bandwidth:g}",
            "cell": f"{cell_size:g}", "tm": threshold_method, "tv": f"{threshold_value:g}",
            "ms": measure}


def response_form(viewer: Viewer, area_code: str, analysis, months: tuple[str, ...],
                  settings: HotspotSettings, *, current: Response | None = None,
                  preselected: int | None = None) -> Response | None:
    """Create (``current`` None) or edit a response of `area_code`; stores and audits it.

    Returns the stored response after a successful save, else None.
    """
    types = get_response_types()
    key = f"response_form_{current.id if current else 'new'}"
    geometry, place = _place_input(area_code, analysis, months, settings, key=key,
                                   preselected=preselected, current=current)
    with st.form(key):
        title = st.text_input("Title", value=current.title if current else "",
                              max_chars=200, key=f"{key}_title")
        kind = st.selectbox("Type", list(types), format_func=types.get, key=f"{key}_type",
                            index=list(types).index(current.type)
                            if current and current.type in types else 0)
        lead = st.text_input("Lead agency", value=current.lead_agency if current else "",
                             max_chars=200, key=f"{key}_lead")
        partners = st.text_input("Partners (comma-separated)",
                                 value=", ".join(current.partners) if current else "",
                                 key=f"{key}_partners")
        months_all = cached.available_months()
        default_start = current.start_month if current else (months_all[-1] if months_all
                                                             else "")
        start = st.text_input("Start month (YYYY-MM)", value=default_start, key=f"{key}_start")
        end = st.text_input("End month (YYYY-MM, optional)",
                            value=(current.end_month or "") if current else "",
                            key=f"{key}_end")
        status = st.selectbox("Status", STATUSES, key=f"{key}_status",
                              index=STATUSES.index(current.status) if current else 1)
        notes = st.text_area("Notes", value=current.notes if current else "", max_chars=5000,
                             key=f"{key}_notes")
        submitted = st.form_submit_button("Save changes" if current else "Record response")
    if not submitted:
        return None
    if geometry is None and current is None:
        st.error(f"Place: {place or 'choose the place.'}")
        return None
    values = {"title": title, "type": kind, "lead_agency": lead, "partners": partners,
              "start_month": start, "end_month": end or None, "status": status, "notes": notes}
    if geometry is not None:
        if not geometry.intersects(cached.study_area(area_code)):
            st.error("Place: expected a place inside the CSP; the one chosen lies outside it.")
            return None
        values.update(geometry=geometry, place=place)
    try:
        if current is None:
            saved = store().add({**values, "lad_code": area_code}, user=viewer.name,
                                audit=auditor(viewer))
        else:
            saved = store().update(current.id, values, user=viewer.name, audit=auditor(viewer),
                                   expected_version=current.version)
    except ResponseValidationError as error:
        st.error(f"Not saved. {error}")
        return None
    except ResponseConflict as error:
        st.error(f"Not saved. {error}")
        return None
    st.success(f"Saved response {saved.id}: {md(saved.title)}.")
    return saved


def history_table(response: Response) -> pd.DataFrame:
    """Every change of a response: when, who, what (old → new; places by description)."""
    rows = []
    for change in store().history(response.id):
        for name, (old, new) in change["changes"].items():
            if name == "geometry":
                continue
            if name == "place":
                old = (old or {}).get("description", "") if isinstance(old, dict) else old
                new = (new or {}).get("description", "") if isinstance(new, dict) else new
            rows.append({"When (UTC)": change["at"], "Who": change["user"],
                         "Action": change["action"], "Field": name,
                         "Old": "" if old is None else str(old),
                         "New": "" if new is None else str(new)})
    return pd.DataFrame(rows, columns=["When (UTC)", "Who", "Action", "Field", "Old", "New"])
