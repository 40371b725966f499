"""The Data page in plain words: why a re-upload added nothing, and human column headers."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, TIMEOUT
from tests.ui.uploads import empty_store, march_2024_rows


def _upload_twice(content: bytes, name: str) -> None:
    import streamlit as st

    from tests.ui.uploads import Upload
    from ui.ingest_view import ingest_uploads, render_report

    if "second" not in st.session_state:
        st.session_state["first"] = ingest_uploads([Upload(name, content)], source="police_uk",
                                                   user="apptest")
        st.session_state["second"] = ingest_uploads([Upload(name, content)],
                                                    source="police_uk", user="apptest")
    render_report(st.session_state["second"])


def test_a_re_upload_says_plainly_why_it_added_nothing(tmp_path, monkeypatch):
    with empty_store(tmp_path, monkeypatch):
        frame = march_2024_rows().head(40)
        frame.loc[5, "Longitude"] = ""  # one row rejected the first time
        at = AppTest.from_function(_upload_twice,
                                   args=(frame.to_csv(index=False).encode(), "again.csv"),
                                   default_timeout=TIMEOUT).run()
        assert not at.exception
        assert at.session_state["first"].accepted == 39
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Rows read"] == "0" and metrics["Accepted"] == "0"  # not read again
        # shown through plain_markdown (a backslash before punctuation): read as rendered
        reasons = [re.sub(r"\\(.)", r"\1", i.value) for i in at.info]
        assert len(reasons) == 1, reasons
        assert reasons[0].startswith("0 new rows from again.csv: this exact file is already "
                                     "stored (as again.csv, 39 of its 40 rows, ingested ")
        assert "nothing was added" in reasons[0]
        files = at.dataframe[0].value
        assert files["Status"].tolist() == ["Already stored"]


def test_the_data_page_tables_have_human_headers():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/data.py").run()
    assert not at.exception
    for table in at.dataframe:
        codes = [c for c in table.value.columns if "_" in str(c) or str(c).islower()]
        assert not codes, f"code names as headers: {codes}"
    ingests = next(t.value for t in at.dataframe if "Rows read" in t.value.columns)
    assert {"When (UTC)", "File", "Source", "Status", "Accepted",
            "Outside the Humber area"} <= set(ingests.columns)
    assert "sha256" not in ingests.columns and "ingest_id" not in ingests.columns
    assert ingests["When (UTC)"].is_monotonic_decreasing  # newest first
    source = at.selectbox(key="ingest_source")
    assert source.value == "police_uk"
    assert source.format_func(source.value).startswith("police.uk street-level crime")
