"""The "Since the last meeting" page's pieces: the CSP and meeting pickers, and the answer.

The answer is the selection's one analysis (:func:`ui.cached.hotspots`, that is
:func:`hotspots.tasking.hotspots_with_change`) for the months since the meeting, which
compares them with the same number of months before: the hotspots that are new, intensifying,
diminishing or ceased, and the places that moved most (:func:`hotspots.tasking.places_that_moved`).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from config import AppConfig
from geodata.meetings import last_meeting, remember_meeting
from hotspots.disclosure import DisclosureRule
from hotspots.pipeline import area_lsoas, period_label
from hotspots.tasking import HotspotsWithChange, places_that_moved
from ui import cached, deck
from ui.access import viewer

#: The change classes the meeting asks about, in the order shown, with what each means.
CLASSES = {
    "new": ("New", "hotspot cells now that were not a hotspot before"),
    "intensifying": ("Intensifying", "hotspot in both periods, density up by more than 25%"),
    "diminishing": ("Diminishing", "hotspot in both periods, density down by more than 25%"),
    "ceased": ("Ceased", "a hotspot before that is no longer one"),
}
#: Outline colours on the map, by class (persistent: the map's hotspot red).
CLASS_COLOURS = {"new": [215, 25, 28], "intensifying": [166, 15, 90],
                 "persistent": [240, 120, 40], "diminishing": [49, 130, 189],
                 "ceased": [110, 110, 110]}
MOVED_SHOWN = 10
#: Below this many incidents before, a percentage change is not shown (4 to 23 is "+475%").
MIN_FOR_PERCENT = 5


def area_picker(config: AppConfig, codes: list[str], *, key: str) -> str:
    """Pick the CSP (LAD code): the URL's ``area`` (slug or code), else the first allowed."""
    slugs = {a.code: a.slug for a in config.areas}
    requested = st.query_params.get("area")
    by_slug = {a.slug: a.code for a in config.areas}
    wanted = by_slug.get(requested, requested)
    index = codes.index(wanted) if wanted in codes else 0
    code = st.sidebar.selectbox("Community Safety Partnership", codes, index=index,
                                format_func=lambda c: config.area(c).name, key=f"{key}_area")
    if st.query_params.get("area") != slugs[code]:
        st.query_params["area"] = slugs[code]
    return code


def meeting_picker(area_code: str, months: list[str], *, key: str) -> str:
    """Return the last meeting's month, ``YYYY-MM``.

    The URL's ``since``, else the CSP's remembered month, else the latest stored month. A
    change is remembered for the CSP (not by aggregate-only roles) and put in the URL, so the
    link opens the same comparison.
    """
    current = viewer()
    remembered = last_meeting(area_code)
    previous_area = st.session_state.get(f"{key}_shown_area")
    if previous_area is not None and previous_area != area_code:
        st.query_params.pop("since", None)  # another CSP: its own remembered meeting
    st.session_state[f"{key}_shown_area"] = area_code
    requested = st.query_params.get("since")
    options = list(reversed(months))
    default = next((m for m in (requested, remembered, options[0]) if m in options), options[0])
    widget = f"{key}_since_{area_code}"

    def save() -> None:
        if not current.aggregate_only:
            remember_meeting(area_code, st.session_state[widget], by=current.name)

    chosen = st.sidebar.selectbox(
        "Last meeting (month)", options, index=options.index(default), key=widget,
        on_change=save,
        help="The month of the CSP's last tasking meeting. 'Since' covers that month to the "
             "latest stored month (police.uk publishes a month some weeks after it ends, so "
             "the meeting did not see its own month), compared with as many months just "
             "before. " + ("Remembered for this CSP for everyone." if not current.aggregate_only
                           else "Kept in the page's link."))
    if remembered is not None:
        st.sidebar.caption(f"Remembered last meeting for this CSP: {remembered}.")
    if st.query_params.get("since") != chosen:
        st.query_params["since"] = chosen
    return chosen


