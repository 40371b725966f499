"""Sessions that end, tried against the real server (``serve.py``) the way an attacker would.

A server runs with local accounts. Each test signs in with Chromium, copies the session cookie
and tries to use it after it should have stopped working: after "Log out" in a new browser and
in the same tab, after the user was removed and added again as an admin, and for downloads.
"""

from __future__ import annotations

import json
import re

import pytest
from argon2 import PasswordHasher

from auth.sessions import COOKIE_NAME
from auth.users import UserStore
from tests.browser.conftest import ARTIFACTS, _serve, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
MEDIA = re.compile(rb"/media/[0-9a-f]+\.csv")


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path, isolated_store):
    folder = tmp_path_factory.mktemp("sessions")
    users = UserStore(folder / "users.json",
                      hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name in ("ana", "bob", "cat", "dan"):
        users.add(name, role="analyst", password=PASSWORD)
    running = _serve("streamlit-sessions.log", {"HUMBER_DATA_DIR": str(isolated_store),
                                                "HUMBER_USERS_FILE": str(users.path)})
    url = next(running)
    yield url, users
    next(running, None)


def _log_in(browser, url: str, name: str, password: str = PASSWORD):
    """A new browser (context) signed in as `name`; returns the context, page and ws frames."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    page = context.new_page()
    return context, page, sign_in(page, url, name, password)


def _session_cookie(context) -> dict:
    cookies = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert len(cookies) == 1, f"no {COOKIE_NAME} cookie: {context.cookies()}"
    return cookies[0]


def _replay(browser, url: str, cookie: dict):
    """A NEW browser that only has a copy of the cookie; returns its page after loading."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    context.add_cookies([{key: cookie[key] for key in ("name", "value", "domain", "path")}])
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    return context, page


def _shows_login_form(page) -> None:
    try:
        page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
    except Exception:
        # what the browser shows instead, for the next reader of a failed run
        page.screenshot(path=str(ARTIFACTS / "session-no-login-form.png"))
        (ARTIFACTS / "session-no-login-form.txt").write_text(
            f"url: {page.url}\n\n{page.inner_text('body')[:4000]}")
        raise
    page.get_by_role("button", name="Log in").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let the run finish: nothing of the dashboard follows
    assert page.get_by_role("textbox", name="Username").count() == 1
    assert page.get_by_text("Signed in as").count() == 0


def _audit(isolated_store) -> list[dict]:
    path = isolated_store / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_copied_cookie_is_httponly_and_worthless_after_log_out(browser, server):
    url, _ = server
    context, page, _ = _log_in(browser, url, "ana")
    try:
        cookie = _session_cookie(context)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert COOKIE_NAME not in page.evaluate("document.cookie")  # page scripts cannot read it
        thief, stolen = _replay(browser, url, cookie)  # while signed in, the copy works
        stolen.get_by_text("Signed in as ana").wait_for(timeout=120_000)
        thief.close()
        page.get_by_role("button", name="Log out").click()
        _shows_login_form(page)  # the sign-out route sent the browser back to the login form
        assert not [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        thief, stolen = _replay(browser, url, cookie)  # the copy, replayed after logging out
        _shows_login_form(stolen)
        stolen.screenshot(path=str(ARTIFACTS / "session-replayed-after-logout.png"))
        thief.close()
    finally:
        context.close()


def test_a_page_link_in_the_same_tab_after_log_out_gets_the_login_form(browser, server):
    url, _ = server
    context, page, _ = _log_in(browser, url, "bob")
    try:
        # Keep the tab as it was: answer the sign-out route with 204, so the browser stays on
        # the page, keeps the cookie, and its websocket keeps the cookie it was opened with.
        page.route("**/_humber/sign-out**", lambda route: route.fulfill(status=204))
        page.get_by_role("button", name="Log out").click()
        page.get_by_text("Signed out.").wait_for(timeout=60_000)
        assert [c for c in context.cookies() if c["name"] == COOKIE_NAME]  # still there
        page.get_by_role("link", name="Methods", exact=True).first.click()
        _shows_login_form(page)
        page.screenshot(path=str(ARTIFACTS / "session-same-tab-after-logout.png"))
    finally:
        context.close()


def test_the_old_cookie_of_a_removed_and_readded_user_gets_the_login_form(
        browser, server, isolated_store):
    url, users = server
    context, page, _ = _log_in(browser, url, "cat")
    cookie = _session_cookie(context)
    context.close()
    users.remove("cat")
    users.add("cat", role="admin", password="another long password")  # same name, now admin
    thief, stolen = _replay(browser, url, cookie)
    try:
        _shows_login_form(stolen)
        assert stolen.get_by_role("link", name="Data", exact=True).count() == 0
        ended = [r for r in _audit(isolated_store)
                 if r["user"] == "cat" and r["event"] == "session_revoked"]
        assert ended and "password or role changed" in ended[-1]["what"]
    finally:
        thief.close()


def test_downloads_need_a_live_session(browser, server, playwright_request):
    url, _ = server
    context, page, frames = _log_in(browser, url, "dan")
    try:
        page.get_by_role("link", name="Need (commissioning)", exact=True).first.click()
        page.get_by_role("button", name="Download this table (CSV)").wait_for(timeout=180_000)
        found = MEDIA.findall(b"".join(frames))
        assert found, "no /media/...csv URL in the websocket frames"
        media = url + found[-1].decode()
        cookie = _session_cookie(context)
        signed_in = context.request.get(media)
        assert signed_in.status == 200 and signed_in.headers["content-type"].startswith("text/csv")
        assert playwright_request(media).status == 403  # no cookie at all
        page.get_by_role("button", name="Log out").click()
        _shows_login_form(page)
        assert playwright_request(media, cookie).status == 403  # the old cookie, after logout
    finally:
        context.close()


@pytest.fixture
def playwright_request(browser):
    """GET a URL from a fresh browser context, optionally with one cookie; returns the response."""
    contexts = []

    def get(address: str, cookie: dict | None = None):
        context = browser.new_context()
        contexts.append(context)
        if cookie is not None:
            context.add_cookies([{key: cookie[key] for key in ("name", "value", "domain",
                                                               "path")}])
        return context.request.get(address)

    yield get
    for context in contexts:
        context.close()
