"""Humber overview: the four CSPs side by side and the Humber-wide map."""

import streamlit as st

from config import get_config
from ui import data
from ui.map_view import freshness_caption, render_map_section
from ui.concentration_view import concentration_section
from ui.places import find_a_place
from ui.summary_view import csp_cards, summary_table, trend_chart
from ui.widgets import map_filters

config = get_config()
st.title(f"{config.region.name} overview")
st.markdown(config.region.description)
freshness_caption()
focus = find_a_place(key="humber", lad_code=None)
filters = map_filters(config, data.available_months(), key="humber",
                      bandwidth_for=lambda group: data.default_bandwidth(None, group))

summary = data.csp_summary(filters.months, filters.crime_group)
st.subheader(f"{filters.crime_group}: {filters.months[0]} to {filters.months[-1]}")
csp_cards(summary)
left, right = st.columns([1, 1])
with left:
    summary_table(summary)
with right:
    trend_chart(filters.months, filters.crime_group)

st.subheader("How concentrated is it?")
concentration_section(None, filters.months, filters.crime_group)

st.subheader("Where incidents concentrate")
render_map_section(None, filters, config, focus=focus)
