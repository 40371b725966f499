"""Printable reports built from the incident store and the hotspot library (no Streamlit).

Modules
-------
tasking_pack
    A CSP's tasking pack (PDF, GeoJSON, CSV): :func:`~reports.tasking_pack.build_tasking_pack`
    and ``python -m reports.tasking_pack``.
static_map
    Matplotlib maps in British National Grid metres with a scale bar and north arrow.
pdf
    A4 page helpers that draw every string as plain text.

This package must never import ``streamlit`` or ``pydeck``.
"""
