"""Since the last meeting: what changed in a CSP's hotspots since its last tasking meeting."""

import streamlit as st

from config import get_config
from hotspots.tasking import months_since
from ui import cached, meeting_view
from ui.access import viewer
from ui.disclosure import current_rule
from ui.map_view import attribution, freshness_caption

config = get_config()
current = viewer()
st.title("Since the last meeting")
freshness_caption()
codes = list(current.area_codes(config.area_codes)) if current.role != "public" else []
stored = cached.available_months()
if not codes or not stored:
    st.info("No CSP to show: this page needs a CSP you may see and stored months.")
    st.stop()
area_code = meeting_view.area_picker(config, codes, key="meeting")
meeting = meeting_view.meeting_picker(area_code, stored, key="meeting")
groups = [g.name for g in config.crime_groups]
requested = st.query_params.get("group")
group = st.sidebar.selectbox(
    "Crime-type group", groups,
    index=groups.index(requested if requested in groups else config.default_crime_group),
    key="meeting_group")
st.query_params["group"] = group

months, reason = months_since(meeting, stored)
if not months:
    st.warning(reason)
    st.stop()
rule = current_rule()
settings = dict(bandwidth=meeting_view.map_bandwidth(config, area_code, group, rule),
                cell_size=float(config.setting("kde_cell_size").default),
                threshold_method=str(config.setting("hotspot_threshold_method").default))
if rule is not None:  # partner: the server's floors, as on the map
    settings["cell_size"] = rule.cell_size(settings["cell_size"])
settings["threshold_value"] = float(config.setting(
    "hotspot_top_percent" if settings["threshold_method"] == "top_percent"
    else "hotspot_mean_multiple").default)
result = cached.hotspot_analysis(area_code, months, group, disclosure=rule,
                                 earlier_hotspots=True, **settings)
meeting_view.since_last_meeting(
    area_code, config.area(area_code).name, result, rule=rule,
    basemap_style=str(config.setting("basemap_style").default))
st.caption(f"{group}; kernel density bandwidth {settings['bandwidth']:g} m, "
           f"{settings['cell_size']:g} m cells, as the CSP map opens.")
attribution()
