"""Router of the Humber hotspot dashboard: sign-in, then the pages the viewer's role allows.

Pages live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside the
entrypoint as a legacy multipage app until ``st.navigation`` first runs, so after a restart a
bookmarked link such as ``/overview`` would bypass this router.
"""

import functools

import streamlit as st

from config import get_config
from ui.access import current_viewer, logout_button
from views import csp

st.set_page_config(page_title="Humber violence hotspots", layout="wide")

config = get_config()
current = current_viewer()  # signs in (or checks single-analyst mode) before anything shows
logout_button(current)

humber = []
if current.humber_wide:
    humber.append(st.Page("views/overview.py", title=f"{config.region.name} overview",
                          url_path="overview", default=True))
humber.append(st.Page("views/need.py", title="Need (commissioning)", url_path="need",
                      default=not current.humber_wide))
area_pages = []
if current.role != "public":  # the public sees the Humber as a whole only
    for area in config.areas:
        if area.code not in current.area_codes(config.area_codes):
            continue
        page = functools.partial(csp.render, area.code)
        page.__name__ = f"csp_{area.slug.replace('-', '_')}"
        area_pages.append(st.Page(page, title=area.short_name, url_path=area.slug))
evidence = []
if not current.aggregate_only:
    evidence.append(st.Page("views/methods.py", title="Methods", url_path="methods"))
if current.can_ingest:
    evidence.append(st.Page("views/data.py", title="Data", url_path="data"))

sections = {"Humber": humber, "Community Safety Partnerships": area_pages,
            "Evidence": evidence}
st.navigation({name: pages for name, pages in sections.items() if pages}).run()
