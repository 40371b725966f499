"""The Data page, uploads with their validation report, and live data reaching the maps."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from geodata.ingest import ingest_files, open_store
from tests.ui.conftest import APP, TIMEOUT, _csp_page
from tests.ui.uploads import empty_store, march_2024_rows


def test_data_page_lists_the_seeded_ingests():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/data.py").run()
    assert not at.exception
    assert at.title[0].value == "Data"
    ingests = next(d.value for d in at.dataframe if "File" in d.value.columns)
    assert {"2022-01-humberside-street.csv", "2024-03-humberside-street.csv"} <= set(
        ingests["File"])
    assert any(h.value == "Audit log" for h in at.subheader)
    assert at.selectbox(key="ingest_source").value == "police_uk"  # not the A&E example
    # "Ingest" submits the form: with no file chosen it says so and stores nothing.
    assert not at.warning
    at.button(key="FormSubmitter:ingest_form-Ingest").click().run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Choose one or more files first."]
    after = next(d.value for d in at.dataframe if "File" in d.value.columns)
    assert len(after) == len(ingests) and "Last ingest" not in [h.value for h in at.subheader]


def test_data_page_says_whether_the_audit_log_is_intact():
    from auth.audit import AuditLog, default_audit_path

    log = AuditLog(default_audit_path())
    log.record("export", user="tester", what="a line to tamper with", rows=1)
    original = log.path.read_bytes()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/data.py").run()
    assert any(m.value.startswith("audit log OK") for m in at.success)
    try:
        log.path.write_bytes(original.replace(b'"rows": 1', b'"rows": 9'))
        at.run()
        assert not at.exception
        assert any("audit log NOT OK" in m.value and "was changed" in m.value
                   for m in at.error), [m.value for m in at.error]
    finally:
        log.path.write_bytes(original)


def _upload_and_report(content: bytes, name: str) -> None:
    import streamlit as st

    from tests.ui.uploads import Upload
    from ui.ingest_view import ingest_uploads, render_report

    st.session_state.setdefault("report", ingest_uploads([Upload(name, content)],
                                                          source="police_uk", user="apptest"))
    render_report(st.session_state["report"])


def test_upload_report_shows_totals_rejects_and_a_download(tmp_path, monkeypatch):
    with empty_store(tmp_path, monkeypatch):
        frame = march_2024_rows().head(50)
        frame.loc[[3, 7], "Longitude"] = ""
        frame.loc[9, "Crime type"] = "Knife crime"
        at = AppTest.from_function(_upload_and_report,
                                   args=(frame.to_csv(index=False).encode(), "../../x y.csv"),
                                   default_timeout=TIMEOUT).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Rows read"] == "50" and metrics["Accepted"] == "47"
        assert metrics["Rejected"] == "3"
        rejected = at.dataframe[-1].value
        assert rejected["Row"].tolist() == [5, 9, 11]
        assert rejected["File"].unique().tolist() == ["x_y.csv"]  # never a path
        assert len(at.get("download_button")) == 1


def test_a_newly_ingested_month_appears_without_a_restart(tmp_path, monkeypatch):
    with empty_store(tmp_path, monkeypatch):
        at = AppTest.from_function(_csp_page, args=("E06000010",),
                                   default_timeout=TIMEOUT).run()
        assert at.select_slider(key="hull_months").options[-1] == "2024-03"
        assert any("Data to 2024-03" in c.value for c in at.caption)
        april = march_2024_rows()
        april["Month"] = "2024-04"
        path = tmp_path / "2024-04-humberside-street.csv"
        april.to_csv(path, index=False)
        ingest_files([path], store=open_store(tmp_path / "store"), user="apptest")
        at.run()  # the next interaction, same server, same session
        assert not at.exception
        assert at.select_slider(key="hull_months").options[-1] == "2024-04"
        assert any("Data to 2024-04" in c.value for c in at.caption)
        assert not any("Data to 2024-03" in c.value for c in at.caption)


def test_uploads_with_too_many_rows_are_refused_with_the_limit():
    import pytest

    from ui.ingest_view import UploadTooLarge, check_upload_rows

    class Upload:
        name = "../big <b>.csv"

        def getvalue(self):
            return b"header\n" + b"row\n" * 2_000_001

    with pytest.raises(UploadTooLarge, match=r"^big_b_\.csv: 2,000,001 rows, more than the "
                                             r"2,000,000 an upload may have"):
        check_upload_rows([Upload()])


HOSTILE_NAME = "[click](http://evil.example)=1.csv"
#: A zip member name is not cleaned like an upload's name (only its last path part is shown).
HOSTILE_MEMBER = "[click](javascript:alert(1))=<img src=x onerror=alert(1)>.csv"


def _uploads_and_report(files: list[tuple[str, bytes]]) -> None:
    import streamlit as st

    from tests.ui.uploads import Upload
    from ui.ingest_view import ingest_uploads, render_report

    st.session_state.setdefault("report", ingest_uploads(
        [Upload(name, content) for name, content in files], source="police_uk",
        user="apptest"))
    render_report(st.session_state["report"])


def test_file_and_member_names_are_shown_as_plain_text_not_markdown(tmp_path, monkeypatch):
    import io
    import re
    import zipfile

    from ui.ingest_view import plain_markdown

    with empty_store(tmp_path, monkeypatch):
        not_police = b"Month,Colour\n2024-01,red\n"  # missing columns: unreadable, named
        bundle = io.BytesIO()
        with zipfile.ZipFile(bundle, "w") as archive:
            archive.writestr(HOSTILE_MEMBER, not_police)
        at = AppTest.from_function(
            _uploads_and_report, args=([("upload.zip", bundle.getvalue()),
                                        (HOSTILE_NAME, not_police)],),
            default_timeout=TIMEOUT).run()
        assert not at.exception
        report = at.session_state["report"]
        messages = [f.message for f in report.unreadable]
        assert messages[0].startswith(HOSTILE_MEMBER + ": expected")
        assert messages[1].startswith("evil.example_1.csv: expected")  # cleaned
        # st.error renders Markdown: its body is the escaped message, so it shows literally.
        assert [e.value for e in at.error] == [plain_markdown(m) for m in messages]
        assert at.error[0].value.startswith(
            r"\[click\]\(javascript\:alert\(1\)\)\=\<img src\=x onerror\=alert\(1\)\>\.csv\: "
            r"expected")
        bodies = [e.value for kind in ("markdown", "caption", "error", "warning", "info")
                  for e in at.get(kind)]
        assert not any(mark in body for body in bodies for mark in ("](", "://"))
        assert not any(re.search(r"(?<!\\)[<>\[\]()]", body) for body in bodies)
        # In the files table (plain text cells) the names are shown exactly as they are.
        files = next(d.value for d in at.dataframe if "Message" in d.value.columns)
        assert files["File"].tolist() == [HOSTILE_MEMBER, "evil.example_1.csv"]
        assert files["Message"].iloc[0] == messages[0]


def test_plain_markdown_escapes_every_markdown_character():
    from ui.ingest_view import plain_markdown

    assert plain_markdown("a_b*c `d` <b>e</b> $x$ :red[f] #g\nh") == (
        r"a\_b\*c \`d\` \<b\>e\<\/b\> \$x\$ \:red\[f\] \#g h")
    assert plain_markdown(r"C:\temp") == r"C\:\\temp"
