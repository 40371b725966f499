"""Router of the Humber hotspot dashboard: sign-in, then the pages the viewer's role allows.

Pages live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside the
entrypoint as a legacy multipage app until ``st.navigation`` first runs, so after a restart a
bookmarked link such as ``/overview`` would bypass this router.

Every page is registered for every viewer, so that a page URL the viewer's role may not open
(a partner opening ``/data``, a Hull user opening ``/east-riding-of-yorkshire``) reaches a
hidden "No access" page that audits the refusal (``access_denied``) and shows nothing of the
page, instead of silently falling back to the default page.

This is the Streamlit script; the server entry is ``serve.py`` (``make run``), which adds the
routes that set and clear the ``HttpOnly`` session cookie.
"""

import functools

import streamlit as st

from auth.users import users_file_path
from config import get_config
from ui.access import current_viewer, logout_button, refuse_page
from views import csp

st.set_page_config(page_title="Humber violence hotspots", layout="wide")
if users_file_path() is not None:  # shared with accounts: no tracebacks in any browser
    st.set_option("client.showErrorDetails", "none")

config = get_config()
current = current_viewer()  # signs in (or checks single-analyst mode) before anything shows
logout_button(current)


def _page(target, *, title: str, url_path: str, allowed: bool, default: bool = False):
    """The page itself if the viewer may open it, else a hidden page refusing it (audited)."""
    if allowed:
        return st.Page(target, title=title, url_path=url_path, default=default)
    refusal = functools.partial(refuse_page, url_path)
    refusal.__name__ = f"no_access_{url_path.replace('-', '_')}"
    return st.Page(refusal, title="No access", url_path=url_path, visibility="hidden")


humber = [
    _page("views/overview.py", title=f"{config.region.name} overview", url_path="overview",
          allowed=current.humber_wide),
    _page("views/need.py", title="Need (commissioning)", url_path="need", allowed=True),
]


def _home() -> None:
    """The root URL opens the viewer's landing page under its own address, so that a shared
    link to ``/overview`` or ``/need`` opens that page (Streamlit serves the default page only
    at ``/``: marking the overview default made ``/overview`` a "Page not found")."""
    st.switch_page(humber[0] if current.humber_wide else humber[1])


home = st.Page(_home, title="Home", url_path="home", default=True, visibility="hidden")
area_pages = []
allowed_codes = current.area_codes(config.area_codes)
for area in config.areas:
    page = functools.partial(csp.render, area.code)
    page.__name__ = f"csp_{area.slug.replace('-', '_')}"
    # The public sees the Humber as a whole only; a CSP user sees their own CSP only.
    area_pages.append(_page(page, title=area.short_name, url_path=area.slug,
                            allowed=current.role != "public" and area.code in allowed_codes))
evidence = [
    _page("views/methods.py", title="Methods", url_path="methods",
          allowed=not current.aggregate_only),
    _page("views/data.py", title="Data", url_path="data", allowed=current.can_ingest),
    _page("views/glossary.py", title="Glossary", url_path="glossary", allowed=True),
]

# Tasking: responses recorded against hotspots and their evaluation (not the public: per CSP).
tasking = [_page("views/meeting.py", title="Since the last meeting",
                 url_path="since-last-meeting", allowed=current.role != "public"),
           _page("views/responses.py", title="Responses", url_path="responses",
                 allowed=current.role != "public")]
sections = {"Humber": humber, "Community Safety Partnerships": area_pages,
            "Tasking": tasking, "Evidence": evidence}
visible = {name: [p for p in pages if p.visibility == "visible"]
           for name, pages in sections.items()}
hidden = [p for pages in sections.values() for p in pages if p.visibility == "hidden"]
visible["Humber"] += [home, *hidden]  # hidden pages show in no section; "Need" keeps it non-empty
st.navigation({name: pages for name, pages in visible.items() if pages}).run()
