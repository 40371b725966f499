"""Who may see the dashboard. For now: a single local analyst's tool, served on loopback only.

police.uk points are personal-adjacent data. Until accounts and roles exist, the dashboard is a
single analyst's tool, like a notebook: it serves only on the loopback address and refuses to
run when Streamlit listens on any other address.
"""

from __future__ import annotations

import ipaddress

import streamlit as st

LOOPBACK_NAMES = {"localhost"}


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
            f"This dashboard shows police.uk incident locations and has no user accounts yet, "
            f"so it only serves on this computer. It is set to listen on {shown}. Start it "
            f"with `make run` (which listens on 127.0.0.1), or "
            f"`streamlit run app.py --server.address 127.0.0.1`.")
        st.stop()
    st.sidebar.caption(f"Single-analyst mode: served on this computer only ({address}); "
                       f"there are no accounts, so do not expose it to a network.")
