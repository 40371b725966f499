"""Sign-in, roles and disclosure control in the running app (AppTest)."""

from __future__ import annotations

import json
import re

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from auth.audit import AuditLog, default_audit_path
from auth.ratelimit import LoginThrottle
from auth.sessions import SIGN_IN_PATH, SessionStore
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
    access._throttle.clear()
    yield path
    access._throttle.clear()


def _submit(name: str, password: str = PASSWORD, at: AppTest | None = None) -> AppTest:
    """Fill in and submit the login form; the run right after a successful login."""
    at = at if at is not None else AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.text_input(key="login_username").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Log in").click().run()
    return at


def _log_in(name: str, password: str = PASSWORD) -> AppTest:
    """Log in, then run again as the page the browser opens after the sign-in route."""
    at = _submit(name, password)
    if "_session_id" in at.session_state:
        at.run()
    return at


def _events(user: str | None = None) -> list[dict]:
    return [r for r in AuditLog(default_audit_path()).read() if user is None or r["user"] == user]


def _sign_in_ticket(at: AppTest) -> str:
    """The ticket of the script that sends the browser to the sign-in route."""
    scripts = [h.proto.body for h in at.get("html") if SIGN_IN_PATH in h.proto.body]
    assert len(scripts) == 1, "no navigation to the sign-in route"
    return re.search(r"ticket=([A-Za-z0-9_-]{43})", scripts[0]).group(1)


def test_nothing_shows_before_signing_in(users_file):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert at.button(key="FormSubmitter:login-Log in").label == "Log in"
    assert not at.metric and not at.get("deck_gl_json_chart")


def test_failed_logins_are_refused_audited_and_rate_limited(users_file, monkeypatch):
    now = [1000.0]
    throttle = LoginThrottle(free_failures=5, max_delay_seconds=300, clock=lambda: now[0])
    monkeypatch.setattr(LoginThrottle, "from_config", classmethod(lambda cls: throttle))
    for _ in range(5):
        at = _log_in("ana", "wrong password!")
        assert at.error[0].value == "Wrong username or password."
    at = _log_in("ana")  # the right password, but this client must wait now
    assert at.error[0].value == "Too many failed logins: try again in 1 s."
    assert "_session_id" not in at.session_state
    records = _events("ana")[-6:]
    assert [r["event"] for r in records] == ["login_failed"] * 6
    assert records[-1]["what"].startswith("throttled") and records[-1]["client"] == "unknown"
    now[0] += 1.5  # the delay has passed
    at = _log_in("ana")
    assert not at.error and any("Signed in as ana" in c.value for c in at.sidebar.caption)


def test_unknown_or_invalid_usernames_are_not_written_to_the_audit_log(users_file, monkeypatch):
    typed_password = "Winter2024-secret"  # a password typed into the username box
    at = _log_in(typed_password, "whatever it was")
    assert at.error[0].value == "Wrong username or password."
    record = _events()[-1]
    assert record["event"] == "login_failed" and record["user"] == "(unknown)"
    assert re.fullmatch(r"unknown username \(HMAC-SHA-256 prefix [0-9a-f]{8}\): wrong username "
                        r"or password", record["what"])
    assert typed_password not in json.dumps(_events())
    calls = []
    monkeypatch.setattr(UserStore, "verify", lambda self, *a: calls.append(a))
    at = _log_in("not a valid name!", "whatever it was")  # refused without a lookup
    assert at.error[0].value == "Wrong username or password." and not calls
    assert "not a valid name" not in json.dumps(_events())
    assert at.text_input(key="login_username").proto.max_chars == 64


def test_login_starts_a_server_side_session_and_sends_the_browser_for_the_cookie(users_file):
    at = _submit("ana")
    assert not at.exception
    session_id = at.session_state["_session_id"]
    store = SessionStore.from_config()
    assert store.check(session_id, UserStore(users_file).fingerprint).user == "ana"
    assert store.redeem_ticket(_sign_in_ticket(at)) == session_id  # what the route will do
    login = _events("ana")[-1]
    assert (login["event"], login["role"], login["what"]) == ("login", "analyst", "password")
    at.run()  # the same browser session carries on without another ticket
    assert at.title[0].value == "Humber overview"
    assert not any(SIGN_IN_PATH in h.proto.body for h in at.get("html"))


def test_the_session_is_checked_on_every_run(users_file):
    at = _log_in("ana")
    assert at.title[0].value == "Humber overview"
    SessionStore.from_config().revoke(at.session_state["_session_id"])  # logout in another tab
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "Your session has ended" in at.warning[0].value
    assert not at.get("deck_gl_json_chart")


