"""The tasking pack button of a CSP page: build the PDF, GeoJSON and CSV, offer downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from reports.tasking_pack import TaskingPackError, build_tasking_pack
from ui import cached
from ui.access import record_export
from ui.widgets import Filters

FILES = (("pdf", "tasking_pack.pdf", "application/pdf"),
         ("geojson", "hotspots.geojson", "application/geo+json"),
         ("csv", "hotspots.csv", "text/csv"))


def pack_arguments(area_code: str, filters: Filters) -> dict:
    """Return the arguments of ``build_tasking_pack`` for the map's filters.

    The same months, crime group, bandwidth, cell size, threshold method and value and
    measure, so the pack's hotspots (outlines, ranks and names) are the map's.
    """
    return dict(area_code=area_code, month_from=filters.months[0],
                month_to=filters.months[-1], crime_group=filters.crime_group,
                bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                threshold_method=filters.threshold_method,
                threshold_value=filters.threshold_value, measure=filters.measure)


def tasking_pack(area_code: str, filters: Filters, *, key: str) -> None:
    """Offer a button that builds the pack for the map's CSP, months, group and hotspots."""
    label = f"{filters.months[0]} to {filters.months[-1]}, {filters.crime_group}"
    if st.button(f"Build the tasking pack ({label})", key=f"{key}_pack",
                 help="A printable PDF (map, top hotspots with profiles, trend, methods, "
                      "caveats, attributions) and the hotspots as GeoJSON and CSV, with the "
                      "map's bandwidth, cells, hotspot threshold and measure."):
        try:
            with st.spinner("Writing the tasking pack…"), \
                    tempfile.TemporaryDirectory(prefix="humber-pack-") as folder:
                pack = build_tasking_pack(out_dir=folder, store=cached.store(),
                                          **pack_arguments(area_code, filters))
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
