"""The profile of one hotspot, for a tasking meeting."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspots.profile import HotspotProfile

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


def render_profile(profile: HotspotProfile) -> None:
    """Counts, crime mix, trend, streets, LSOAs, persistence and (with times) day × hour."""
    columns = st.columns(3)
    columns[0].metric("Incidents", f"{profile.incidents:,}")
    columns[1].metric("Harm (CSS)", "n/a" if pd.isna(profile.harm) else f"{profile.harm:,.0f}")
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