def map_bandwidth(config: AppConfig, area_code: str, crime_group: str,
                  rule: DisclosureRule | None) -> float:
    """Return the bandwidth the CSP map opens with, metres.

    The back-tested one on the slider's steps, within its range (raised to the disclosure
    floor for aggregate-only roles).
    """
    setting = config.setting("kde_bandwidth")
    low = setting.min if rule is None else max(setting.min, rule.min_bandwidth_m)
    best = cached.default_bandwidth(area_code, crime_group)
    value = float(min(max(round(best / setting.step) * setting.step, low), setting.max))
    return value if rule is None else rule.bandwidth(value)


def _count(value, rule: DisclosureRule | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"<{rule.threshold}" if rule is not None else "–"
    return f"{int(value):,}"


def _signed(value, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+,.{digits}f}{suffix}"


def class_counts(result: HotspotsWithChange) -> dict[str, int]:
    """Hotspots per class: the selection's by their class, the earlier ones that ceased."""
    counts = result.table["persistence"].value_counts()
    out = {name: int(counts.get(name, 0)) for name in CLASSES if name != "ceased"}
    earlier = result.previous.table if result.previous is not None else pd.DataFrame()
    out["ceased"] = int((earlier.get("persistence", pd.Series(dtype=object)) == "ceased")
                        .sum())
    return out


def moved_table(result: HotspotsWithChange, rule: DisclosureRule | None) -> pd.DataFrame:
    """Format the places that moved most: text columns, the periods in the headers."""
    moved = places_that_moved(result)
    since, before = period_label(result.months), period_label(result.previous_months)
    return pd.DataFrame({
        "Place": moved["name"],
        "What happened": moved["status"].map(lambda s: CLASSES.get(s, (str(s).capitalize(),))
                                             [0] if s else "unclassed"),
        f"Incidents {before}": [_count(v, rule) for v in moved["before"]],
        f"Incidents {since}": [_count(v, rule) for v in moved["after"]],
        "Change": [_signed(v) for v in moved["change"]],
        "Change (%)": [_signed(v, 0, "%") if b >= MIN_FOR_PERCENT else "–"
                       for v, b in zip(moved["change_pct"], moved["before"].fillna(0))],
    })


def _class_table(result: HotspotsWithChange, name: str,
                 rule: DisclosureRule | None) -> pd.DataFrame:
    since, before = period_label(result.months), period_label(result.previous_months)
    if name == "ceased":
        earlier = result.previous.table
        rows = earlier[earlier["persistence"] == "ceased"]
        return pd.DataFrame({"Hotspot (before)": rows["name"],
                             f"Incidents {before}": [_count(v, rule) for v in rows["incidents"]],
                             f"Incidents {since}": [_count(v, rule)
                                                    for v in rows["incidents_after"]]})
    rows = result.table[result.table["persistence"] == name]
    return pd.DataFrame({"Hotspot": rows["name"],
                         f"Incidents {before}": [_count(v, rule)
                                                 for v in rows["incidents_before"]],
                         f"Incidents {since}": [_count(v, rule) for v in rows["incidents"]]})


def _map(area_code: str, result: HotspotsWithChange, rule: DisclosureRule | None,
         basemap_style: str) -> None:
    """Map the current hotspots coloured by class, and the ceased ones in grey."""
    since, before = period_label(result.months), period_label(result.previous_months)
    layers = []
    lads = cached.lad_boundaries()
    layers.append(deck.boundary_layer(
        deck.polygon_records(lads[lads["lad_code"] == area_code], ["lad_code"]),
        layer_id="csp_boundaries", colour=deck.LAD_COLOUR, width_px=2.0))
    frames = []
    if result.previous is not None and len(result.previous.outlines):
        earlier = result.previous.outlines
        ceased = earlier[earlier["persistence"] == "ceased"]
        frames.append(("ceased", ceased.assign(
            _tip=[deck.tooltip_text(n, ["Ceased", f"Incidents {before}: {_count(a, rule)}",
                                        f"Incidents {since}: {_count(b, rule)}"])
                  for n, a, b in zip(ceased["name"], ceased["incidents"],
                                     ceased["incidents_after"])])))
    now = result.outlines
    for name in ("persistent", "diminishing", "intensifying", "new"):
        rows = now[now["persistence"] == name]
        frames.append((name, rows.assign(_tip=[
            deck.tooltip_text(n, [CLASSES.get(name, (name.capitalize(),))[0],
                                  f"Incidents {before}: {_count(a, rule)}",
                                  f"Incidents {since}: {_count(b, rule)}"])
            for n, a, b in zip(rows["name"], rows["incidents_before"], rows["incidents"])])))
    for name, frame in frames:
        records = deck.polygon_records(frame, ["_tip"])
        for record in records:
            record["tooltip"] = record.pop("_tip")
        layers.append(deck.outline_layer(records, layer_id=f"meeting_{name}",
                                         colour=CLASS_COLOURS[name]))
    bounds = tuple(area_lsoas(cached.lsoa_table(), area_code).total_bounds)
    st.pydeck_chart(deck.build_deck(layers, deck.view_for_bounds(bounds),
                                    basemap_style=basemap_style),
                    height=520, key=f"meeting_map_{area_code}")
    legend = " ".join(
        f'<span style="display:inline-block;margin-right:14px">'
        f'<span style="display:inline-block;width:18px;height:4px;vertical-align:middle;'
        f'background:rgb({r},{g},{b})"></span> {label}</span>'
        for key, (r, g, b) in CLASS_COLOURS.items()
        for label in [CLASSES.get(key, ("Persistent",))[0]])
    st.html(f'<div style="font-size:0.85rem">Hotspots {since} against {before}: {legend}'
            f"</div>")


def since_last_meeting(area_code: str, area_name: str, result: HotspotsWithChange, *,
                       rule: DisclosureRule | None, basemap_style: str) -> None:
    """Render the comparison: counts per class, the map, the lists and the ranked movers."""
    since, before = period_label(result.months), period_label(result.previous_months)
    if not result.previous_months:
        st.warning(f"{result.comparison} The hotspots of {since} are on the CSP's page; no "
                   f"hotspot can be called new, ceased, intensifying or diminishing here.")
        return
    n = len(result.months)
    st.subheader(f"{area_name}: {since} against {before}")
    st.caption(f"The {n} month{'s' if n > 1 else ''} since the meeting against the {n} just "
               f"before, both complete and contiguous. Hotspots: {result.threshold_label} "
               f"(kernel density, the CSP map's settings); a hotspot takes the class of most "
               f"of its grid cells, densities compared per month.")
    counts = class_counts(result)
    for column, (name, (label, meaning)) in zip(st.columns(len(CLASSES)), CLASSES.items()):
        column.metric(f"{label} hotspots", f"{counts[name]:,}", help=meaning.capitalize() + ".")
    _map(area_code, result, rule, basemap_style)
    st.subheader("Places that moved most")
    moved = moved_table(result, rule)
    if moved.empty:
        st.info("No hotspot in either period.")
    else:
        st.dataframe(moved.head(MOVED_SHOWN), hide_index=True, width="stretch")
        st.caption(f"Incidents inside each outline in each period, ranked by the size of the "
                   f"change (the top {MOVED_SHOWN} of {len(moved)}). Ceased hotspots are "
                   f"outlines of {before}; the others of {since}. No percentage is given "
                   f"from fewer than {MIN_FOR_PERCENT} incidents: too few to read as a trend."
                   + (f" Counts are rounded to multiples of {rule.rounding}, those below "
                      f"{rule.threshold} shown as \"<{rule.threshold}\"; changes come from the "
                      f"rounded counts." if rule is not None else ""))
    for name, (label, meaning) in CLASSES.items():
        table = _class_table(result, name, rule)
        with st.expander(f"{label} hotspots ({len(table)}): {meaning}"):
            if table.empty:
                st.caption(f"No {label.lower()} hotspot.")
            else:
                st.dataframe(table, hide_index=True, width="stretch")
