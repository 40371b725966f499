"""Read what a browser received: Streamlit websocket frames decoded as an attacker would.

The frames are ``ForwardMsg`` protobufs. Tables (``st.dataframe``) and chart data
(``st.altair_chart``) travel as Arrow streams inside them, or as rows inside a chart's spec; map layers travel as deck JSON
text. These helpers pull out the tables, the chart datasets and the lon/lat pairs.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa

PAIR = re.compile(r"\[\s*(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,2}\.\d+)\s*\]")
LONLAT = re.compile(r'"lon"\s*:\s*(-?\d{1,2}\.\d+)\s*,\s*"lat"\s*:\s*(-?\d{1,2}\.\d+)')


def _arrow(data: bytes) -> pd.DataFrame | None:
    if not data:
        return None
    try:
        return pa.ipc.open_stream(pa.BufferReader(data)).read_pandas()
    except pa.ArrowInvalid:
        return None


def elements(frames: list[bytes]) -> list:
    """Every element (``Element`` protobuf) the frames add to the page, in order."""
    from google.protobuf.message import DecodeError
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    found = []
    for frame in frames:
        try:
            message = ForwardMsg.FromString(frame)
        except DecodeError:
            continue
        if message.WhichOneof("type") == "delta" and \
                message.delta.WhichOneof("type") == "new_element":
            found.append(message.delta.new_element)
    return found


def tables(frames: list[bytes]) -> list[pd.DataFrame]:
    """Every ``st.dataframe`` received, decoded from its Arrow bytes."""
    out = []
    for element in elements(frames):
        if element.WhichOneof("type") == "dataframe":
            frame = _arrow(element.dataframe.arrow_data.data)
            if frame is not None:
                out.append(frame)
    return out


def _inline_values(spec) -> list[list]:
    """The ``data.values`` arrays anywhere in a Vega-Lite spec (a layer's or a dataset's)."""
    found = []
    if isinstance(spec, dict):
        values = spec.get("data", {}).get("values") if isinstance(spec.get("data"), dict) \
            else None
        if isinstance(values, list):
            found.append(values)
        for key, value in spec.items():
            if key == "datasets" and isinstance(value, dict):
                found += [v for v in value.values() if isinstance(v, list)]
            elif key != "data":
                found += _inline_values(value)
    elif isinstance(spec, list):
        for item in spec:
            found += _inline_values(item)
    return found


def chart_data(frames: list[bytes]) -> list[pd.DataFrame]:
    """Every dataset of every Vega-Lite (Altair) chart received: Arrow datasets and the rows
    written into the spec itself."""
    out = []
    for element in elements(frames):
        if element.WhichOneof("type") != "vega_lite_chart":
            continue
        chart = element.vega_lite_chart
        for data in [chart.data.data, *(d.data.data for d in chart.datasets)]:
            frame = _arrow(data)
            if frame is not None:
                out.append(frame)
        if chart.spec:
            out += [pd.DataFrame(rows) for rows in _inline_values(json.loads(chart.spec))
                    if rows]
    return out


def coordinates(frames: list[bytes]) -> set[tuple[float, float]]:
    """Every (lon, lat) pair written in the frames (deck JSON), within Great Britain."""
    text = b"".join(frames).decode("latin-1")
    pairs = {(float(a), float(b)) for a, b in PAIR.findall(text)}
    pairs |= {(float(a), float(b)) for a, b in LONLAT.findall(text)}
    return {(lon, lat) for lon, lat in pairs if -9 < lon < 2 and 49 < lat < 61}


def public_vertices() -> set[tuple[float, float]]:
    """Vertices of the published boundaries (LSOAs, wards, local authorities) as the deck
    sends them: public geography, not derived from incidents."""
    from geodata.reference import load_lad_boundaries, load_lsoa_table, load_wards
    from ui.deck import polygon_records

    lsoas = load_lsoa_table()
    vertices = set()
    for frame in (lsoas, load_wards(lsoas), load_lad_boundaries()):
        for record in polygon_records(frame, []):
            for ring in record["polygon"]:
                vertices.update((lon, lat) for lon, lat in ring)
    return vertices


def deck_vertices(geometry, *, crs: str = "EPSG:27700") -> set[tuple[float, float]]:
    """The (lon, lat) vertices the deck would send for `geometry` (6 decimals)."""
    import geopandas as gpd

    from ui.deck import polygon_records

    frame = gpd.GeoDataFrame({"k": [0]}, geometry=[geometry], crs=crs)
    return {(lon, lat) for record in polygon_records(frame, [])
            for ring in record["polygon"] for lon, lat in ring}


__all__ = ["chart_data", "coordinates", "deck_vertices", "elements", "public_vertices",
           "tables"]
