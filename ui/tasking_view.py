"""The tasking pack button of a CSP page: build the PDF, GeoJSON and CSV, offer downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from reports.tasking_pack import TaskingPackError, build_tasking_pack
from ui import data
from ui.access import record_export
from ui.widgets import Filters

FILES = (("pdf", "tasking_pack.pdf", "application/pdf"),
         ("geojson", "hotspots.geojson", "application/geo+json"),
         ("csv", "hotspots.csv", "text/csv"))


def tasking_pack(area_code: str, filters: Filters, *, key: str) -> None:
    """A button that builds the pack for the page's CSP, months and crime group."""
    label = f"{filters.months[0]} to {filters.months[-1]}, {filters.crime_group}"
    if st.button(f"Build the tasking pack ({label})", key=f"{key}_pack",
                 help="A printable PDF (map, top hotspots with profiles, trend, methods, "
                      "caveats, attributions) and the hotspots as GeoJSON and CSV."):
        try:
            with st.spinner("Writing the tasking pack…"), \
                    tempfile.TemporaryDirectory(prefix="humber-pack-") as folder:
                pack = build_tasking_pack(
                    area_code, filters.months[0], filters.months[-1], folder,
                    store=data.store(), crime_group=filters.crime_group,
                    bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                    threshold_value=(filters.threshold_value
                                     if filters.threshold_method == "top_percent" else 2.0))
                st.session_state[f"{key}_pack_files"] = {
                    name: Path(getattr(pack, name)).read_bytes() for name, _, _ in FILES}
                st.session_state[f"{key}_pack_label"] = label
        except TaskingPackError as error:
            st.error(str(error))
    files = st.session_state.get(f"{key}_pack_files")
    if files:
        st.caption(f"Tasking pack for {st.session_state[f'{key}_pack_label']}:")
        for column, (name, file_name, mime) in zip(st.columns(len(FILES)), FILES):
            column.download_button(f"Download {file_name}", files[name], file_name=file_name,
                                   mime=mime, key=f"{key}_download_{name}",
                                   on_click=record_export,
                                   args=(f"tasking pack {file_name} ({area_code})", 0))
