"""Who is looking, and what they may see.

Three ways in, checked in this order:

1. **OIDC** configured in ``.streamlit/secrets.toml`` (an ``[auth]`` section): Streamlit's
   ``st.login`` / ``st.user``; the user's role comes from the users file by e-mail.
2. **Local accounts** (a users file from the ``users_file`` setting or ``HUMBER_USERS_FILE``):
   a login form with "Username", "Password" and "Log in", argon2 hashes, failed logins rate
   limited and audited.
3. **Neither**: a single local analyst's tool, like a notebook. It serves on the loopback
   address only, says so in a banner, and refuses to run on any other address.
"""

from __future__ import annotations

import ipaddress

import streamlit as st

from auth.audit import AuditLog, default_audit_path
from auth.ratelimit import LoginLimiter
from auth.roles import LOCAL_ANALYST, Viewer
from auth.sessions import COOKIE_NAME, SessionSigner, load_secret
from auth.users import UserStore, users_file_path
from config import get_config

LOOPBACK_NAMES = {"localhost"}
VIEWER_KEY = "viewer"


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
def _limiter() -> LoginLimiter:
    """One limiter per server process: failed logins count across sessions."""
    return LoginLimiter.from_config()


@st.cache_resource
def _signer() -> SessionSigner:
    """Signs the sign-in cookie; the secret lives beside the incident store."""
    from geodata.ingest import default_store_dir

    return SessionSigner(load_secret(default_store_dir() / ".session_secret"))


def _write_cookie(value: str, max_age: int) -> None:
    """Set (or, with max_age 0, clear) the sign-in cookie from the browser side."""
    import streamlit.components.v1 as components

    components.html(
        "<script>const secure = parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"parent.document.cookie = '{COOKIE_NAME}={value}; path=/; SameSite=Strict; "
        f"max-age={max_age}' + secure;</script>", height=0)


def _resume(users: UserStore) -> Viewer | None:
    """The viewer of a valid sign-in cookie whose user still exists, else None."""
    name = _signer().verify(st.context.cookies.get(COOKIE_NAME))
    viewer = users.role_of(name) if name else None
    if viewer is not None:
        audit().record("login", user=viewer.name, role=viewer.label,
                       what="resumed from a signed session cookie")
    return viewer


def audit() -> AuditLog:
    """The append-only audit log (next to the incident store)."""
    return AuditLog(default_audit_path())


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _login_form(users: UserStore) -> None:
    """The local login form; on success the viewer goes into the session and the app reruns."""
    st.title("Humber violence hotspots")
    st.markdown("Sign in to see the dashboard.")
    with st.form("login"):
        name = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        st.stop()
    limiter = _limiter()
    if not limiter.allowed(name):
        audit().record("login_failed", user=name, what="locked out")
        st.error(f"Too many failed logins for this username: try again in "
                 f"{limiter.retry_after(name):.0f} s.")
        st.stop()
    viewer = users.verify(name, password)
    if viewer is None:
        limiter.failure(name)
        audit().record("login_failed", user=name, what="wrong username or password")
        st.error("Wrong username or password.")
        st.stop()
    limiter.success(name)
    audit().record("login", user=viewer.name, role=viewer.label)
    st.session_state[VIEWER_KEY] = viewer
    st.session_state["_new_session_token"] = _signer().issue(viewer.name)
    st.rerun()


def current_viewer() -> Viewer:
    """The signed-in viewer; renders the sign-in step and stops the run until there is one."""
    if VIEWER_KEY in st.session_state:
        token = st.session_state.pop("_new_session_token", None)
        if token:
            _write_cookie(token, int(_signer().ttl_seconds))
        return st.session_state[VIEWER_KEY]
    path = users_file_path()
    if _oidc_configured():
        if not st.user.is_logged_in:
            st.title("Humber violence hotspots")
            st.button("Log in", on_click=st.login)
            st.stop()
        viewer = UserStore(path).role_of(str(st.user.get("email", ""))) if path else None
        if viewer is None:
            audit().record("access_denied", user=str(st.user.get("email", "")),
                           what="no role in the users file")
            st.error("You are signed in but have no role here; ask an administrator.")
            st.stop()
        audit().record("login", user=viewer.name, role=viewer.label, what="oidc")
        st.session_state[VIEWER_KEY] = viewer
        return viewer
    if path is not None:
        users = UserStore(path)
        resumed = _resume(users)
        if resumed is not None:
            st.session_state[VIEWER_KEY] = resumed
            return resumed
        _login_form(users)
    require_local_mode()
    return LOCAL_ANALYST


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
    """Sign-out in the sidebar, for accounts (not in single-analyst mode)."""
    if current is LOCAL_ANALYST:
        return
    st.sidebar.caption(f"Signed in as {current.name} ({current.label}).")
    if st.sidebar.button("Log out", key="logout"):
        audit().record("logout", user=current.name, role=current.label)
        st.session_state.pop(VIEWER_KEY, None)
        if _oidc_configured():
            st.logout()
        _write_cookie("", 0)  # cleared in the browser before any later run can resume it
        st.success("Signed out. Reload the page to sign in again.")
        st.stop()


def record_export(what: str, rows: int) -> None:
    """Audit an export (a download) by the current viewer."""
    current = viewer()
    audit().record("export", user=current.name, role=current.label, what=what, rows=rows)


def disclosure_threshold() -> int:
    """Counts below this are shown as "<N" to aggregate-only roles."""
    return int(get_config().setting("disclosure_threshold").default)


def allowed_areas() -> list[str | None]:
    """Areas the viewer may choose: None (the whole Humber) and every CSP, or only their CSP."""
    config = get_config()
    current = viewer()
    codes = list(current.area_codes(config.area_codes))
    return ([None] if current.humber_wide else []) + (codes if current.role != "public" else [])
