"""The Data page's police.uk section: newest month at the source and stored, and "Fetch now".

The source is asked only when someone presses "Check data.police.uk" (with a short timeout,
the answer cached for ten minutes), so the page never waits on the network when it opens and
never blocks offline. "Fetch now" runs :func:`geodata.fetch.refresh` (the same lock as a cron
or systemd refresh) with a progress bar fed by the fetch's callback. The Data page is shown
only to roles that may ingest.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from geodata.errors import FetchError, RefreshBusy
from geodata.fetch import (
    HttpClient,
    default_base_url,
    default_force,
    load_state,
    newest_month,
    refresh,
)
from ui import cached
from ui.ingest_view import plain_markdown, render_report
from ui.warmup import start_warm_up

#: Seconds to wait for data.police.uk when checking its newest month from the page.
CHECK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SourceCheck:
    """The newest month at the source, or why it could not be had."""

    newest: str | None
    error: str | None


@st.cache_data(ttl=600, show_spinner=False)
def check_source(base_url: str) -> SourceCheck:
    """Ask `base_url` for its newest month (cached ten minutes, failures too)."""
    try:
        month = newest_month(HttpClient(timeout=CHECK_TIMEOUT_S, retries=0), base_url)
    except FetchError as error:
        return SourceCheck(None, str(error))
    return SourceCheck(month, None)


def _stored_newest() -> str | None:
    months = sorted({m for p in cached.store().partitions() if p.source == "police_uk"
                     for m in p.months})
    return months[-1] if months else None


def render_fetch_section(*, user: str, role: str | None, audit) -> None:
    """Newest month at data.police.uk and in the store, and the "Fetch now" button.

    Parameters
    ----------
    user : str
        Who presses the button (recorded in the ingests table and the audit log).
    role : str or None
        The viewer's role label, for the audit log.
    audit : auth.audit.AuditLog
        Where the fetch is recorded.
    """
    base_url, force = default_base_url(), default_force()
    host = base_url.split("://", 1)[-1]
    st.subheader("police.uk: keep the store current")
    st.caption(plain_markdown(
        f"The store is brought up to date from {host} for force '{force}' (the "
        f"police_uk_force setting) by python -m geodata refresh, run by cron or a systemd "
        f"timer, or by the button below: only the months missing or republished are fetched."))
    try:
        state = load_state(cached.store())
    except FetchError as error:
        st.error(plain_markdown(error))
        state = {"forces": {}, "source": {}}
    last_known = state.get("source", {})
    columns = st.columns(3)
    columns[0].metric("Newest police.uk month stored", _stored_newest() or "none")
    check = st.session_state.get("police_uk_check")
    if check is None:
        shown = last_known.get("newest") or "not checked"
        help_text = (f"Last seen at the source on {last_known['checked_at']}"
                     if last_known.get("checked_at") else "Press Check to ask the source.")
    else:
        shown = check.newest or "unknown"
        help_text = "Asked just now (answers are kept for ten minutes)."
    columns[1].metric(f"Newest month at {host}", shown, help=help_text)
    if columns[2].button("Check data.police.uk", key="police_uk_check_button"):
        with st.spinner(f"Asking {host}…"):
            check = check_source(base_url)
        st.session_state["police_uk_check"] = check
        st.rerun()
    if check is not None and check.error:
        st.warning(plain_markdown(f"could not reach {host}: {check.error}"))

    if st.button("Fetch now", key="police_uk_fetch_now", type="primary"):
        bar = st.progress(0.0, text="Starting…")

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=plain_markdown(message))

        try:
            result = refresh(cached.store(), base_url=base_url, force=force, user=user,
                             client=HttpClient(timeout=30.0, retries=3), progress=progress)
        except RefreshBusy as error:
            st.session_state["police_uk_fetch"] = ("busy", str(error))
        except FetchError as error:
            st.session_state["police_uk_fetch"] = ("failed", str(error))
            audit.record("ingest", user=user, role=role, rows=0,
                         what=f"fetch from the Data page failed: {error}")
        else:
            check_source.clear()
            start_warm_up()  # the new version's defaults and aggregates, in the background
            st.session_state["police_uk_check"] = SourceCheck(result.newest_at_source, None)
            st.session_state["police_uk_fetch"] = ("done", result)
            audit.record("ingest", user=user, role=role, rows=result.rows_read,
                         what=f"fetch from the Data page ({result.force}, newest "
                              f"{result.newest_at_source}): {result.summary()}; "
                              f"{result.transfer()}")
        st.rerun()  # the figures above now show the new store
    _render_outcome(st.session_state.get("police_uk_fetch"), host)


def _render_outcome(outcome, host: str) -> None:
    if outcome is None:
        return
    kind, value = outcome
    if kind == "busy":
        st.warning(plain_markdown(value))
    elif kind == "failed":
        st.error(plain_markdown(f"could not reach {host}, or its files were unreadable: "
                                f"{value}"))
    elif value.up_to_date_before:
        st.success(plain_markdown(f"Up to date: every month to {value.newest_at_source} is "
                                  f"stored. {value.transfer()}."))
    else:
        fetched = ", ".join(f"{m.month} ({m.reason})" for m in value.members)
        st.success(plain_markdown(f"Fetched {fetched}. {value.summary()}. "
                                  f"{value.transfer()}."))
        render_report(value.report)
    if kind == "done":
        for note in value.notes:
            st.caption(plain_markdown(note))