@pytest.mark.parametrize("change", ["password", "role", "removed and added again"])
def test_a_password_or_role_change_ends_the_session(users_file, change):
    at = _log_in("ana")
    store = UserStore(users_file, hasher=PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    if change == "password":
        store.set_password("ana", "a brand new password")
    elif change == "role":
        store.set_role("ana", "admin")
    else:
        store.remove("ana")
        store.add("ana", role="admin", password="a brand new password")
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    record = _events("ana")[-1]
    assert record["event"] == "session_revoked" and "password or role changed" in record["what"]


def test_log_out_revokes_the_session_and_a_stale_cookie_gets_the_login_form(users_file,
                                                                            monkeypatch):
    at = _log_in("ana")
    session_id = at.session_state["_session_id"]
    at.sidebar.button(key="logout").click().run()
    assert at.success[0].value == "Signed out."
    assert "_session_id" not in at.session_state and "viewer" not in at.session_state
    assert SessionStore.from_config().check(session_id, lambda name: None).reason == "unknown"
    assert _events("ana")[-1]["event"] == "logout"
    assert any("/_humber/sign-out" in h.proto.body for h in at.get("html"))
    # The same tab still has the old cookie in st.context (captured when its websocket opened):
    monkeypatch.setattr("ui.access._cookie", lambda: session_id)
    at.switch_page("views/need.py").run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()  # a new browser
    assert [t.label for t in fresh.text_input] == ["Username", "Password"]


def test_a_live_cookie_resumes_the_session_in_a_new_browser_session(users_file, monkeypatch):
    fingerprint = UserStore(users_file).fingerprint("hull")
    session_id = SessionStore.from_config().create("hull", fingerprint)
    monkeypatch.setattr("ui.access._cookie", lambda: session_id)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("Signed in as hull (csp:E06000010)" in c.value for c in at.sidebar.caption)
    assert _events("hull")[-1]["what"] == "resumed from the session cookie"
    monkeypatch.setattr("ui.access._cookie", lambda: "forged" + "x" * 37)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]


@pytest.mark.parametrize(("name", "url_path"), [
    ("vsec", "data"), ("vsec", "methods"), ("pub", "hull"), ("ana", "data"),
    ("hull", "east-riding"), ("hull", "overview")])
def test_a_page_the_role_may_not_open_is_refused_and_audited(users_file, name, url_path):
    at = _log_in(name)
    at._page_hash = calc_hash(url_path)  # the browser opened /<url_path>
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.get("deck_gl_json_chart") and not at.dataframe and not at.metric
    assert len(at.title) == 0
    record = _events(name)[-1]
    assert record["event"] == "access_denied" and record["what"] == f"page /{url_path}"
    assert record["role"] == UserStore(users_file).role_of(name).label


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
    for table in at.dataframe[:2]:  # hotspots and clusters beside the map: rounded counts
        if "Incidents" in table.value and len(table.value):
            assert ((table.value["Incidents"] >= 5) & (table.value["Incidents"] % 5 == 0)).all()
    tips = [r["tooltip"] for r in spec["layers"][0]["data"]]
    small = [t for t in tips if "Incidents: <5" in t]
    assert small                                                # small LSOA counts hidden
    assert all("Rate per 1,000 residents per year: withheld" in t for t in small)  # and rates
    shown = [int(m.group(1).replace(",", "")) for t in tips
             if (m := re.search(r"Incidents: ([\d,]+)", t))]
    assert shown and all(n % 5 == 0 for n in shown)             # the others rounded
    assert not any(s.value == "Hotspot profile" for s in at.subheader)  # streets: no
    assert not any(s.value == "Tasking pack" for s in at.subheader)
    json.dumps(spec)  # serialisable, as sent
    # (tests/ui/test_disclosure_pages.py recomputes every figure against the true counts)


def test_public_sees_the_humber_as_a_whole_only(users_file):
    at = _log_in("pub")
    assert not at.exception
    assert at.title[0].value == "Humber overview"
    at.switch_page("views/need.py").run()
    assert at.selectbox(key="need_area").options == ["Humber (all CSPs)"]
    table = at.dataframe[0].value
    small = table["Incidents"] == "<5"
    assert small.any()                                           # "<5" in the table
    assert table.loc[small, "Rate per 1,000 per year"].isna().all()  # their rates withheld
    assert table.loc[~small, "Rate per 1,000 per year"].notna().any()
    counts = table.loc[~small, "Incidents"].str.replace(",", "").astype(int)
    assert (counts % 5 == 0).all()                               # the others rounded


def test_admin_has_the_data_page_and_the_audit_log(users_file):
    at = _log_in("adm")
    assert not at.exception
    at.switch_page("views/data.py").run()
    assert not at.exception
    assert any(h.value == "Audit log" for h in at.subheader)
    audit_rows = next(d.value for d in at.dataframe
                      if {"Event", "User", "When (UTC)"} <= set(d.value.columns))
    assert "login" in set(audit_rows["Event"])
    assert "adm" in set(audit_rows["User"])
