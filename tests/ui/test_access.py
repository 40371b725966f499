"""Single-analyst mode: the dashboard refuses to serve beyond this computer."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, TIMEOUT
from ui.access import is_loopback


@pytest.mark.parametrize(("address", "expected"), [
    ("127.0.0.1", True), ("127.0.1.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("", False), (None, False), ("10.0.0.5", False),
    ("dashboard.example.org", False)])
def test_loopback_addresses(address, expected):
    assert is_loopback(address) is expected


def test_app_refuses_to_serve_on_every_interface(monkeypatch):
    monkeypatch.setattr("ui.access.server_address", lambda: "0.0.0.0")  # noqa: S104
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "only serves on this computer" in at.error[0].value
    assert not at.get("deck_gl_json_chart")


def test_app_serves_on_loopback_with_a_banner(monkeypatch):
    monkeypatch.setattr("ui.access.server_address", lambda: "127.0.0.1")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert any("Single-analyst mode" in c.value for c in at.sidebar.caption)
