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

from geodata.crs import bng_to_lonlat
from ui import deck

ATTACK = '<img src=x onerror=alert(1)>'


def test_lsoa_tooltips_are_plain_text_shown_as_text():
    frame = pd.DataFrame({"lsoa21nm": [ATTACK], "lsoa21cd": ["E01<b>"], "imd_decile": [1],
                          "income_decile": [2], "incidents": [3], "rate_per_1000": [1.5]})
    (tip,) = deck.lsoa_tooltips(frame, domain="Income", domain_label="Income")
    # Plain text, one fact a line: the deck puts it in with innerText, so the attack string is
    # shown as the characters it is and never parsed (no double escaping either).
    assert tip.splitlines() == [f"{ATTACK} (E01<b>)", "IMD 2025 decile: 1 (1 = most deprived)",
                                "Income decile: 2", "Incidents: 3",
                                "Rate per 1,000 residents: 1.5"]
    assert "&lt;" not in tip and "<br" not in tip
    (small,) = deck.lsoa_tooltips(frame, domain="IMD", domain_label="IMD", threshold=5)
    assert "Incidents: <5" in small.splitlines()


def test_every_tooltip_is_inserted_as_text_not_html():
    from streamlit.elements.deck_gl_json_chart import _get_pydeck_tooltip

    tooltip = _get_pydeck_tooltip(deck.build_deck([], deck.fit_view((0, 0, 1000, 1000)),
                                                  basemap_style="none"))
    # Streamlit escapes values put into an "html" template (tags showed as text); a "text"
    # template goes in with innerText, wraps at a set width and keeps the lines.
    assert "html" not in tooltip
    assert tooltip["text"] == "{tooltip}"
    assert tooltip["style"]["whiteSpace"] == "pre-line"
    assert deck.tooltip_text("Hotspot 2", ["Incidents: 5", "", "LSOAs: A"]) == \
        "Hotspot 2\nIncidents: 5\nLSOAs: A"


def test_density_image_is_a_png_of_the_grid_with_transparent_empty_cells():
    density = np.zeros((4, 6))
    density[0, 0] = 10.0  # south-west cell
    image = deck.density_image(density, (500_000, 430_000, 500_600, 430_400))
    png = Image.open(io.BytesIO(base64.b64decode(image.data_url.split(",", 1)[1])))
    assert png.size == (6, 4)
    pixels = np.asarray(png.convert("RGBA"))
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


def _corners_on_screen(bounds, view, width, height):
    xmin, ymin, xmax, ymax = bounds
    lon, lat = bng_to_lonlat([xmin, xmin, xmax, xmax], [ymin, ymax, ymax, ymin])
    return deck.project(view, lon, lat, width_px=width, height_px=height)


@pytest.mark.parametrize("size", [(906, 664), (1460, 976), (600, 900)])
@pytest.mark.parametrize("bounds", [(489_000, 425_000, 516_500, 437_000),   # Hull-like, wide
                                    (470_000, 420_000, 540_000, 470_000),   # East Riding-like
                                    (500_000, 430_000, 500_200, 430_100)])  # one street
def test_fit_view_puts_the_whole_area_inside_the_free_part_of_the_map(size, bounds):
    width, height = size
    view = deck.fit_view(bounds, width_px=width, height_px=height, padding_px=20)
    x, y = _corners_on_screen(bounds, view, width, height)
    left = deck.OVERLAY_WIDTH_PX + 2 * deck.OVERLAY_MARGIN_PX
    assert x.min() >= left - 1 and x.max() <= width - 20 + 1      # clear of the legend panel
    assert y.min() >= 20 - 1 and y.max() <= height - 20 + 1
    # ...and fitted, not merely inside: one pair of sides touches the margins (zoom is
    # floored to 0.01, a 0.7% shrink), unless the street-scale cap applies.
    fill = max((x.max() - x.min()) / (width - left - 20), (y.max() - y.min()) / (height - 40))
    assert fill > 0.98 or view.zoom == 18.0


def test_fit_view_checks_its_arguments():
    with pytest.raises(ValueError, match="xmax >= xmin"):
        deck.fit_view((10, 0, 0, 10))
    with pytest.raises(ValueError, match="larger than its margins"):
        deck.fit_view((0, 0, 10, 10), width_px=300, height_px=300)
    with pytest.raises(ValueError, match=r"\(xmin, ymin, xmax, ymax\)"):
        deck.fit_view((0, 0, 10))


