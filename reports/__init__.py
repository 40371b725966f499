"""Printable reports built from the incident store and the hotspot library (no Streamlit).

Modules
-------
tasking_pack
    A CSP's tasking pack (PDF, GeoJSON, CSV): :func:`~reports.tasking_pack.build_tasking_pack`
    and ``python -m reports.tasking_pack``: the request, the store, the one analysis
    (:func:`hotspots.tasking.hotspots_with_change`) and the files.
pack_pages
    The pack's PDF pages, drawn from one :class:`~reports.pack_pages.PackContext`.
pack_files
    The pack's ``hotspots.csv`` rows and ``hotspots.geojson``.
static_map
    Matplotlib maps in British National Grid metres with a scale bar and north arrow.
pdf
    A4 page helpers that draw every string as plain text.

This package must never import ``streamlit`` or ``pydeck``.
"""
