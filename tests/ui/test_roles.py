"""Sign-in, roles and disclosure control in the running app (AppTest)."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from auth.audit import AuditLog, default_audit_path
from auth.users import UserStore
from tests.ui.conftest import APP, TIMEOUT, deck_spec, layer_ids

PASSWORD = "correct horse battery"
USERS = {"ana": "analyst", "adm": "admin", "hull": "csp:E06000010", "vsec": "partner",
         "pub": "public"}


@pytest.fixture
def users_file(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    # Cheap hashing parameters keep the tests fast; production uses argon2's defaults.
    store = UserStore(path, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name, role in USERS.items():
        store.add(name, role=role, password=PASSWORD)
    monkeypatch.setenv("HUMBER_USERS_FILE", str(path))
    from ui import access
    access._limiter.clear()
    yield path
    access._limiter.clear()


def _log_in(name: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.text_input(key="login_username").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Log in").click().run()
    return at


def test_nothing_shows_before_signing_in(users_file):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert at.button(key="FormSubmitter:login-Log in").label == "Log in"
    assert not at.metric and not at.get("deck_gl_json_chart")


def test_failed_logins_are_refused_audited_and_rate_limited(users_file):
    for _ in range(5):
        at = _log_in("ana", "wrong password!")
        assert at.error[0].value == "Wrong username or password."
    at = _log_in("ana")  # the right password, but locked out for now
    assert "Too many failed logins" in at.error[0].value
    events = [r["event"] for r in AuditLog(default_audit_path()).read() if r["user"] == "ana"]
    assert events[-6:] == ["login_failed"] * 6


def test_analyst_signs_in_and_sees_the_overview(users_file):
    at = _log_in("ana")
    assert not at.exception and not at.error
    assert at.title[0].value == "Humber overview"
    assert any("Signed in as ana (analyst)" in c.value for c in at.sidebar.caption)
    assert AuditLog(default_audit_path()).read()[-1]["event"] == "login"


def test_csp_user_starts_on_need_and_sees_only_their_area(users_file):
    at = _log_in("hull")
    assert not at.exception
    assert at.title[0].value.startswith("Need")
    assert at.selectbox(key="need_area").options == ["Kingston upon Hull, City of"]


def _page_as(area_code: str, role: str, lad_code: str | None) -> None:
    import streamlit as st

    from auth.roles import Viewer as V
    from views.csp import render

    st.session_state["viewer"] = V(name="t", role=role, lad_code=lad_code)
    render(area_code)


def test_csp_user_cannot_open_another_csp(users_file):
    at = AppTest.from_function(_page_as, args=("E06000011", "csp", "E06000010"),
                               default_timeout=TIMEOUT).run()
    assert at.error[0].value == "You do not have access to this area."
    assert not at.get("deck_gl_json_chart")


def test_partner_sees_aggregates_only(users_file):
    at = AppTest.from_function(_page_as, args=("E06000012", "partner", None),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    layers = at.multiselect(key="north-east-lincolnshire_layers")
    assert "Incident points (small selections only)" not in layers.options
    at.selectbox(key="north-east-lincolnshire_group").set_value("Weapons")
    at.multiselect(key="north-east-lincolnshire_layers").set_value(
        ["choropleth", "hotspots", "clusters"]).run()
    spec, _ = deck_spec(at)
    assert "points" not in layer_ids(spec)
    for table in at.dataframe[:2]:  # hotspots and clusters beside the map
        if "Incidents" in table.value:
            assert (table.value["Incidents"] >= 5).all()
    tips = [r["tooltip"] for r in spec["layers"][0]["data"]]
    assert any("Incidents: &lt;5" in t for t in tips)          # small LSOA counts hidden
    assert not any(s.value == "Hotspot profile" for s in at.subheader)  # streets: no
    assert not any(s.value == "Tasking pack" for s in at.subheader)
    assert all("withheld" in t or "Rate per 1,000 residents: " in t for t in tips)
    json.dumps(spec)  # serialisable, as sent


def test_public_sees_the_humber_as_a_whole_only(users_file):
    at = _log_in("pub")
    assert not at.exception
    assert at.title[0].value == "Humber overview"
    at.switch_page("views/need.py").run()
    assert at.selectbox(key="need_area").options == ["Humber (all CSPs)"]
    table = at.dataframe[0].value
    assert (table["Incidents"].astype(str).str.startswith("<")).any()  # "<5" in the table
    assert table["Rate per 1,000"].isna().sum() >= (table["Incidents"] == "<5").sum()


def test_admin_has_the_data_page_and_the_audit_log(users_file):
    at = _log_in("adm")
    assert not at.exception
    at.switch_page("views/data.py").run()
    assert not at.exception
    assert any(h.value == "Audit log" for h in at.subheader)
    audit_rows = at.dataframe[-1].value
    assert {"event", "user"} <= set(audit_rows.columns)
    assert "login" in set(audit_rows["event"])