def test_street_labels_are_sized_in_metres_and_filtered_for_collisions():
    layer = json.loads(deck.street_label_layer(pd.DataFrame(
        {"name": ["Newland Avenue"], "lon": [-0.36], "lat": [53.76]})).to_json())
    assert layer["@@type"] == "TextLayer" and layer["data"][0]["name"] == "Newland Avenue"
    # Metres, capped in pixels: unreadably small (so not drawn over the map) below street zoom.
    assert layer["sizeUnits"] == "meters" and layer["sizeMaxPixels"] <= 14
    assert {"@@type": "CollisionFilterExtension"} in layer["extensions"]
    assert layer["pickable"] is False
    with pytest.raises(ValueError, match="missing"):
        deck.street_label_layer(pd.DataFrame({"name": ["A"]}))


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


def _rgba(image) -> np.ndarray:
    raw = base64.b64decode(image.data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA")).astype(int)


def test_density_image_colours_are_within_one_unit_of_the_continuous_scale():
    density = np.linspace(0.0, 50.0, 40 * 30).reshape(30, 40)
    density[3, 4] = np.nan
    image = deck.density_image(density, (500_000, 430_000, 504_000, 433_000))
    pixels = np.flipud(_rgba(image))                     # back to row 0 = south
    values = np.nan_to_num(density)
    scaled = np.sqrt(np.clip(values / image.vmax, 0.0, 1.0))
    stops = np.linspace(0.0, 1.0, len(deck.DENSITY_RAMP))
    visible = (values >= image.vmin) & np.isfinite(density)
    assert (pixels[..., 3] > 0).tolist() == visible.tolist()   # NaN and the floor: clear
    for channel in range(3):
        expected = np.interp(scaled, stops, deck.DENSITY_RAMP[:, channel]).astype(int)
        assert np.abs(pixels[..., channel] - expected)[visible].max() <= 1
    expected_alpha = (70 + 160 * scaled).astype(int)
    assert np.abs(pixels[..., 3] - expected_alpha)[visible].max() <= 1


def test_category_image_draws_each_class_in_its_colour():
    classes = np.array([[0, 1, 2], [3, 4, 5]])
    image = deck.category_image(classes, (500_000, 430_000, 500_300, 430_200),
                                deck.CHANGE_COLOURS)
    pixels = np.flipud(_rgba(image))
    assert pixels[0, 0].tolist() == [0, 0, 0, 0]
    for value, colour in deck.CHANGE_COLOURS.items():
        row, col = divmod(value, 3)
        assert pixels[row, col].tolist() == colour


def test_shared_records_give_the_same_json_serialised_once(monkeypatch):
    labels = pd.DataFrame({"name": ["Newland Avenue", 'A "quoted" <b>street</b>', "Beverley Road"],
                           "lon": [-0.36, -0.35, -0.34], "lat": [53.76, 53.77, 53.78]})
    plain = deck.street_label_records(labels)
    shared = deck.SharedRecords(plain)
    view = deck.fit_view((500_000.0, 420_000.0, 520_000.0, 440_000.0), width_px=800,
                         height_px=600)
    outline = deck.boundary_layer([{"polygon": [[[-0.3, 53.7], [-0.2, 53.7], [-0.2, 53.8]]]}],
                                  layer_id="csp_boundaries", colour=[0, 0, 0, 255], width_px=1)

    def deck_of(records):
        return deck.build_deck([outline, deck.street_label_layer(records),
                                deck.street_label_layer(records)], view, basemap_style="none")

    expected = deck_of(list(plain)).to_json()
    assert deck_of(shared).to_json() == expected          # the same bytes
    calls = []
    real = deck._json
    monkeypatch.setattr(deck, "_json", lambda value: calls.append(type(value)) or real(value))
    assert deck_of(shared).to_json() == expected          # again, from the stored JSON
    assert list not in calls                               # the records were not serialised
    layer = deck.street_label_layer(shared)
    deck_of(shared).to_json()
    assert layer.data is shared                            # the layers keep their records
    other = deck.SharedRecords(plain[:1])                  # other records: their own JSON
    assert json.loads(deck_of(other).to_json())["layers"][1]["data"] == json.loads(
        json.dumps(plain[:1]))
