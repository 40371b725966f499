"""Who is looking, and what they may see.

Three ways in, checked in this order:

1. **OIDC** configured in ``.streamlit/secrets.toml`` (an ``[auth]`` section): Streamlit's
   ``st.login`` / ``st.user``; the user's role comes from the users file by e-mail.
2. **Local accounts** (a users file from the ``users_file`` setting or ``HUMBER_USERS_FILE``):
   a login form with "Username", "Password" and "Log in", argon2 hashes, failed logins
   throttled (:class:`auth.ratelimit.LoginThrottle`) and audited.
3. **Neither**: a single local analyst's tool, like a notebook. It serves on the loopback
   address only, says so in a banner, and refuses to run on any other address.

With accounts, a sign-in is a server-side session (:mod:`auth.sessions`). After a successful
login this module starts one, keeps its id in ``st.session_state`` and sends the browser
through ``serve.py``'s sign-in route, which sets the ``HttpOnly`` cookie; a later page load
resumes the session from that cookie (``st.context.cookies``). The session is checked against
the store on *every* script run, so logging out in another tab, a password or role change, the
idle timeout and the absolute lifetime all stop the next interaction. "Log out" revokes the
session server-side, clears ``st.session_state`` and sends the browser through the sign-out
route, which clears the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import os

import streamlit as st

from auth.audit import AuditLog, default_audit_path
from auth.ratelimit import LoginThrottle
from auth.roles import LOCAL_ANALYST, Viewer
from auth.sessions import (
    COOKIE_NAME,
    ENDED_REASONS,
    ENTRY_ENV,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    SessionStore,
    load_secret,
)
from auth.users import UserStore, is_valid_name, users_file_path
from config import get_config

LOOPBACK_NAMES = {"localhost"}
VIEWER_KEY = "viewer"
SESSION_KEY = "_session_id"
TICKET_KEY = "_sign_in_ticket"
NOTICE_KEY = "_session_notice"
UNKNOWN_USER = "(unknown)"
MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 1024


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; False for "" (all interfaces) or others."""
    if not address:
        return False
    if address.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def server_address() -> str | None:
    """The address Streamlit listens on (``server.address``; empty means every interface)."""
    return st.get_option("server.address")


def require_local_mode() -> None:
    """Stop the app, with an explanation, unless it serves on a loopback address only."""
    address = server_address()
    if not is_loopback(address):
        shown = address or "every network interface"
        st.error(
            f"This dashboard shows police.uk incident locations and has no user accounts "
            f"configured, so it only serves on this computer. It is set to listen on {shown}. "
            f"Start it with `make run` (which listens on 127.0.0.1), or add accounts first: "
            f"`python -m auth.users add NAME --role ROLE --file users.json` and set "
            f"HUMBER_USERS_FILE=users.json (roles: analyst, admin, partner, public, "
            f"csp:<LAD code>).")
        st.stop()
    st.sidebar.caption(f"Single-analyst mode: served on this computer only ({address}); "
                       f"there are no accounts, so do not expose it to a network.")


@st.cache_resource
def _throttle() -> LoginThrottle:
    """One throttle per server process: failed logins count across browser sessions."""
    return LoginThrottle.from_config()


@st.cache_resource
def _name_key() -> bytes:
    """Key of the keyed hash that stands for an unknown user name in the audit log."""
    from geodata.ingest import default_store_dir

    return load_secret(default_store_dir() / ".audit_name_key")


def sessions() -> SessionStore:
    """The server-side session store (``sessions.sqlite`` beside the incident store)."""
    return SessionStore.from_config()


def audit() -> AuditLog:
    """The append-only audit log (next to the incident store)."""
    return AuditLog(default_audit_path())


def _client() -> str:
    """The browser's address as Streamlit sees it, or ``"unknown"``."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "unknown"


def _cookie() -> str | None:
    """The session cookie the browser sent when this page's websocket opened (may be stale)."""
    value = st.context.cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _served_without_routes() -> bool:
    """True on a real server started without ``serve.py`` (no cookie routes, no media gate)."""
    from streamlit import config as streamlit_config

    return getattr(streamlit_config, "_server_mode", None) is not None \
        and os.environ.get(ENTRY_ENV) != "serve"


def _navigate(url: str) -> None:
    """Send the browser to `url` (a path on this site), keeping the current page as ``next``."""
    st.html("<script>(function () { const next = window.location.pathname + "
            "window.location.search; window.location.replace("
            f"{json.dumps(url)} + '&next=' + encodeURIComponent(next)); }})();</script>",
            unsafe_allow_javascript=True)


