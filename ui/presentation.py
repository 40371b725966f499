"""Presentation mode for a tasking meeting: the map alone, full screen, one area after another.

Turned on by ``?present=1`` in the address (or the sidebar's "Presentation mode" button): the
sidebar and Streamlit's header are hidden, the map fills the screen with its title, period and
legend on it, and "Previous" / "Next" step through the areas the viewer may see (the Humber,
then each CSP). The current step is in the URL (``?present=1&area=hull``), so a link opens the
meeting where it was left.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from config import AppConfig

PARAM = "present"
AREA_PARAM = "area"
#: The step that shows the whole Humber area.
HUMBER = "humber"


def active() -> bool:
    """Whether the page was opened in presentation mode (``?present=1``)."""
    return st.query_params.get(PARAM) == "1"


def start_button(*, key: str) -> None:
    """A sidebar button that turns presentation mode on for this page."""
    if st.sidebar.button("Presentation mode", key=f"{key}_present",
                         help="The map alone, filling the screen, with Previous / Next to step "
                              "through the areas. Leave with \"Leave presentation\"."):
        st.query_params[PARAM] = "1"
        st.rerun()


def areas(config: AppConfig, allowed: list[str], *, humber: bool) -> list[tuple[str, str | None,
                                                                                 str]]:
    """The steps: ``(slug, area code or None, name)``, the Humber first when `humber`.

    Parameters
    ----------
    config : AppConfig
        Its ``areas`` give the CSPs in order.
    allowed : list of str
        LAD codes the viewer may see (:meth:`auth.roles.Viewer.area_codes`).
    humber : bool
        Whether the viewer may see the Humber-wide map.
    """
    steps = [(HUMBER, None, config.region.name)] if humber else []
    steps += [(a.slug, a.code, a.name) for a in config.areas if a.code in allowed]
    if not steps:
        raise ValueError("Presentation mode needs at least one area the viewer may see; got "
                         "none.")
    return steps


def steps_for(config: AppConfig, current) -> list[tuple[str, str | None, str]]:
    """The steps a viewer may see: the Humber unless a CSP user; each CSP the role may open
    (none for ``public``, who sees the Humber as a whole only, as the CSP pages refuse it)."""
    allowed = [] if current.role == "public" else list(current.area_codes(config.area_codes))
    return areas(config, allowed, humber=current.humber_wide)


def hide_chrome() -> None:
    """Hide the sidebar, its toggle and Streamlit's header; narrow the page's margins."""
    st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] { display: none !important; }
.block-container { padding: 0.6rem 1rem 0 1rem !important; max-width: 100% !important; }
</style>""")


def stepper(steps: list[tuple[str, str | None, str]], *, start: str) -> tuple[str | None, str]:
    """Previous / Next buttons over `steps`; returns the current ``(area code, name)``.

    The current step is read from and written to ``?area=<slug>`` (default `start`).
    """
    slugs = [slug for slug, _, _ in steps]
    current = st.query_params.get(AREA_PARAM, start)
    index = slugs.index(current) if current in slugs else (
        slugs.index(start) if start in slugs else 0)
    back, where, forward, leave = st.columns([1, 4, 1, 1.3], vertical_alignment="center")
    if back.button("◀ Previous", key="present_previous", disabled=index == 0,
                   width="stretch"):
        index -= 1
    if forward.button("Next ▶", key="present_next", disabled=index == len(steps) - 1,
                      width="stretch"):
        index += 1
    if leave.button("Leave presentation", key="present_leave", width="stretch"):
        for name in (PARAM, AREA_PARAM):
            st.query_params.pop(name, None)
        st.rerun()
    st.query_params[AREA_PARAM] = slugs[index]
    where.markdown(f"**{index + 1} of {len(steps)}** · {steps[index][2]}")
    return steps[index][1], steps[index][2]


def step_filters(filters, *, page_default: float, step_default: float):
    """The filters for one step: each area with its own back-tested smoothing distance, unless
    the viewer had changed the page's (then theirs is kept for every area).

    Parameters
    ----------
    filters : ui.widgets.Filters
        The page's selection.
    page_default : float
        The page's default smoothing distance, as the sidebar shows it
        (:func:`ui.widgets.default_bandwidth_shown`).
    step_default : float
        The step's area's default, shown the same way.
    """
    if abs(filters.bandwidth - page_default) > 1e-9:
        return filters
    return dataclasses.replace(filters, bandwidth=step_default)


def present(config: AppConfig, current, filters, *, start: str,
            page_area: str | None) -> None:
    """The page in presentation mode: chrome hidden, the stepper, the current step's map
    (with its own default smoothing distance, :func:`step_filters`), and nothing else.

    Parameters
    ----------
    config : AppConfig
        Settings.
    current : auth.roles.Viewer
        Who is looking (:func:`steps_for`).
    filters : ui.widgets.Filters
        The page's selection.
    start : str
        The step shown first (a CSP's slug or :data:`HUMBER`).
    page_area : str or None
        The area whose default the page's smoothing slider shows (None: the Humber).
    """
    from ui import cached
    from ui.map_view import render_map_section
    from ui.widgets import default_bandwidth_shown

    hide_chrome()
    area_code, name = stepper(steps_for(config, current), start=start)
    shown = step_filters(
        filters, page_default=default_bandwidth_shown(
            config, cached.default_bandwidth(page_area, filters.crime_group)),
        step_default=default_bandwidth_shown(
            config, cached.default_bandwidth(area_code, filters.crime_group)))
    render_map_section(area_code, shown, config, title=f"{name}: {filters.crime_group}",
                       present=True, details=False)
