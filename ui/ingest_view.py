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
from ui import data
from ui.access import record_export

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
        return ingest_files(paths, store=data.store(), source=source, user=user)


def render_report(report: IngestReport) -> None:
    """The validation report of one ingest: totals, files, rejected rows and a download."""
    columns = st.columns(4)
    columns[0].metric("Rows read", f"{report.rows_read:,}")
    columns[1].metric("Accepted", f"{report.accepted:,}")
    columns[2].metric("Rejected", f"{report.rejected_count:,}")
    columns[3].metric("Outside the Humber area", f"{report.outside_area:,}",
                      help="Stored and flagged; not shown on the Humber maps.")
    st.caption(plain_markdown(report.summary()))
    files = pd.DataFrame([{"File": Path(f.file).name, "Status": f.status,
                           "Rows read": f.rows_read, "Accepted": f.accepted,
                           "Rejected": f.rejected, "Outside area": f.outside_area,
                           "Replaced months": ", ".join(f.replaced_months),
                           "Message": f.message} for f in report.files])
    st.dataframe(files, hide_index=True)
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