def _forget() -> None:
    """Drop everything this browser session holds (viewer, session id, widget values)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def _resume(users: UserStore) -> Viewer | None:
    """The viewer of this browser session's live server-side session, else None.

    Checked on every run: first the id kept in ``st.session_state`` (set at login or on an
    earlier run), then the cookie the page's websocket was opened with.
    """
    store = sessions()
    kept = st.session_state.get(SESSION_KEY)
    for session_id in dict.fromkeys(i for i in (kept, _cookie()) if i):
        check = store.check(session_id, users.fingerprint)
        if check.ended_now:
            audit().record("session_revoked", user=check.user or UNKNOWN_USER,
                           what=ENDED_REASONS[check.reason])
        if not check.ok:
            continue
        viewer = users.role_of(check.session.user)
        if viewer is None:  # the stored role is no longer valid (a warning says why)
            store.revoke(session_id)
            continue
        if session_id != kept:
            audit().record("login", user=viewer.name, role=viewer.label,
                           what="resumed from the session cookie", client=_client())
        st.session_state[SESSION_KEY] = session_id
        st.session_state[VIEWER_KEY] = viewer
        return viewer
    if kept or VIEWER_KEY in st.session_state:  # signed in a moment ago: the session has ended
        _forget()
        st.session_state[NOTICE_KEY] = "Your session has ended. Please sign in again."
    return None


def _start_session(users: UserStore, viewer: Viewer, *, how: str) -> None:
    """Start a server-side session for `viewer`, then rerun (the browser gets the cookie)."""
    fingerprint = users.fingerprint(viewer.name)
    if fingerprint is None:
        st.error("This account has just been removed; ask an administrator.")
        st.stop()
    store = sessions()
    session_id = store.create(viewer.name, fingerprint)
    audit().record("login", user=viewer.name, role=viewer.label, what=how, client=_client())
    _forget()  # nothing typed before the sign-in stays in this browser session
    st.session_state[SESSION_KEY] = session_id
    st.session_state[VIEWER_KEY] = viewer
    st.session_state[TICKET_KEY] = store.issue_ticket(session_id)
    st.rerun()


def _finish_sign_in() -> None:
    """Right after a login: send the browser to the route that sets the cookie, and stop."""
    ticket = st.session_state.pop(TICKET_KEY, None)
    if not ticket:
        return
    url = f"{SIGN_IN_PATH}?ticket={ticket}"
    st.title("Humber violence hotspots")
    st.info("Signed in. Opening the dashboard...")
    st.markdown(f"If nothing happens, [continue to the dashboard]({url}).")
    _navigate(url)
    st.stop()


def _unknown_name(name: str) -> str:
    """How the audit log names a user name that is not an account: a keyed hash prefix.

    People type passwords into the username box, so the text itself is never recorded; the
    keyed hash still lets an administrator see repeated attempts with the same text.
    """
    digest = hmac.new(_name_key(), name.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return f"unknown username (HMAC-SHA-256 prefix {digest[:8]})"


def _login_failed(users: UserStore, name: str, reason: str, client: str) -> None:
    """Audit a failed login: a real user by name, anything else only as a keyed hash."""
    known = users.role_of(name) if is_valid_name(name) else None
    if known is None:
        audit().record("login_failed", user=UNKNOWN_USER, what=f"{_unknown_name(name)}: {reason}",
                       client=client)
    else:
        audit().record("login_failed", user=known.name, role=known.label, what=reason,
                       client=client)


def _login_form(users: UserStore) -> None:
    """The local login form; a successful login starts a session (and reruns)."""
    st.title("Humber violence hotspots")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(notice)
    st.markdown("Sign in to see the dashboard.")
    with st.form("login"):
        name = st.text_input("Username", key="login_username", max_chars=MAX_NAME_CHARS)
        password = st.text_input("Password", type="password", key="login_password",
                                 max_chars=MAX_PASSWORD_CHARS)
        submitted = st.form_submit_button("Log in")
    if not submitted:
        st.stop()
    name = (name or "").strip()
    password = password or ""
    client = _client()
    throttle = _throttle()
    wait = throttle.retry_after(client, name)
    if wait > 0:
        _login_failed(users, name, f"throttled ({math.ceil(wait)} s to wait)", client)
        st.error(f"Too many failed logins: try again in {math.ceil(wait)} s.")
        st.stop()
    viewer = users.verify(name, password) if is_valid_name(name) else None
    if viewer is None:
        throttle.failure(client, name)
        _login_failed(users, name, "wrong username or password", client)
        st.error("Wrong username or password.")
        st.stop()
    throttle.success(client, name)
    _start_session(users, viewer, how="password")


def _oidc_sign_in(users: UserStore | None) -> None:
    """Sign in through the identity provider; the role comes from the users file."""
    if not st.user.is_logged_in:
        st.title("Humber violence hotspots")
        st.button("Log in", on_click=st.login)
        st.stop()
    email = str(st.user.get("email", ""))
    viewer = users.role_of(email) if users is not None else None
    if viewer is None:
        audit().record("access_denied", user=email if is_valid_name(email) else UNKNOWN_USER,
                       what="no role in the users file")
        st.error("You are signed in but have no role here; ask an administrator.")
        st.stop()
    _start_session(users, viewer, how="oidc")


def current_viewer() -> Viewer:
    """The signed-in viewer; renders the sign-in step and stops the run until there is one.

    Called by the router (``app.py``) on every run, so every interaction re-checks the
    server-side session.
    """
    path = users_file_path()
    oidc = _oidc_configured()
    if path is None and not oidc:
        require_local_mode()
        return LOCAL_ANALYST
    if _served_without_routes():
        st.error("Accounts are configured, so start the dashboard with `make run` (that is, "
                 "`streamlit run serve.py`): it adds the sign-in routes that set the session "
                 "cookie and keeps downloads behind the sign-in. `streamlit run app.py` cannot.")
        st.stop()
    users = UserStore(path) if path is not None else None
    if users is not None and (not oidc or st.user.is_logged_in):
        viewer = _resume(users)
        if viewer is not None:
            _finish_sign_in()
            return viewer
    if oidc:
        _oidc_sign_in(users)
    _login_form(users)
    st.stop()  # not reached: the form stops or reruns


def viewer() -> Viewer:
    """The current viewer (pages call this after the router has run :func:`current_viewer`).

    Without a signed-in viewer this is the local analyst only when no accounts are
    configured; otherwise the page stops.
    """
    if VIEWER_KEY in st.session_state:
        return st.session_state[VIEWER_KEY]
    if users_file_path() is None and not _oidc_configured():
        return LOCAL_ANALYST
    st.error("Please sign in first.")
    st.stop()


def logout_button(current: Viewer) -> None:
    """Sign-out in the sidebar, for accounts (not in single-analyst mode).

    Revokes the session server-side (so a copy of the cookie is worthless from now on),
    audits it, clears ``st.session_state`` and sends the browser through the sign-out route,
    which clears the cookie.
    """
    if current is LOCAL_ANALYST:
        return
    st.sidebar.caption(f"Signed in as {current.name} ({current.label}).")
    if not st.sidebar.button("Log out", key="logout"):
        return
    store = sessions()
    for session_id in dict.fromkeys(i for i in (st.session_state.get(SESSION_KEY), _cookie())
                                    if i):
        store.revoke(session_id)
    audit().record("logout", user=current.name, role=current.label, client=_client())
    _forget()
    st.success("Signed out.")
    if _oidc_configured():
        st.logout()  # Streamlit's own route ends the provider's sign-in too
    st.markdown(f"[Sign in again]({SIGN_OUT_PATH}?next=/)")
    _navigate(f"{SIGN_OUT_PATH}?from=logout")
    st.stop()


def refuse_page(url_path: str) -> None:
    """Body of a page the viewer's role may not open: audit the refusal, show nothing of it.

    Parameters
    ----------
    url_path : str
        The page's URL path (``"data"``, ``"east-riding-of-yorkshire"``...), for the log.
    """
    current = viewer()
    audit().record("access_denied", user=current.name, role=current.label,
                   what=f"page /{url_path}", client=_client())
    st.error("You do not have access to this page.")


def record_export(what: str, rows: int) -> None:
    """Audit an export (a download) by the current viewer."""
    current = viewer()
    audit().record("export", user=current.name, role=current.label, what=what, rows=rows)


def allowed_areas() -> list[str | None]:
    """Areas the viewer may choose: None (the whole Humber) and every CSP, or only their CSP."""
    config = get_config()
    current = viewer()
    codes = list(current.area_codes(config.area_codes))
    return ([None] if current.humber_wide else []) + (codes if current.role != "public" else [])
