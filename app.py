"""Router of the Humber hotspot dashboard: one overview page and one page per CSP."""

import functools

import streamlit as st

from config import get_config
from pages import csp

st.set_page_config(page_title="Humber violence hotspots", layout="wide")

config = get_config()
overview = st.Page("pages/overview.py", title=f"{config.region.name} overview",
                   url_path="overview", default=True)
area_pages = []
for area in config.areas:
    page = functools.partial(csp.render, area.code)
    page.__name__ = f"csp_{area.slug.replace('-', '_')}"
    area_pages.append(st.Page(page, title=area.short_name, url_path=area.slug))

st.navigation({"Humber": [overview], "Community Safety Partnerships": area_pages}).run()
