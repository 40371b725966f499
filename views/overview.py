"""Humber overview: the Humber-wide map first, then the four CSPs side by side."""

import streamlit as st

from config import get_config
from ui import cached, presentation
from ui.access import viewer
from ui.concentration_view import concentration_section
from ui.map_view import freshness_caption, render_map_section
from ui.places import find_a_place
from ui.summary_view import csp_cards, summary_table, trend_chart
from ui.widgets import map_filters

config = get_config()
focus = find_a_place(key="humber", lad_code=None)
filters = map_filters(config, cached.available_months(), key="humber",
                      bandwidth_for=lambda group: cached.default_bandwidth(None, group))

if presentation.active():
    presentation.present(config, viewer(), filters, start=presentation.HUMBER, page_area=None)
    st.stop()

presentation.start_button(key="humber")
map_details = render_map_section(
    None, filters, config, focus=focus, details=False,
    title=f"{config.region.name}: {filters.crime_group}",
    meanwhile=lambda: (cached.csp_summary(filters.months, filters.crime_group),
                       cached.csp_trend(filters.months, filters.crime_group)))

st.title(f"{config.region.name} overview")
st.markdown(config.region.description)
freshness_caption()
summary = cached.csp_summary(filters.months, filters.crime_group)
st.subheader(f"{filters.crime_group}: {filters.months[0]} to {filters.months[-1]}")
csp_cards(summary)
left, right = st.columns([1, 1])
with left:
    summary_table(summary)
with right:
    trend_chart(filters.months, filters.crime_group)

st.subheader("Where incidents concentrate")
map_details()

concentration_section(None, filters.months, filters.crime_group, key="humber")
