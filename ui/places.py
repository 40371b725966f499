"""The "find a place" box: type a ward, an LSOA name or code, or a street, and zoom there."""

from __future__ import annotations

import streamlit as st

from ui import cached
from ui.access import viewer

KIND_LABELS = {"ward": "Ward", "LSOA": "LSOA", "street": "Street"}


def find_a_place(*, key: str, lad_code: str | None) -> dict | None:
    """Sidebar search box; returns the chosen place (kind, name, code, geometry) or None."""
    text = st.sidebar.text_input(
        "Find a place", key=f"{key}_find", placeholder="ward, LSOA or street",
        help="Type part of a ward name, an LSOA name or code, or a street (from the police.uk "
             "location text); the map zooms there and outlines it.")
    if not text.strip():
        return None
    matches = cached.find_places(text, lad_code=lad_code)
    if not viewer().sees_points:  # streets are finer than LSOAs: not for partner or public
        matches = matches[matches["kind"] != "street"]
    if matches.empty:
        st.sidebar.caption("No ward, LSOA or street matches that.")
        return None
    labels = [f"{KIND_LABELS[k]}: {n}" + (f" ({c})" if c and k != "ward" else "")
              for k, n, c in zip(matches["kind"], matches["name"], matches["code"])]
    index = st.sidebar.selectbox("Matches", range(len(labels)), format_func=labels.__getitem__,
                                 key=f"{key}_find_match")
    row = matches.iloc[int(index)]
    return {"kind": row["kind"], "name": row["name"], "code": row["code"],
            "geometry": row.geometry}
