"""Data: upload incident files, see what was accepted and rejected, and every past ingest."""

import getpass

import streamlit as st

from auth.roles import LOCAL_ANALYST
from geodata.errors import DataValidationError
from geodata.sources import load_sources
from ui import cached
from ui.access import audit, viewer
from ui.fetch_view import render_fetch_section
from ui.ingest_view import (
    UploadTooLarge,
    ingest_uploads,
    plain_markdown,
    readable_audit,
    readable_ingests,
    render_report,
)
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
    names = list(sources)
    # police.uk by default; after an upload the form is cleared, but the source kept.
    remembered = st.session_state.get("last_ingest_source", "police_uk")
    source = st.selectbox("Source", names, key="ingest_source",
                          index=names.index(remembered) if remembered in names else 0,
                          format_func=lambda name: sources[name].description,
                          help="What kind of file this is: police.uk street-level crime "
                               "files, or a partner extract described in config/sources/.")
    submitted = st.form_submit_button("Ingest")

if submitted and not uploads:
    st.warning("Choose one or more files first.")
elif submitted:
    st.session_state["last_ingest_source"] = source
    current = viewer()
    user = getpass.getuser() if current is LOCAL_ANALYST else current.name
    try:
        with st.spinner("Validating and storing…"):
            report = ingest_uploads(uploads, source=source, user=user)
    except (UploadTooLarge, DataValidationError) as error:
        # Too many rows, or a zip refused by the archive limits: nothing was stored. The
        # message names a user-supplied file, so it is shown as plain text, not Markdown.
        st.error(plain_markdown(error))
    else:
        st.session_state["last_ingest"] = report
        audit().record("ingest", user=user, role=current.label, rows=report.rows_read,
                       what=f"{len(report.files)} file(s) from the Data page: "
                            f"{report.summary()}")
if "last_ingest" in st.session_state:
    st.subheader("Last ingest")
    render_report(st.session_state["last_ingest"])

_fetcher = viewer()
render_fetch_section(user=getpass.getuser() if _fetcher is LOCAL_ANALYST else _fetcher.name,
                     role=_fetcher.label, audit=audit())

st.subheader("Past ingests")
st.dataframe(readable_ingests(cached.store().ingests()), hide_index=True,
             column_config={"Message": st.column_config.TextColumn(width="large")})

st.subheader("Audit log")
st.caption("Logins, failed logins, sessions that ended, refused pages, account changes, "
           "ingests and exports: who, when, what and how many rows. Append-only and "
           "hash-chained (check it with `python -m auth.audit verify`); it never holds "
           "incident data.")
log = audit()
if not log.path.exists():
    if log.head_path.exists():
        st.error("The audit log is missing, but its head file says it had records.")
    else:
        st.info("No audit records yet.")
else:
    check = log.verify()
    if check.ok:
        st.success(check.summary())
    else:
        st.error(plain_markdown(check.summary()))
st.dataframe(readable_audit(audit().read()), hide_index=True,
             column_config={"What": st.column_config.TextColumn(width="large")})
