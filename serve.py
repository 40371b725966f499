"""The dashboard's server entry: Streamlit's ``app.py`` plus the HTTP routes that own the cookie.

``make run`` starts ``streamlit run serve.py``; Streamlit finds the ASGI app ``app`` below
(``st.App``) and serves ``app.py`` with two extra routes and one middleware:

``GET /_humber/sign-in?ticket=T&next=/path``
    Exchanges a one-time sign-in ticket (issued by ``ui/access.py`` after a successful login,
    valid 60 s, single use) for the session cookie, set *by the server* as ``HttpOnly;
    SameSite=Strict; Path=/`` (``Secure`` over HTTPS), then redirects (303) to ``next`` if it
    is a local path, else to ``/``. The Streamlit script cannot set an ``HttpOnly`` cookie
    itself: anything it runs in the browser is a page script.
``GET /_humber/sign-out?next=/path``
    Revokes the session the cookie names (server side), clears the cookie and redirects.
media gate
    With accounts configured (a users file), ``/media/...`` (download buttons, images) answers
    403 unless the request carries the cookie of a live session. Without accounts
    (single-analyst mode on loopback) nothing changes.

Both routes refuse cross-site requests (``Sec-Fetch-Site: cross-site`` or ``same-site``).
Whether a request came over HTTPS is decided by ``server.sslCertFile`` (Streamlit serves TLS
itself) or, only when ``HUMBER_TRUSTED_PROXY=1`` says a TLS reverse proxy on this machine is
the only way in, by the proxy's ``X-Forwarded-Proto``. ``server.baseUrlPath`` is not supported:
serve the dashboard at the root of its host name.

``app.py`` stays the Streamlit script (``AppTest`` runs it directly).
"""

from __future__ import annotations

import contextlib
import os
import re
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from auth.audit import AuditLog, default_audit_path
from auth.sessions import (
    COOKIE_NAME,
    ENDED_REASONS,
    ENTRY_ENV,
    ROUTE_PREFIX,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    SessionCheck,
    SessionStore,
)
from auth.users import UserStore, users_file_path

TRUSTED_PROXY_ENV = "HUMBER_TRUSTED_PROXY"
MEDIA_PREFIX = "/media/"
_MAX_TARGET_LENGTH = 512
_UNSAFE_TARGET = re.compile(r"[\x00-\x1f\x7f\\]")
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

os.environ[ENTRY_ENV] = "serve"  # ui/access.py refuses accounts when served without this module


