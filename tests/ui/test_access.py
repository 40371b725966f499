"""Single-analyst mode on loopback only, and serve.py's sign-in routes and media gate."""

from __future__ import annotations

import os

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


# -- serve.py: the routes that own the HttpOnly cookie, and the media gate ---------------------

@pytest.fixture
def serve(monkeypatch):
    """Import serve.py without leaving its process-wide marks on the test process."""
    import importlib

    from streamlit import config as streamlit_config

    previous = streamlit_config._main_script_path
    monkeypatch.delenv("HUMBER_ENTRY", raising=False)
    module = importlib.import_module("serve")
    streamlit_config._main_script_path = previous
    os.environ.pop("HUMBER_ENTRY", None)
    return module


@pytest.fixture
def accounts(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    from auth.users import UserStore

    users = UserStore(tmp_path / "users.json",
                      hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.add("ana", role="analyst", password="correct horse battery")
    monkeypatch.setenv("HUMBER_USERS_FILE", str(users.path))
    return users


def _request(path: str, query: str = "", headers: dict | None = None):
    from starlette.requests import Request

    return Request({"type": "http", "method": "GET", "path": path, "root_path": "",
                    "query_string": query.encode(), "scheme": "http",
                    "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 50000),
                    "headers": [(k.lower().encode(), v.encode())
                                for k, v in (headers or {}).items()]})


def _set_cookie(response) -> str:
    return response.headers.get("set-cookie", "")


@pytest.mark.parametrize(("target", "expected"), [
    ("/need", "/need"), ("/hull?x=1", "/hull?x=1"), (None, "/"), ("", "/"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"),
    ("need", "/"), ("/x\r\nSet-Cookie: a=b", "/"), ("/" + "a" * 600, "/"),
    ("/_humber/sign-in?ticket=x", "/"), ("javascript:alert(1)", "/")])
def test_redirect_targets_must_be_local_paths(serve, target, expected):
    assert serve.local_target(target) == expected


def test_sign_in_route_exchanges_a_ticket_for_an_httponly_cookie_once(serve, accounts):
    from auth.sessions import SessionStore

    store = SessionStore.from_config()
    session_id = store.create("ana", accounts.fingerprint("ana"))
    ticket = store.issue_ticket(session_id)
    response = serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}&next=/need"))
    assert response.status_code == 303 and response.headers["location"] == "/need"
    cookie = _set_cookie(response)
    assert cookie.startswith(f"humber_session={session_id};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert response.headers["cache-control"] == "no-store"
    again = serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}&next=/need"))
    assert again.status_code == 303 and not _set_cookie(again)  # single use
    evil = serve.sign_in(_request("/_humber/sign-in", "ticket=x&next=https://evil.example"))
    assert evil.headers["location"] == "/" and not _set_cookie(evil)


def test_sign_in_route_refuses_cross_site_requests(serve, accounts):
    from auth.sessions import SessionStore

    store = SessionStore.from_config()
    ticket = store.issue_ticket(store.create("ana", accounts.fingerprint("ana")))
    response = serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}",
                                      {"Sec-Fetch-Site": "cross-site"}))
    assert response.status_code == 403 and not _set_cookie(response)
    # a browser without Sec-Fetch-Site: another site's Origin or Referer is refused too
    for header in ({"Host": "dash.example", "Referer": "https://evil.example/page"},
                   {"Host": "dash.example", "Origin": "https://evil.example"}):
        refused = serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}", header))
        assert refused.status_code == 403 and not _set_cookie(refused)
    same = serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}",
                                  {"Host": "dash.example",
                                   "Referer": "https://dash.example/need"}))
    assert same.status_code == 303 and _set_cookie(same)  # the ticket was still unspent


