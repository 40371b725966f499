"""The Data page's pieces: ingest uploaded files and show the validation report.

File names, zip member names, reasons and messages come from the uploaded input: they are
shown in dataframe cells (plain text) or, where Streamlit renders Markdown (``st.error``,
``st.caption``), through :func:`plain_markdown`, so a member called
``[click](http://evil.example).csv`` is shown as typed, never as a link.
"""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from config import get_config
from geodata.csv_safety import frame_to_csv_bytes
from geodata.ingest import IngestReport, ingest_files
from ui import cached
from ui.access import record_export
from ui.warmup import start_warm_up

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")


def plain_markdown(text: object) -> str:
    """`text` escaped so that Markdown shows it literally (for ``st.error`` and the like).

    Every ASCII punctuation character gets a backslash in front (CommonMark renders ``\\X``
    as ``X`` for any of them), so links, images, emphasis, code, HTML, maths, Streamlit's
    ``:colour[...]`` and ``:material/...:`` directives and bare ``http://`` autolinks in
    user-supplied names and messages are shown as typed. Line breaks become spaces.

    Parameters
    ----------
    text : object
        The text to show (converted with ``str``).

    Returns
    -------
    str
        Markdown source that renders as `text`.
    """
    flat = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _safe_name(name: str, index: int) -> str:
    """A file name built from the upload's, never a path: no folders, no dots in front."""
    base = _SAFE.sub("_", Path(name).name).lstrip("._") or f"upload-{index}"
    return base[:120]


class UploadTooLarge(ValueError):
    """An uploaded file has more rows than the ``upload_max_rows`` setting allows."""


def check_upload_rows(uploads) -> None:
    """Refuse files with more lines than ``upload_max_rows``, naming the file and the limit."""
    limit = int(get_config().setting("upload_max_rows").default)
    for upload in uploads:
        rows = upload.getvalue().count(b"\n") - 1
        if upload.name.lower().endswith(".csv") and rows > limit:
            raise UploadTooLarge(
                f"{_safe_name(upload.name, 0)}: {rows:,} rows, more than the {limit:,} an "
                f"upload may have; split it, or ingest it with `python -m geodata ingest`.")


def ingest_uploads(uploads, *, source: str, user: str) -> IngestReport:
    """Write the uploaded files to a private temporary folder and ingest them.

    Raises
    ------
    UploadTooLarge
        If a CSV has more rows than the ``upload_max_rows`` setting.
    """
    check_upload_rows(uploads)
    with tempfile.TemporaryDirectory(prefix="humber-upload-") as folder:
        paths = []
        for index, upload in enumerate(uploads):
            target = Path(folder) / f"{index:03d}" / _safe_name(upload.name, index)
            target.parent.mkdir()
            target.write_bytes(upload.getvalue())
            paths.append(target)
        report = ingest_files(paths, store=cached.store(), source=source, user=user)
    # the new version's defaults and aggregates, loaded in the background (ui.warmup)
    start_warm_up()
    return report


def plain_outcomes(report: IngestReport, ingests: pd.DataFrame) -> list[str]:
    """One plain sentence per file that added nothing, saying why.

    A re-uploaded file is recognised by its content and not read again, so its "rows read"
    is 0; the sentence says which stored file it repeats and how many rows that one had.

    Parameters
    ----------
    report : IngestReport
        What the ingest did.
    ingests : pandas.DataFrame
        The store's ingest log (:meth:`geodata.store.IncidentStore.ingests`): ``file``,
        ``status``, ``rows_read``, ``accepted``, ``ingested_at``.

    Returns
    -------
    list of str
        Plain text (file names come from the upload: show it with :func:`plain_markdown`).
    """
    stored = ingests[ingests["status"] == "ingested"] if len(ingests) else ingests
    lines = []
    for file in report.files:
        name = Path(file.file).name
        if file.status == "unchanged":
            earlier = file.message.partition("(as ")[2].rpartition(")")[0] or name
            match = stored[stored["file"] == earlier] if len(stored) else stored
            if len(match):
                last = match.iloc[-1]
                lines.append(
                    f"0 new rows from {name}: this exact file is already stored (as {earlier}, "
                    f"{int(last['accepted']):,} of its {int(last['rows_read']):,} rows, "
                    f"ingested {str(last['ingested_at'])[:16].replace('T', ' ')} UTC), so it "
                    f"was not read again and nothing was added.")
            else:
                lines.append(f"0 new rows from {name}: this exact file is already stored (as "
                             f"{earlier}), so it was not read again and nothing was added.")
        elif file.status == "ingested" and file.rows_read and not file.accepted:
            lines.append(f"0 new rows from {name}: all {file.rows_read:,} rows were rejected "
                         f"(reasons in the rejected rows below).")
        elif file.status == "skipped":
            lines.append(f"Skipped {name}: {file.message.partition(': ')[2] or file.message}")
    return lines