def local_target(target: str | None) -> str:
    """`target` if it is a path on this site (``/need``, ``/hull?x=1``), else ``"/"``.

    Refuses absolute and scheme-relative URLs (``https://x``, ``//x``, a backslash), control
    characters, over-long targets and this module's own routes (no redirect loops).
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") \
            or len(target) > _MAX_TARGET_LENGTH or _UNSAFE_TARGET.search(target) \
            or target.startswith(f"{ROUTE_PREFIX}/"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def trusted_proxy() -> bool:
    """True when ``HUMBER_TRUSTED_PROXY`` is ``1``/``true``/``yes`` (case-insensitive)."""
    return os.environ.get(TRUSTED_PROXY_ENV, "").strip().lower() in {"1", "true", "yes"}


def came_over_https(request: Request) -> bool:
    """True if the browser reached the dashboard over HTTPS (so the cookie gets ``Secure``).

    Streamlit's own TLS (``server.sslCertFile``) counts; a proxy's ``X-Forwarded-Proto``
    counts only with ``HUMBER_TRUSTED_PROXY=1`` (anyone can send that header otherwise).
    """
    if st.get_option("server.sslCertFile"):
        return True
    if not trusted_proxy():
        return False
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or request.url.scheme == "https"


def _cross_site(request: Request) -> bool:
    """True for a request another site made the browser send (login CSRF).

    Browsers send ``Sec-Fetch-Site``; for the few that do not, an ``Origin`` or ``Referer``
    naming another host counts as cross-site too.
    """
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    if fetch_site:
        return fetch_site in {"cross-site", "same-site"}
    host = request.headers.get("host", "").lower()
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value and value.lower() != "null" and urlsplit(value).netloc.lower() != host:
            return True
    return False


def _users() -> UserStore | None:
    path = users_file_path()
    return None if path is None else UserStore(path)


def _check(store: SessionStore, users: UserStore, session_id: str | None, *,
           touch: bool) -> SessionCheck:
    """Check a session; audit it if this check ended it (idle, expired, user changed)."""
    check = store.check(session_id, users.fingerprint, touch=touch)
    if check.ended_now:
        AuditLog(default_audit_path()).record("session_revoked", user=check.user or "(unknown)",
                                              what=ENDED_REASONS[check.reason])
    return check


def sign_in(request: Request) -> Response:
    """Exchange a one-time ticket for the session cookie, then redirect to ``next``."""
    if _cross_site(request):
        return PlainTextResponse("Cross-site sign-in refused.", status_code=403,
                                 headers=_NO_STORE)
    target = local_target(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303, headers=_NO_STORE)
    users = _users()
    if users is None:
        return response
    store = SessionStore.from_config()
    session_id = store.redeem_ticket(request.query_params.get("ticket"))
    if session_id is None:
        return response  # spent, stale or forged: the app shows the login form
    check = _check(store, users, session_id, touch=True)
    if not check.ok:
        return response
    remaining = check.session.created + store.max_seconds - check.session.last_seen
    response.set_cookie(COOKIE_NAME, session_id, max_age=max(1, int(remaining)), path="/",
                        secure=came_over_https(request), httponly=True, samesite="strict")
    return response


def sign_out(request: Request) -> Response:
    """Revoke the cookie's session server-side, clear the cookie and redirect to ``next``."""
    if _cross_site(request):
        return PlainTextResponse("Cross-site sign-out refused.", status_code=403,
                                 headers=_NO_STORE)
    response = RedirectResponse(local_target(request.query_params.get("next")),
                                status_code=303, headers=_NO_STORE)
    if users_file_path() is not None:
        ended = SessionStore.from_config().revoke(request.cookies.get(COOKIE_NAME))
        if ended is not None:  # not signed out in the app first (a bookmark, another client)
            AuditLog(default_audit_path()).record("logout", user=ended.user,
                                                  what="sign-out route")
    response.delete_cookie(COOKIE_NAME, path="/", secure=came_over_https(request),
                           httponly=True, samesite="strict")
    return response


def live_session(cookie_header: str) -> bool:
    """True if a ``Cookie`` header names a live session (does not count as activity)."""
    users = _users()
    if users is None:
        return False
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:  # noqa: BLE001 - a malformed header is simply no session
        return False
    morsel = cookies.get(COOKIE_NAME)
    if morsel is None:
        return False
    return _check(SessionStore.from_config(), users, morsel.value, touch=False).ok


class MediaGate:
    """ASGI middleware: with accounts, ``/media/...`` needs the cookie of a live session.

    Parameters
    ----------
    app : ASGI application
        The rest of the stack (Streamlit's middleware and routes).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").startswith(MEDIA_PREFIX) \
                and users_file_path() is not None:
            header = b"; ".join(value for key, value in scope.get("headers", [])
                                if key.lower() == b"cookie").decode("latin-1")
            if not header or not await run_in_threadpool(live_session, header):
                response = PlainTextResponse("Sign in to the dashboard to download this file.",
                                             status_code=403, headers=_NO_STORE)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def warm_up(_app):
    """Once the runtime has started, load the reference data, the store's aggregates and the
    back-tested defaults in the background (:mod:`ui.warmup`), so the first visitor after a
    start does not wait for them."""
    from ui.warmup import start_warm_up

    start_warm_up()
    yield


app = st.App(Path(__file__).resolve().parent / "app.py", lifespan=warm_up,
             routes=[Route(SIGN_IN_PATH, sign_in, methods=["GET"]),
                     Route(SIGN_OUT_PATH, sign_out, methods=["GET"])],
             middleware=[Middleware(MediaGate)])
