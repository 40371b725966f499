"""Data: upload incident files, see what was accepted and rejected, and every past ingest."""

import getpass

import streamlit as st

from geodata.sources import load_sources
from ui import data
from ui.ingest_view import ingest_uploads, render_report
from ui.map_view import freshness_caption

st.title("Data")
freshness_caption()
st.markdown("Add police.uk months (one file, several, or the zip of a custom download) or a "
            "partner extract described in `config/sources/`. Every row is stored or reported "
            "as rejected with its file, row, column and reason; a re-issued police.uk month "
            "replaces the stored one, and the same file twice adds nothing.")

sources = load_sources()
with st.form("ingest_form", clear_on_submit=True):
    uploads = st.file_uploader("Incident files", accept_multiple_files=True,
                               type=["csv", "zip", "geojson", "json", "gpkg"],
                               key="ingest_uploads")
    source = st.selectbox("Source", list(sources), key="ingest_source",
                          format_func=lambda name: f"{name}: {sources[name].description}")
    submitted = st.form_submit_button("Ingest")

if submitted and not uploads:
    st.warning("Choose one or more files first.")
elif submitted:
    with st.spinner("Validating and storing…"):
        st.session_state["last_ingest"] = ingest_uploads(uploads, source=source,
                                                         user=getpass.getuser())
if "last_ingest" in st.session_state:
    st.subheader("Last ingest")
    render_report(st.session_state["last_ingest"])

st.subheader("Past ingests")
ingests = data.store().ingests()
st.dataframe(ingests.drop(columns=["sha256", "ingest_id"]), hide_index=True)
