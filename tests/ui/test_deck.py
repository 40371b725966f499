"""Deck builders: escaped tooltips, density image geometry, views and the basemap switch."""

from __future__ import annotations

import base64
import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

from ui import deck

ATTACK = '<img src=x onerror=alert(1)>'


def test_lsoa_tooltips_escape_every_data_string():
    frame = pd.DataFrame({"lsoa21nm": [ATTACK], "lsoa21cd": ["E01<b>"], "imd_decile": [1],
                          "income_decile": [2], "incidents": [3], "rate_per_1000": [1.5]})
    (tip,) = deck.lsoa_tooltips(frame, domain="Income", domain_label="Income")
    assert "<img" not in tip and "&lt;img src=x onerror=alert(1)&gt;" in tip
    assert "E01&lt;b&gt;" in tip
    assert "Income decile: 2" in tip and "Incidents: 3" in tip and "1,000 residents: 1.5" in tip


def test_density_image_is_a_png_of_the_grid_with_transparent_empty_cells():
    density = np.zeros((4, 6))
    density[0, 0] = 10.0  # south-west cell
    image = deck.density_image(density, (500_000, 430_000, 500_600, 430_400))
    png = Image.open(io.BytesIO(base64.b64decode(image.data_url.split(",", 1)[1])))
    assert png.size == (6, 4)
    pixels = np.asarray(png)
    assert pixels[-1, 0, 3] > 0          # image rows run north to south: SW is bottom-left
    assert (pixels[:, :, 3] > 0).sum() == 1
    assert image.vmax == pytest.approx(10.0)
    (sw, nw, ne, se) = image.corners
    assert sw[0] < se[0] and sw[1] < nw[1]  # lon grows east, lat grows north
    assert -1.6 < sw[0] < 0.3 and 53.3 < sw[1] < 54.2


def test_polygon_records_split_multipolygons_and_keep_holes():
    outer = shapely.box(500_000, 430_000, 501_000, 431_000)
    with_hole = outer.difference(shapely.box(500_400, 430_400, 500_600, 430_600))
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.MultiPolygon(
        [with_hole, shapely.box(502_000, 430_000, 502_100, 430_100)])], crs="EPSG:27700")
    records = deck.polygon_records(frame, ["id"])
    assert [len(r["polygon"]) for r in records] == [2, 1]  # outer+hole, then a plain part
    assert all(r["id"] == 1 for r in records)


def test_view_fits_bounds():
    view = deck.view_for_bounds((500_000, 420_000, 520_000, 440_000))  # a 20 km square
    assert 9.5 < view.zoom < 11.0
    assert -0.5 < view.longitude < 0.0 and 53.5 < view.latitude < 54.0


def test_no_basemap_means_no_tile_request():
    spec = json.loads(deck.build_deck([], deck.view_for_bounds((0, 0, 1000, 1000)),
                                      basemap_style="none").to_json())
    assert "mapStyle" not in spec or spec["mapStyle"] == "__MAP_STYLE__"
    assert spec.get("mapProvider") in (None, "")
    styled = json.loads(deck.build_deck([], deck.view_for_bounds((0, 0, 1000, 1000)),
                                        basemap_style="https://example.org/style.json").to_json())
    assert styled["mapStyle"] == "https://example.org/style.json"


def test_image_and_units_are_sent_as_plain_strings_not_expressions():
    image = deck.density_image(np.ones((2, 2)), (0, 0, 200, 200))
    layer = json.loads(deck.density_layer(image).to_json())
    assert layer["image"].startswith("data:image/png;base64,")
    outline = json.loads(deck.outline_layer([], layer_id="x", colour=[1, 2, 3]).to_json())
    assert outline["lineWidthUnits"] == "pixels"
