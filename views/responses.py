"""Responses: what the tasking meeting did where, and whether violence fell there (issue 10)."""

import streamlit as st

from config import get_config
from config.response_types import get_response_types
from geodata.responses import STATUSES
from hotspots.responses import DEFAULT_BUFFER_M, disclosed_evaluation
from ui import cached
from ui import responses_view as rv
from ui.access import viewer
from ui.disclosure import current_rule
from ui.map_view import attribution, freshness_caption
from ui.widgets import period_filters

config = get_config()
current = viewer()
rule = current_rule()
types = get_response_types()
st.title("Responses")
freshness_caption()
just_saved = st.session_state.pop("responses_saved", None)
if just_saved is not None:  # before the widgets: list and show the response just recorded
    st.session_state.update(responses_status=None, responses_type=None,
                            responses_chosen=just_saved)
codes = list(current.area_codes(config.area_codes))
names = {a.code: a.name for a in config.areas}
requested = st.query_params.get("area")
area = st.sidebar.selectbox("CSP", codes, index=codes.index(requested) if requested in codes
                            else 0, format_func=names.get, key="responses_area")
st.query_params["area"] = area
status = st.sidebar.selectbox("Status", [None, *STATUSES], key="responses_status",
                              format_func=lambda s: "All" if s is None else s)
kind = st.sidebar.selectbox("Type", [None, *types], key="responses_type",
                            format_func=lambda t: "All" if t is None else types[t])
months, group = period_filters(config, cached.available_months(), key="responses")
if not months:
    st.stop()
pre = int(st.sidebar.number_input("Months before the start", 1, 24, 3, key="responses_pre",
                                  help="The 'before' window of every evaluation."))
post = int(st.sidebar.number_input("Months from the start on", 1, 24, 3, key="responses_post",
                                   help="The 'after' window, the start month included."))
buffer_m = float(st.sidebar.slider("Buffer ring (m)", 0, 1000, int(DEFAULT_BUFFER_M), 50,
                                   key="responses_buffer",
                                   help="Width of the displacement / diffusion ring around "
                                        "each response's place."))
settings = rv.hotspot_settings(area, group, rule)
analysis = rv.current_hotspots(area, months, group, settings, rule)
period = f"{months[0]} to {months[-1]}"
everything = rv.store().list(lad_codes=[area])
listed = rv.store().list(lad_codes=[area], status=status, type=kind)
editor = rv.can_edit(current, area)

flash = st.session_state.pop("responses_flash", None)
if flash:
    st.success(flash)
if editor:
    hotspot = st.query_params.get("hotspot")
    preselected = int(hotspot) if hotspot and hotspot.isdigit() else None
    with st.expander("Record a response", expanded=preselected is not None):
        saved = rv.response_form(current, area, analysis, months, settings,
                                 preselected=preselected)
        if saved is not None:
            st.session_state["responses_flash"] = f"Saved response {saved.id}."
            st.query_params.pop("hotspot", None)
            st.query_params["response"] = str(saved.id)
            st.session_state["responses_saved"] = saved.id  # show it on the next run
            st.rerun()

st.subheader(f"Responses in {names[area]}")
if not listed:
    st.info("No responses recorded for this selection."
            + (" Record one above, or from a hotspot's profile on the CSP page." if editor
               else ""))
table = rv.response_frame(listed)
if rule is not None:  # partners: no place descriptions (LSOA codes, small areas)
    table = table.drop(columns=["Place", "Area (km²)"])
st.dataframe(table, hide_index=True)

st.subheader("Map: response places over the current hotspots")
drawn, withheld = listed, 0
if rule is not None:
    drawn, withheld = rv.drawable_places(listed, cached.selected_incidents(area, months, group),
                                         rule)
if withheld:
    st.info(f"{withheld} response place(s) not drawn: fewer than {rule.threshold} incidents "
            f"there in {period} (disclosure control); places drawn are generalised to "
            f"{rule.generalise_m:g} m.")
rv.response_map(area, drawn, analysis, period=period, rule=rule)
st.caption(f"Hotspots: {settings.text()}.")

if listed:
    st.subheader("Did it work?")
    ids = [r.id for r in listed]
    wanted = st.query_params.get("response")
    chosen_id = st.selectbox(
        "Response", ids, key="responses_chosen",
        index=ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids
        else 0, format_func=lambda i: f"{i}: {next(r.title for r in listed if r.id == i)}")
    st.query_params["response"] = str(chosen_id)
    chosen = next(r for r in listed if r.id == chosen_id)
    others = tuple((r.id, r.version) for r in everything)
    try:
        result = rv.evaluate(chosen, months=months, group=group, settings=settings, pre=pre,
                             post=post, buffer_m=buffer_m, others=others)
    except ValueError as error:
        st.warning(f"Not evaluated yet: {error}")
        result = None
    if result is not None:
        if rule is not None:
            result = disclosed_evaluation(result, rule)
        rv.render_evaluation(result, rule)
    if editor:
        with st.expander("Edit this response"):
            saved = rv.response_form(current, area, analysis, months, settings, current=chosen)
            if saved is not None:
                st.session_state["responses_flash"] = f"Saved response {saved.id}."
                st.rerun()
        with st.expander("History of changes"):
            st.dataframe(rv.history_table(chosen), hide_index=True)

    st.subheader(f"All responses in {names[area]}")
    results = []
    for response in listed:
        try:
            one = rv.evaluate(response, months=months, group=group, settings=settings,
                              pre=pre, post=post, buffer_m=buffer_m, others=others)
        except ValueError:
            continue
        results.append(disclosed_evaluation(one, rule) if rule is not None else one)
    rv.evaluations_summary(results)
    skipped = len(listed) - len(results)
    if skipped:
        st.caption(f"{skipped} response(s) not evaluated: no stored month before or from "
                   f"their start.")
attribution()
