"""Router of the Humber hotspot dashboard: one overview page and one page per CSP.

Pages live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside the
entrypoint as a legacy multipage app until ``st.navigation`` first runs, so after a restart a
bookmarked link such as ``/overview`` would bypass this router.
"""

import functools

import streamlit as st

from config import get_config
from ui.access import require_local_mode
from views import csp

st.set_page_config(page_title="Humber violence hotspots", layout="wide")
require_local_mode()

config = get_config()
overview = st.Page("views/overview.py", title=f"{config.region.name} overview",
                   url_path="overview", default=True)
area_pages = []
for area in config.areas:
    page = functools.partial(csp.render, area.code)
    page.__name__ = f"csp_{area.slug.replace('-', '_')}"
    area_pages.append(st.Page(page, title=area.short_name, url_path=area.slug))

need = st.Page("views/need.py", title="Need (commissioning)", url_path="need")
methods = st.Page("views/methods.py", title="Methods", url_path="methods")
data_page = st.Page("views/data.py", title="Data", url_path="data")

st.navigation({"Humber": [overview, need], "Community Safety Partnerships": area_pages,
               "Evidence": [methods, data_page]}).run()