def test_secure_cookie_over_https_and_forwarded_proto_only_from_a_trusted_proxy(
        serve, accounts, monkeypatch):
    from auth.sessions import SessionStore

    store = SessionStore.from_config()

    def cookie_for(headers):
        ticket = store.issue_ticket(store.create("ana", accounts.fingerprint("ana")))
        return _set_cookie(serve.sign_in(_request("/_humber/sign-in", f"ticket={ticket}",
                                                  headers)))

    forwarded = {"X-Forwarded-Proto": "https"}
    monkeypatch.delenv("HUMBER_TRUSTED_PROXY", raising=False)
    assert "Secure" not in cookie_for(forwarded)  # anyone can send that header
    monkeypatch.setenv("HUMBER_TRUSTED_PROXY", "1")
    assert "Secure" in cookie_for(forwarded)
    assert "Secure" not in cookie_for({"X-Forwarded-Proto": "http"})


def test_sign_out_route_revokes_the_session_and_clears_the_cookie(serve, accounts):
    from auth.audit import AuditLog, default_audit_path
    from auth.sessions import SessionStore

    store = SessionStore.from_config()
    session_id = store.create("ana", accounts.fingerprint("ana"))
    response = serve.sign_out(_request("/_humber/sign-out", "next=/need",
                                       {"Cookie": f"humber_session={session_id}"}))
    assert response.status_code == 303 and response.headers["location"] == "/need"
    cookie = _set_cookie(response)
    assert cookie.startswith('humber_session="";') and "Max-Age=0" in cookie
    assert "HttpOnly" in cookie
    assert store.check(session_id, accounts.fingerprint).reason == "unknown"
    assert AuditLog(default_audit_path()).read()[-1]["event"] == "logout"


def _through_gate(serve, path: str, cookie: str | None) -> int:
    import asyncio
    import concurrent.futures

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    statuses = []

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def receive():
        return {"type": "http.request", "body": b""}

    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers,
             "query_string": b"", "root_path": ""}
    # In its own thread: the browser tests' Playwright keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, serve.MediaGate(inner)(scope, receive, send)).result()
    return statuses[0]


def test_media_needs_a_live_session_when_there_are_accounts(serve, accounts):
    from auth.sessions import SessionStore

    store = SessionStore.from_config()
    session_id = store.create("ana", accounts.fingerprint("ana"))
    media = "/media/0123456789abcdef.csv"
    assert _through_gate(serve, media, f"humber_session={session_id}; other=1") == 200
    assert _through_gate(serve, media, None) == 403
    assert _through_gate(serve, media, "humber_session=forged") == 403
    assert _through_gate(serve, "/_stcore/health", None) == 200  # only /media is gated
    store.revoke(session_id)
    assert _through_gate(serve, media, f"humber_session={session_id}") == 403


def test_media_is_open_in_single_analyst_mode(serve, monkeypatch):
    monkeypatch.delenv("HUMBER_USERS_FILE", raising=False)
    assert _through_gate(serve, "/media/0123456789abcdef.csv", None) == 200


def test_accounts_are_refused_when_served_without_serve_py(accounts, monkeypatch):
    from streamlit import config as streamlit_config

    monkeypatch.setattr(streamlit_config, "_server_mode", "starlette-managed", raising=False)
    monkeypatch.delenv("HUMBER_ENTRY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert "start the dashboard with `make run`" in at.error[0].value
    assert not at.text_input  # no login form: sign-ins could not get their cookie


def test_a_session_that_ran_out_is_refused_for_media_and_audited(serve, accounts, monkeypatch):
    from auth.audit import AuditLog, default_audit_path
    from auth.sessions import SessionStore, default_sessions_path

    now = [1_700_000_000.0]
    monkeypatch.setattr(SessionStore, "from_config", classmethod(
        lambda cls, path=None: cls(default_sessions_path(), idle_seconds=60,
                                   clock=lambda: now[0])))
    store = SessionStore.from_config()
    session_id = store.create("ana", accounts.fingerprint("ana"))
    assert _through_gate(serve, "/media/0123.csv", f"humber_session={session_id}") == 200
    now[0] += 61  # idle too long
    assert _through_gate(serve, "/media/0123.csv", f"humber_session={session_id}") == 403
    record = AuditLog(default_audit_path()).read()[-1]
    assert (record["event"], record["user"]) == ("session_revoked", "ana")
    assert "idle" in record["what"]
