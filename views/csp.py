"""One Community Safety Partnership: the hotspot map first, then headline figures and trend."""

import streamlit as st

from config import get_config
from ui import cached, presentation
from ui.access import audit, viewer
from ui.emerging_view import emerging_section
from ui.map_view import freshness_caption, render_map_section
from ui.places import find_a_place
from ui.summary_view import csp_cards, trend_chart
from ui.tasking_view import tasking_pack
from ui.widgets import map_filters, ward_filter


def render(area_code: str) -> None:
    """Render the page of the CSP with LAD code `area_code` (from ``config/areas.toml``)."""
    config = get_config()
    area = config.area(area_code)
    current = viewer()
    if area_code not in current.area_codes(config.area_codes) or current.role == "public":
        audit().record("access_denied", user=current.name, role=current.label, what=area_code)
        st.error("You do not have access to this area.")
        st.stop()
    ward = ward_filter(cached.wards()[cached.wards()["lad_code"] == area_code], key=area.slug)
    focus = find_a_place(key=area.slug, lad_code=area_code)
    map_area = ward or area_code
    filters = map_filters(config, cached.available_months(), key=area.slug,
                          bandwidth_for=lambda g: cached.default_bandwidth(map_area, g))
    ward_name = "" if ward is None else \
        f" in {cached.wards().set_index('ward_code').loc[ward, 'ward_name']} ward"

    if presentation.active():
        presentation.present(config, current, filters, start=area.slug, page_area=map_area)
        st.stop()

    presentation.start_button(key=area.slug)
    map_details = render_map_section(
        map_area, filters, config, focus=focus, details=False,
        title=f"{area.name}{ward_name}: {filters.crime_group}",
        meanwhile=lambda: (cached.csp_summary(filters.months, filters.crime_group),
                           cached.lsoa_rates(area_code, filters.months, filters.crime_group),
                           cached.csp_trend(filters.months, filters.crime_group)))
    st.title(area.name)
    freshness_caption()
    summary = cached.csp_summary(filters.months, filters.crime_group)
    lsoas = cached.lsoa_rates(area_code, filters.months, filters.crime_group)
    left, middle, right = st.columns([2, 1, 2])
    with left:
        csp_cards(summary, only=area_code)
    with middle:
        st.metric("LSOAs", f"{len(lsoas):,}")
        st.metric("LSOAs in IMD decile 1", f"{int((lsoas['imd_decile'] == 1).sum()):,}",
                  help="Among the 10% most deprived LSOAs in England (IoD 2025).")
    with right:
        trend_chart(filters.months, filters.crime_group, area=area.short_name)

    st.subheader(f"{filters.crime_group}: hotspots and clusters{ward_name}")
    map_details()
    st.subheader("Emerging hot spots (space-time Gi*)")
    emerging_section(map_area, filters)
    if current.sees_points:  # the pack lists streets: not for aggregate-only roles
        st.subheader("Tasking pack")
        tasking_pack(area_code, filters, key=area.slug)
