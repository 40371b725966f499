"""The Data page's police.uk section: it asks the source only when told, and fetches with progress.

The section is run on its own (AppTest.from_function) against a store of the test's and a
local police.uk look-alike; nothing reaches the internet.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui.cached
import ui.fetch_view
from geodata.police_uk_local import FakePoliceUK, build_archive, generated_month
from geodata.store import IncidentStore

NEWEST = "2024-06"


def _section():
    import os

    from auth.audit import AuditLog
    from ui.fetch_view import render_fetch_section

    render_fetch_section(user="admin-user", role="admin",
                         audit=AuditLog(os.environ["HUMBER_TEST_FETCH_AUDIT"]))


@pytest.fixture
def page(tmp_path, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    store = IncidentStore(tmp_path / "store")
    monkeypatch.setattr(ui.cached, "store", lambda: store)
    monkeypatch.setenv("HUMBER_TEST_FETCH_AUDIT", str(tmp_path / "audit.jsonl"))
    ui.fetch_view.check_source.clear()
    months = {m: generated_month(m, tmp_path, rows=300, seed=i)
              for i, m in enumerate(("2024-05", NEWEST))}
    archive = build_archive(tmp_path / f"{NEWEST}.zip", months, padding_mb=1)
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    with server.running() as base:
        monkeypatch.setattr(ui.fetch_view, "default_base_url", lambda: base)
        yield store, server, tmp_path / "audit.jsonl"
    ui.fetch_view.check_source.clear()


def _metric(at, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_the_page_opens_without_asking_the_source_and_checks_on_request(page):
    store, server, _ = page
    at = AppTest.from_function(_section, default_timeout=60).run()
    assert not at.exception
    assert server.log == []                              # never blocks on the network
    assert _metric(at, "Newest police.uk month stored") == "none"
    assert _metric(at, "Newest month at") == "not checked"
    at.button(key="police_uk_check_button").click().run()
    assert _metric(at, "Newest month at") == NEWEST
    assert [s.path for s in server.log] == ["/api/crime-last-updated"]


def test_fetch_now_brings_the_store_up_to_date_and_is_audited(page):
    store, server, audit = page
    at = AppTest.from_function(_section, default_timeout=60).run()
    at.button(key="police_uk_fetch_now").click().run()
    assert not at.exception
    assert store.months() == ["2024-05", NEWEST]
    assert any("Fetched 2024" in s.value and "accepted 600" in s.value for s in at.success)
    assert _metric(at, "Newest police.uk month stored") == NEWEST
    record = json.loads(audit.read_text().splitlines()[-1])
    assert record["user"] == "admin-user" and record["rows"] == 600
    assert record["what"].startswith("fetch from the Data page (humberside, newest 2024-06)")
    at.button(key="police_uk_fetch_now").click().run()   # again: up to date
    assert any(s.value.startswith("Up to date") for s in at.success)


def test_an_unreachable_source_is_said_plainly(page, monkeypatch):
    monkeypatch.setattr(ui.fetch_view, "default_base_url", lambda: "http://127.0.0.1:9")
    at = AppTest.from_function(_section, default_timeout=60).run()
    at.button(key="police_uk_check_button").click().run()
    assert not at.exception
    assert any(w.value.startswith("could not reach 127") for w in at.warning)
    assert _metric(at, "Newest month at") == "unknown"
