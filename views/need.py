"""Need: where violence and deprivation meet, LSOA by LSOA, for commissioning decisions."""

import streamlit as st

from config import get_config
from hotspots.need import annualised
from hotspots.rates import month_span
from ui import cached, need_view
from ui.access import allowed_areas
from ui.concentration_view import concentration_section
from ui.disclosure import current_rule
from ui.map_view import attribution, freshness_caption
from ui.places import find_a_place
from ui.summary_view import csp_cards
from ui.widgets import period_filters

config = get_config()
st.title("Need: violence, deprivation and population")
freshness_caption()
names = {None: f"{config.region.name} (all CSPs)", **{a.code: a.name for a in config.areas}}
area = st.sidebar.selectbox("Area", allowed_areas(), format_func=names.get, key="need_area")
focus = find_a_place(key="need", lad_code=area)
months, group = period_filters(config, cached.available_months(), key="need")
if not months:
    st.stop()

measure = "count"
rule = current_rule()
if rule is None:  # harm sums with known weights per type give small counts: counts only there
    measure = st.sidebar.radio("Rank LSOAs by", ["count", "harm"], horizontal=True,
                               key="need_measure",
                               format_func={"count": "Incidents per 1,000 residents",
                                            "harm": "Harm per 1,000 residents"}.get,
                               help="Harm weights each incident by the ONS Crime Severity "
                                    "Score of its crime type: days of custody equivalent "
                                    "(the average sentence).")
summary = cached.csp_summary(months, group)
csp_cards(summary, months=months, only=area, details=True)
need_view.share_note(summary, months, group, config)
table = annualised(need_view.need_table(config, area, months, group, measure=measure,
                                        rule=rule), months)
st.caption(
    f"{group}, {month_span(months)} ({len(months)} "
    f"{'month' if len(months) == 1 else 'months'}). Rates are per Census 2021 "
    f"usual residents, annualised (× 12 / {len(months)}); the 16–34 rate divides "
    f"all incidents by residents aged 16–34 (police.uk records no ages). 'In a hotspot': at "
    f"least one incident inside a current hotspot outline (the densest "
    f"{float(config.setting('hotspot_top_percent').default):g}% of the area).")

st.subheader("LSOAs")
shown = need_view.filtered(table, key="need")
need_view.lsoa_table(shown, file_name=f"need-{area or 'humber'}-{months[0]}-{months[-1]}.csv")

concentration_section(area, months, group, key="need")

left, right = st.columns([3, 2])
with left:
    st.subheader("Violence rate × deprivation")
    need_view.bivariate_map(table, area, config, focus=focus)
with right:
    st.subheader("Rate against deprivation")
    need_view.scatter(table)
attribution()
