"""The profile of one hotspot, for a tasking meeting."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from config.harm import HARM_LABEL
from geodata.paths import REPO_ROOT
from hotspots.hotspot_profile import HotspotProfile

#: The Responses page (absolute: resolves the same from the app and from tests).
RESPONSES_PAGE = REPO_ROOT / "views" / "responses.py"

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def selected_hotspot(event, ids: list[int], *, key: str) -> int | None:
    """The hotspot clicked on the map, else the one picked in the list (mirrored in the URL)."""
    clicked = None
    objects = (getattr(event, "selection", None) or {}).get("objects", {}) if event else {}
    for obj in objects.get("hotspots", []) or []:
        clicked = int(obj.get("hotspot_id")) if obj.get("hotspot_id") is not None else None
    if not ids:
        return None
    requested = st.query_params.get("hotspot")
    default = clicked or (int(requested) if requested and requested.isdigit() else None)
    index = ids.index(default) if default in ids else 0
    if clicked is not None:
        st.session_state[f"{key}_hotspot"] = clicked
    chosen = st.selectbox("Hotspot profile", ids, index=index, key=f"{key}_hotspot",
                          format_func=lambda i: f"Hotspot {i}",
                          help="Click a hotspot outline on the map, or pick it here.")
    st.query_params["hotspot"] = str(chosen)
    return chosen


def record_response_link(area_code: str, hotspot_id: int, filters) -> None:
    """"Record a response here": opens the Responses page with this hotspot preselected.

    Only on a CSP's own map (a ward's or the Humber's outlines are drawn on another area,
    so their ids would not match the CSP's) and for viewers who may edit that CSP.
    """
    from config import get_config
    from ui.access import viewer
    from ui.responses_view import can_edit

    if area_code not in get_config().area_codes or not can_edit(viewer(), area_code):
        return
    try:
        _response_page_link(area_code, hotspot_id, filters)
    except StreamlitPageNotFoundError:  # the page rendered outside the app's navigation
        st.caption("Record a response for this hotspot on the Responses page.")


def _response_page_link(area_code: str, hotspot_id: int, filters) -> None:
    """The page link itself (raises StreamlitPageNotFoundError outside the app's router)."""
    from ui.responses_view import response_link_params

    st.page_link(str(RESPONSES_PAGE), label="Record a response here",
                 icon=":material/add_task:",
                 query_params=response_link_params(
                     area_code, hotspot_id, months=tuple(filters.months),
                     group=filters.crime_group, bandwidth=filters.bandwidth,
                     cell_size=filters.cell_size, threshold_method=filters.threshold_method,
                     threshold_value=filters.threshold_value, measure=filters.measure),
                 help="Record what the tasking meeting agreed for this hotspot; its place, "
                      "months and settings are carried over.")


def render_profile(profile: HotspotProfile, *, respond: tuple | None = None) -> None:
    """Counts, crime mix, trend, streets, LSOAs, persistence and (with times) day × hour.

    `respond` ``(area_code, filters)`` adds the "Record a response here" link.
    """
    if respond is not None:
        record_response_link(respond[0], profile.hotspot_id, respond[1])
    columns = st.columns(3)
    columns[0].metric("Incidents", f"{profile.incidents:,}")
    columns[1].metric(HARM_LABEL, "n/a" if pd.isna(profile.harm) else f"{profile.harm:,.0f}")
    columns[2].metric("Persistence", profile.persistence or "unknown",
                      help="Change class of most of its hotspot cells against the previous "
                           "equal period: new, persistent, intensifying, diminishing.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Crime mix**")
        st.dataframe(profile.crime_mix.rename(columns={
            "crime_type": "Crime type", "incidents": "Incidents", "share_pct": "Share (%)"}),
            hide_index=True,
            column_config={"Share (%)": st.column_config.NumberColumn(format="%.1f")})
        st.markdown("**Month by month**")
        st.bar_chart(profile.monthly.set_index("month")["incidents"], x_label="Month",
                     y_label="Incidents", height=180)
    with right:
        st.markdown("**Streets** (police.uk location text)")
        st.dataframe(profile.streets.rename(columns={"street": "Street",
                                                     "incidents": "Incidents"}),
                     hide_index=True)
        st.markdown("**LSOAs**")
        st.dataframe(profile.lsoas.rename(columns={
            "lsoa21cd": "LSOA code", "lsoa21nm": "LSOA", "imd_decile": "IMD decile",
            "incidents": "Incidents"}), hide_index=True)
    if profile.day_hour is not None:
        st.markdown("**Day of week × hour**")
        grid = profile.day_hour.copy()
        grid.index = DAYS[:len(grid)]
        long = grid.reset_index(names="day").melt("day", var_name="hour", value_name="n")
        st.altair_chart(alt.Chart(long).mark_rect().encode(
            x=alt.X("hour:O", title="Hour"), y=alt.Y("day:N", sort=DAYS, title=None),
            color=alt.Color("n:Q", title="Incidents"),
            tooltip=["day", "hour", "n"]), width="stretch")
    else:
        st.caption("No day-of-week × hour grid: police.uk gives months only.")