def render_report(report: IngestReport) -> None:
    """Show the validation report of one ingest.

    What it added, in words (:func:`plain_outcomes`), the totals, the files, the rejected rows
    and their download.
    """
    for line in plain_outcomes(report, cached.store().ingests()):
        st.info(plain_markdown(line))
    columns = st.columns(4)
    columns[0].metric("Rows read", f"{report.rows_read:,}",
                      help="Rows read from the files; a file already stored is not read again.")
    columns[1].metric("Accepted", f"{report.accepted:,}", help="New rows stored.")
    columns[2].metric("Rejected", f"{report.rejected_count:,}")
    columns[3].metric("Outside the Humber area", f"{report.outside_area:,}",
                      help="Stored and flagged; not shown on the Humber maps.")
    st.caption(plain_markdown(report.summary()))
    statuses = {"ingested": "Read", "unchanged": "Already stored", "unreadable": "Unreadable",
                "skipped": "Skipped"}
    files = pd.DataFrame([{"File": Path(f.file).name,
                           "Status": statuses.get(f.status, f.status),
                           "Rows read": f.rows_read, "Accepted": f.accepted,
                           "Rejected": f.rejected, "Outside area": f.outside_area,
                           "Replaced months": ", ".join(f.replaced_months),
                           "Message": f.message} for f in report.files])
    st.dataframe(files, hide_index=True, column_config={
        "Message": st.column_config.TextColumn(width="large")})
    for file in report.unreadable:  # the message names a user-supplied file: never Markdown
        st.error(plain_markdown(file.message))
    if not report.rejected.empty:
        st.subheader("Rejected rows")
        st.dataframe(report.rejected.rename(columns={
            "source_file": "File", "row": "Row", "column": "Column", "reason": "Reason"}),
            hide_index=True)
        st.download_button("Download the rejected rows (CSV)",
                           frame_to_csv_bytes(report.rejected),
                           file_name="rejected-rows.csv", mime="text/csv",
                           key="download_rejects", on_click=record_export,
                           args=("rejected rows of an ingest", len(report.rejected)))


#: Human headers of the store's ingest log (technical columns such as the file hash and
#: the ingest id are left out of the page).
INGEST_HEADERS = {"ingested_at": "When (UTC)", "file": "File", "source": "Source",
                  "status": "Status", "rows_read": "Rows read", "accepted": "Accepted",
                  "rejected": "Rejected", "outside_area": "Outside the Humber area",
                  "replaced_months": "Replaced months", "user": "By", "message": "Message",
                  "rejects_file": "Rejected rows file"}
#: Human headers of the audit log (the chain's ``prev`` and ``hash`` are left out).
AUDIT_HEADERS = {"seq": "No.", "at": "When (UTC)", "event": "Event", "user": "User",
                 "role": "Role", "what": "What", "rows": "Rows"}


def readable_ingests(ingests: pd.DataFrame) -> pd.DataFrame:
    """The ingest log with human headers, newest first, without hashes or ids."""
    shown = ingests[[c for c in INGEST_HEADERS if c in ingests.columns]].rename(
        columns=INGEST_HEADERS)
    if "Replaced months" in shown:
        shown["Replaced months"] = [", ".join(v) if isinstance(v, (list, tuple)) else
                                    ("" if v is None else str(v))
                                    for v in shown["Replaced months"]]
    return shown.iloc[::-1].reset_index(drop=True)


def readable_audit(records: list[dict]) -> pd.DataFrame:
    """The audit records with human headers, newest first.

    Other fields keep their names, capitalised; the chain's hashes are left out.
    """
    frame = pd.DataFrame(records).drop(columns=["prev", "hash"], errors="ignore")
    frame = frame.rename(columns={c: AUDIT_HEADERS.get(c, str(c).replace("_", " ").capitalize())
                                  for c in frame.columns})
    return frame.iloc[::-1].reset_index(drop=True)
