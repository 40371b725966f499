"""pydeck deck builders: aggregated layers only, reprojected to WGS84 for display.

Everything that reaches the browser is aggregated (LSOA polygons, a density image, outlines);
incident points are added only when the selection is small. Every string that comes from data
is HTML-escaped before it is put into a tooltip.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from PIL import Image
from pydeck.bindings.json_tools import default_serialize

from geodata.crs import BNG, WGS84, bng_to_lonlat

#: Layer keys and the labels the layer switch shows.
LAYERS: dict[str, str] = {
    "choropleth": "LSOA deprivation (IoD 2025 decile)",
    "density": "Kernel density surface",
    "risk": "Risk: incidents per 1,000 residents (dual KDE)",
    "hotspots": "Hotspot outlines",
    "predicted": "Predicted hotspot cells (back-tested default method)",
    "change": "Change since the previous period",
    "emerging": "Emerging hot spots (space-time Gi*)",
    "clusters": "DBSCAN cluster outlines",
    "gi_star": "Gi* hot and cold spots (LSOAs, FDR-corrected)",
    "lsoa_boundaries": "LSOA boundaries",
    "wards": "Ward boundaries (2024)",
    "streets": "Street names (police.uk map points; zoom in)",
    "points": "Incident points (small selections only)",
}
#: The deprivation choropleth is one click away: under the density surface it muddies both.
#: "predicted" is the back-tested default method (see docs/methods.md).
DEFAULT_LAYERS = ("density", "hotspots", "predicted", "clusters", "lsoa_boundaries", "streets")

#: Deciles 1 (most deprived) to 10 (least deprived): dark purple to pale, colour-blind safe.
DECILE_COLOURS: list[list[int]] = [
    [63, 0, 125], [84, 39, 143], [106, 81, 163], [128, 125, 186], [158, 154, 200],
    [188, 189, 220], [218, 218, 235], [235, 235, 244], [245, 245, 250], [252, 251, 253],
]
#: Density ramp (YlOrRd) from the lowest shown density to the highest.
DENSITY_RAMP = np.array([[255, 255, 178], [254, 204, 92], [253, 141, 60], [240, 59, 32],
                         [189, 0, 38]], dtype=float)
#: Risk ramp (BuPu): residents' exposure, distinct from the volume ramp.
RISK_RAMP = np.array([[237, 248, 251], [179, 205, 227], [140, 150, 198], [136, 86, 167],
                      [129, 15, 124]], dtype=float)
#: Change classes (hotspots.change.CHANGE_CLASSES index) and their colours.
CHANGE_COLOURS: dict[int, list[int]] = {
    1: [230, 97, 1, 200],      # new
    2: [120, 120, 120, 170],   # persistent
    3: [178, 24, 43, 220],     # intensifying
    4: [67, 147, 195, 200],    # diminishing
    5: [146, 197, 222, 170],   # ceased
}
#: Emerging hot spot categories (hotspots.emerging.EMERGING_CATEGORIES) and their colours, as
#: ArcGIS Pro draws them: reds for hot patterns and blues for cold ones, darkest for new,
#: consecutive and intensifying, pale for diminishing and historical. "no pattern" is not drawn.
EMERGING_COLOURS: dict[str, list[int]] = {
    "new hot spot": [128, 0, 0, 220], "consecutive hot spot": [191, 0, 0, 210],
    "intensifying hot spot": [230, 0, 0, 210], "persistent hot spot": [255, 85, 85, 200],
    "diminishing hot spot": [255, 150, 150, 190], "sporadic hot spot": [255, 140, 0, 190],
    "oscillating hot spot": [255, 200, 60, 190], "historical hot spot": [255, 210, 210, 180],
    "new cold spot": [0, 0, 128, 220], "consecutive cold spot": [0, 40, 191, 210],
    "intensifying cold spot": [0, 90, 230, 210], "persistent cold spot": [85, 140, 255, 200],
    "diminishing cold spot": [150, 185, 255, 190], "sporadic cold spot": [0, 170, 170, 190],
    "oscillating cold spot": [120, 210, 210, 190], "historical cold spot": [210, 225, 255, 180],
}
PREDICTED_COLOUR = [94, 60, 153]
#: Gi* classes (hotspots.getis_ord) and their colours; "not significant" is not drawn.
GI_COLOURS: dict[str, list[int]] = {
    "hot 99%": [178, 24, 43, 200], "hot 95%": [239, 138, 98, 190],
    "hot 90%": [253, 219, 199, 180], "cold 90%": [209, 229, 240, 180],
    "cold 95%": [103, 169, 207, 190], "cold 99%": [33, 102, 172, 200]}
HOTSPOT_COLOUR = [215, 25, 28]
WARD_COLOUR = [27, 120, 55]
FOCUS_COLOUR = [255, 191, 0]
CLUSTER_COLOUR = [0, 114, 178]
LAD_COLOUR = [40, 40, 40]


@dataclass(frozen=True)
class DensityImage:
    """A density surface rendered as a PNG for a deck.gl ``BitmapLayer``."""

    data_url: str
    corners: list[list[float]]   # lon/lat of the grid's SW, NW, NE, SE corners
    vmin: float                  # per km², lowest density drawn
    vmax: float                  # per km², density drawn in the darkest colour


def _encode(index: np.ndarray, palette: np.ndarray,
            bounds: tuple[float, float, float, float]) -> tuple[str, list]:
    """PNG data URL of an (ny, nx) image of palette indices (row 0 south) and its corners
    in lon/lat. `palette` is (256, 4) RGBA; its alpha goes in the PNG's ``tRNS`` chunk.

    An indexed PNG: a byte per cell instead of four, so a Humber surface encodes in a
    third of the time and is sent in about a quarter of the bytes of an RGBA one."""
    image = Image.frombytes("P", (index.shape[1], index.shape[0]),
                            np.ascontiguousarray(np.flipud(index), dtype=np.uint8).tobytes())
    image.putpalette(palette[:, :3].astype(np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    # zlib's default level: `optimize=True` took 4 times as long for 0.5% fewer bytes
    image.save(buffer, format="PNG", transparency=palette[:, 3].astype(np.uint8).tobytes())
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    xmin, ymin, xmax, ymax = bounds
    lon, lat = bng_to_lonlat([xmin, xmin, xmax, xmax], [ymin, ymax, ymax, ymin])
    return data_url, [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat)]


#: Colour levels of a density image (palette entry 0 is the transparent "below the floor").
DENSITY_LEVELS = 255


def density_image(density: np.ndarray, bounds: tuple[float, float, float, float], *,
                  floor_fraction: float = 0.005,
                  ramp: np.ndarray = DENSITY_RAMP) -> DensityImage:
    """Colour a density (or rate) grid and encode it as a PNG data URL.

    Parameters
    ----------
    density : numpy.ndarray
        Shape (ny, nx), row 0 the southern row; incidents per km² (or any rate). NaN cells
        are transparent.
    bounds : tuple of float
        (xmin, ymin, xmax, ymax) of the grid in EPSG:27700 metres.
    floor_fraction : float, default 0.005
        Cells below this fraction of the colour-scale maximum are transparent. Colours and
        opacity follow the square root of density / maximum, in :data:`DENSITY_LEVELS`
        steps (an indexed PNG; within one unit of each RGBA channel of a continuous scale).
    ramp : numpy.ndarray
        (k, 3) RGB colours from low to high.

    Returns
    -------
    DensityImage
    """
    density = np.asarray(density)
    # Only the cells above 0 (a tenth of a Humber surface) can be drawn, as vmin > 0: they
    # alone are scaled (a third of the time of scaling every cell)
    at = np.flatnonzero(np.isfinite(density).ravel() & (density.ravel() > 0))
    positive = density.ravel()[at]
    vmax = float(np.quantile(positive, 0.999)) if positive.size else 1.0
    vmax = max(vmax, 1e-12)
    vmin = floor_fraction * vmax
    drawn = positive >= vmin
    # A square-root scale: police.uk points make narrow kernels very peaked, and on a linear
    # scale everything but the peaks would vanish.
    scaled = np.sqrt(np.clip(positive[drawn] / vmax, 0.0, 1.0))
    top = DENSITY_LEVELS - 1
    index = np.zeros(density.shape, dtype=np.uint8)
    index.ravel()[at[drawn]] = (1 + np.rint(scaled * top)).astype(np.uint8)
    levels = np.arange(DENSITY_LEVELS) / top
    stops = np.linspace(0.0, 1.0, len(ramp))
    palette = np.zeros((256, 4), dtype=np.uint8)
    for channel in range(3):
        palette[1:DENSITY_LEVELS + 1, channel] = np.interp(levels, stops,
                                                           ramp[:, channel]).astype(np.uint8)
    palette[1:DENSITY_LEVELS + 1, 3] = (70 + 160 * levels).astype(np.uint8)
    data_url, corners = _encode(index, palette, bounds)
    return DensityImage(data_url=data_url, corners=corners, vmin=vmin, vmax=vmax)


def category_image(classes: np.ndarray, bounds: tuple[float, float, float, float],
                   colours: dict[int, list[int]]) -> DensityImage:
    """Colour a class raster (index per cell; classes without a colour are transparent)."""
    index = np.zeros(classes.shape, dtype=np.uint8)
    palette = np.zeros((256, 4), dtype=np.uint8)
    for entry, (value, colour) in enumerate(colours.items(), start=1):
        index[classes == value] = entry
        palette[entry] = colour
    data_url, corners = _encode(index, palette, bounds)
    return DensityImage(data_url=data_url, corners=corners, vmin=0.0, vmax=0.0)


def _rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
    rings = [polygon.exterior, *polygon.interiors]
    return [[[round(x, 6), round(y, 6)] for x, y in ring.coords] for ring in rings]


def _to_lonlat(coords: np.ndarray, crs) -> np.ndarray:
    """(n, 2) coordinates in `crs` as lon/lat; BNG through the process's one transformer
    (GeoPandas' ``to_crs`` builds a new one, 30 ms, on every call)."""
    if crs is None:
        raise ValueError("polygon_records needs a frame with a CRS; got one without.")
    if len(coords) == 0:
        return coords
    if crs == BNG:
        lon, lat = bng_to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])
    if crs == WGS84:
        return coords
    points = gpd.GeoSeries(gpd.points_from_xy(coords[:, 0], coords[:, 1]), crs=crs)
    return shapely.get_coordinates(points.to_crs(WGS84).to_numpy())


def polygon_records(frame: gpd.GeoDataFrame, columns: list[str]) -> list[dict]:
    """Turn (multi)polygons into PolygonLayer records with rings in lon/lat.

    Multipolygons become one record per part, each carrying the row's `columns`; parts that
    are not polygons, and missing or empty geometries, are left out. Coordinates are rounded
    to 6 decimals (about 0.1 m). All coordinates are taken out and rounded at once (the
    Humber's LSOA outlines: 36,000 ring points, 0.25 s one ring at a time). Vertices lying
    exactly on a straight edge (most of a hotspot outline traced along grid cells) are
    dropped before projecting: the same shape, half the points to send.
    """
    if frame.empty:
        return []
    geometries = frame.geometry.to_numpy()
    present = np.flatnonzero(~(shapely.is_missing(geometries) | shapely.is_empty(geometries)))
    parts, row_of_part = shapely.get_parts(geometries[present], return_index=True)
    polygons = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, row_of_part = parts[polygons], present[row_of_part[polygons]]
    rings, part_of_ring = shapely.get_rings(shapely.simplify(parts, 0.0), return_index=True)
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    points = np.round(_to_lonlat(coords, frame.crs), 6).tolist()
    ring_ends = np.cumsum(np.bincount(ring_of_coord, minlength=len(rings))).tolist()
    ring_starts = [0, *ring_ends[:-1]]
    part_rings: list[list] = [[] for _ in range(len(parts))]
    for part, start, end in zip(part_of_ring.tolist(), ring_starts, ring_ends):
        part_rings[part].append(points[start:end])
    values = list(frame[columns].itertuples(index=False, name=None))
    return [{**dict(zip(columns, values[row])), "polygon": polygon_rings}
            for row, polygon_rings in zip(row_of_part.tolist(), part_rings)]


def _escape(value) -> str:
    return html.escape(str(value), quote=True)


def _format_number(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def tooltip_text(title: str, lines: list[str] | tuple[str, ...] = ()) -> str:
    """A tooltip as plain text: the title, then one line per entry.

    The deck shows tooltips with ``innerText`` (see :data:`TOOLTIP`), so nothing in them is
    ever parsed as HTML: names need no escaping and a ``<`` stays a ``<``.

    Parameters
    ----------
    title : str
        First line (a hotspot's number and street, an LSOA's name).
    lines : sequence of str
        Further lines, in order; empty ones are left out.
    """
    return "\n".join([str(title), *(str(line) for line in lines if str(line))])


def lsoa_tooltips(lsoas: pd.DataFrame, *, domain: str, domain_label: str,
                  threshold: int | None = None, rate_label: str = "Rate per 1,000 residents",
                  rate_note: str = "") -> list[str]:
    """Build the plain-text tooltip of each LSOA row (see :func:`tooltip_text`).

    `lsoas` needs ``lsoa21nm``, ``lsoa21cd``, ``imd_decile``, ``<domain>_decile``,
    ``incidents`` and ``rate_per_1000``. With a disclosure `threshold`, smaller counts read
    ``"<threshold>"`` and their rates are withheld. `rate_label` says what the rate is (e.g.
    "Rate per 1,000 residents per year") and `rate_note`, after the figure, its period.
    """
    decile_column = f"{domain.lower()}_decile"
    tips = []
    for row in lsoas.itertuples(index=False):
        lines = [f"IMD 2025 decile: {row.imd_decile} (1 = most deprived)"]
        if domain != "IMD":
            lines.append(f"{domain_label} decile: {getattr(row, decile_column)}")
        if threshold is not None and (pd.isna(row.incidents) or row.incidents < threshold):
            lines.append(f"Incidents: <{threshold}")
            lines.append(f"{rate_label}: withheld (few incidents)")
        else:
            lines.append(f"Incidents: {int(row.incidents):,}")
            note = f" {rate_note}" if rate_note else ""
            lines.append(f"{rate_label}: {_format_number(row.rate_per_1000)}{note}")
        tips.append(tooltip_text(f"{row.lsoa21nm} ({row.lsoa21cd})", lines))
    return tips


def emerging_records(cells: pd.DataFrame, cell_size: float, *, exact: bool = True) -> list[dict]:
    """One PolygonLayer record per cell with an emerging pattern: the square in lon/lat, its
    ArcGIS colour and an escaped tooltip.

    `cells` is :meth:`hotspots.emerging.EmergingHotSpots.cells` (centres in EPSG:27700).
    Without `exact` (aggregate-only roles) the tooltip gives the category only."""
    if cells.empty:
        return []
    half = cell_size / 2
    frame = gpd.GeoDataFrame(
        cells.reset_index(drop=True),
        geometry=shapely.box(cells["x"] - half, cells["y"] - half, cells["x"] + half,
                             cells["y"] + half), crs=BNG)
    records = polygon_records(frame, ["category", "trend_z", "trend_p", "hot_months",
                                      "cold_months", "months"])
    for record in records:
        category = str(record.pop("category"))
        record["fill"] = EMERGING_COLOURS.get(category, [0, 0, 0, 0])
        tz, tp = record.pop("trend_z"), record.pop("trend_p")
        hot, cold, months = (record.pop("hot_months"), record.pop("cold_months"),
                             record.pop("months"))
        record["tooltip"] = tooltip_text(category.capitalize(), [
            f"Significant hot months: {int(hot)} of {int(months)}; cold: {int(cold)}",
            f"Trend of Gi* z (Mann-Kendall): z = {tz:.2f}, p = {tp:.3f}"] if exact else [])
    return records


def emerging_layer(records: list[dict]) -> pdk.Layer:
    """Emerging hot spot cells filled by their category's colour, with tooltips."""
    return pdk.Layer("PolygonLayer", id="emerging", data=records, get_polygon="polygon",
                     get_fill_color="fill", filled=True, stroked=True,
                     get_line_color=[60, 60, 60, 120],
                     line_width_units=pdk.types.String("pixels"), get_line_width=0.5,
                     pickable=True, auto_highlight=True)


def focus_layer(records: list[dict]) -> pdk.Layer:
    """The place found with "find a place": a thick amber outline."""
    return pdk.Layer("PolygonLayer", id="focus", data=records, get_polygon="polygon",
                     filled=False, stroked=True, get_line_color=[*FOCUS_COLOUR, 255],
                     line_width_units=pdk.types.String("pixels"), get_line_width=4,
                     pickable=False)


#: The map's size in CSS pixels that the first view is fitted to: the smallest map the pages
#: draw (a 1366 × 768 window with the sidebar open: 906 × 664; see
#: ``ui.map_view.MAP_HEIGHT_CSS``). A larger window shows the same view with more margin,
#: never less of the area.
FIT_WIDTH_PX = 900
FIT_HEIGHT_PX = 640
#: Width of the title and legend panel on the map's left (``ui.map_view``), kept free of the
#: area when the view is fitted, plus its margin.
OVERLAY_WIDTH_PX = 320
OVERLAY_MARGIN_PX = 10
#: deck.gl's web-mercator world is 512 pixels wide at zoom 0.
_TILE_PX = 512.0


def _mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return world pixels at zoom 0 (x east, y south), as deck.gl's WebMercatorViewport."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x = _TILE_PX * (lon + 180.0) / 360.0
    y = _TILE_PX * (np.pi - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))) / (2 * np.pi)
    return x, y


def _unmercator(x: float, y: float) -> tuple[float, float]:
    lon = x / _TILE_PX * 360.0 - 180.0
    lat = math.degrees(2 * math.atan(math.exp(math.pi - 2 * math.pi * y / _TILE_PX))
                       - math.pi / 2)
    return lon, lat


def fit_view(bounds: tuple[float, float, float, float], *, width_px: float = FIT_WIDTH_PX,
             height_px: float = FIT_HEIGHT_PX, padding_px: float = 20.0,
             left_px: float | None = None) -> pdk.ViewState:
    """Return the view that shows BNG `bounds` whole in a map of `width_px` × `height_px`.

    The corners and edge midpoints of the box are projected to WGS84 and then to deck.gl's
    web-mercator pixels (512 at zoom 0), so the fit is exact for the map deck.gl draws, not
    an approximation by metres per pixel. The map's left `left_px` are kept free (the title
    and legend panel sit there): the area is centred in the rest. In a wider map deck.gl
    keeps the view's centre at the map's centre, so the area stays clear of the panel.

    Parameters
    ----------
    bounds : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)`` in EPSG:27700 metres.
    width_px, height_px : float
        The map's size in CSS pixels.
    padding_px : float, default 20
        Margin kept free on every side, pixels.
    left_px : float, optional
        Pixels kept free on the left instead of `padding_px` (default: the overlay panel's
        :data:`OVERLAY_WIDTH_PX` plus twice its margin).

    Returns
    -------
    pydeck.ViewState
        Centre (longitude, latitude in degrees) and zoom; pitch and bearing 0.
    """
    if len(bounds) != 4:
        raise ValueError(f"'bounds' must be (xmin, ymin, xmax, ymax) in metres; got {bounds!r}")
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    if not (xmax >= xmin and ymax >= ymin):
        raise ValueError(f"'bounds' must have xmax >= xmin and ymax >= ymin; got {bounds!r}")
    left = OVERLAY_WIDTH_PX + 2 * OVERLAY_MARGIN_PX if left_px is None else float(left_px)
    free_w, free_h = width_px - left - padding_px, height_px - 2 * padding_px
    if free_w <= 0 or free_h <= 0:
        raise ValueError(f"The map ({width_px} x {height_px} px) must be larger than its "
                         f"margins ({left} px left, {padding_px} px elsewhere).")
    xs = [xmin, (xmin + xmax) / 2, xmax]
    ys = [ymin, (ymin + ymax) / 2, ymax]
    grid_x, grid_y = np.meshgrid(xs, ys)
    lon, lat = bng_to_lonlat(grid_x.ravel(), grid_y.ravel())
    px, py = _mercator(lon, lat)
    span_x = max(float(px.max() - px.min()), 1e-9)
    span_y = max(float(py.max() - py.min()), 1e-9)
    zoom = math.floor(min(math.log2(min(free_w / span_x, free_h / span_y)), 18.0) * 100) / 100
    scale = 2.0 ** zoom
    # The area's centre goes to the middle of the free part; the view's centre is the map's.
    shift = (left + free_w / 2) - width_px / 2
    centre_x = (px.max() + px.min()) / 2 - shift / scale
    centre_lon, centre_lat = _unmercator(centre_x, (py.max() + py.min()) / 2)
    return pdk.ViewState(longitude=round(centre_lon, 6), latitude=round(centre_lat, 6),
                         zoom=zoom, pitch=0, bearing=0)


def view_for_bounds(bounds: tuple[float, float, float, float], *,
                    width_px: int = 700, height_px: int = 560) -> pdk.ViewState:
    """Centre and zoom a view on BNG `bounds` (xmin, ymin, xmax, ymax) in metres.

    The same exact web-mercator fit as :func:`fit_view`, for a map of the given size.
    """
    return fit_view(bounds, width_px=width_px, height_px=height_px, padding_px=16.0,
                    left_px=16.0)


def project(view: pdk.ViewState, lon, lat, *, width_px: float,
            height_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Screen pixels (from the map's top-left corner) of WGS84 points under `view`.

    What deck.gl's ``WebMercatorViewport.project`` computes for pitch and bearing 0.
    """
    x, y = _mercator(lon, lat)
    cx, cy = _mercator([view.longitude], [view.latitude])
    scale = 2.0 ** view.zoom
    return (width_px / 2 + (x - cx[0]) * scale, height_px / 2 + (y - cy[0]) * scale)


def choropleth_layer(records: list[dict], *, layer_id: str = "choropleth") -> pdk.Layer:
    """LSOAs filled by their ``fill`` colour (deprivation decile, Gi* class), with tooltips."""
    return pdk.Layer("PolygonLayer", id=layer_id, data=records, get_polygon="polygon",
                     get_fill_color="fill", filled=True, stroked=False, opacity=0.55,
                     pickable=True, auto_highlight=True)


def boundary_layer(records: list[dict], *, layer_id: str, colour: list[int], width_px: float,
                   pickable: bool = False) -> pdk.Layer:
    """Outlines only: LSOA or CSP boundaries."""
    return pdk.Layer("PolygonLayer", id=layer_id, data=records, get_polygon="polygon",
                     filled=pickable, get_fill_color=[255, 255, 255, 1], stroked=True,
                     get_line_color=colour, line_width_units=pdk.types.String("pixels"),
                     get_line_width=width_px, pickable=pickable)


def outline_layer(records: list[dict], *, layer_id: str, colour: list[int],
                  pickable: bool = True, width_px: float = 2.5,
                  fill_alpha: int = 40) -> pdk.Layer:
    """Hotspot or cluster outlines: a bold line and a light fill, pickable for tooltips."""
    return pdk.Layer("PolygonLayer", id=layer_id, data=records, get_polygon="polygon",
                     filled=True, get_fill_color=[*colour, fill_alpha], stroked=True,
                     get_line_color=[*colour, 255], line_width_units=pdk.types.String("pixels"),
                     get_line_width=width_px, pickable=pickable, auto_highlight=pickable)


def image_layer(image: DensityImage, *, layer_id: str = "density",
                opacity: float = 0.85) -> pdk.Layer:
    """A raster (density, risk or change) as an image draped on the map."""
    return pdk.Layer("BitmapLayer", id=layer_id, image=pdk.types.String(image.data_url),
                     bounds=image.corners, opacity=opacity, pickable=False)


def density_layer(image: DensityImage) -> pdk.Layer:
    """The density surface as an image draped on the map."""
    return image_layer(image, layer_id="density")


def points_layer(points: pd.DataFrame) -> pdk.Layer:
    """Incident points (lon/lat) with an escaped crime-type/location tooltip."""
    return pdk.Layer("ScatterplotLayer", id="points", data=points, get_position=["lon", "lat"],
                     get_fill_color=[20, 20, 20, 200], get_radius=3, radius_units=pdk.types.String("pixels"),
                     pickable=True)


#: Every layer's tooltip is its record's ``tooltip`` field as plain text (``innerText``):
#: Streamlit escapes values put into an ``html`` template, which showed tags as text, and
#: plain text cannot carry markup at all. ``pre-line`` keeps the lines; the width is capped
#: so a tooltip near the map's edge wraps instead of running off it.
TOOLTIP = {"text": "{tooltip}",
           "style": {"backgroundColor": "white", "color": "#222", "fontSize": "12px",
                     "lineHeight": "1.45", "border": "1px solid #999", "padding": "6px 8px",
                     "whiteSpace": "pre-line", "maxWidth": "300px", "overflowWrap": "anywhere",
                     "zIndex": "1000"}}


def street_label_records(labels: pd.DataFrame) -> list[dict]:
    """The records of :func:`street_label_layer`: ``name``, ``lon``, ``lat`` (6 decimals).

    Parameters
    ----------
    labels : pandas.DataFrame
        ``name``, ``lon``, ``lat`` (WGS84 degrees), as :func:`geodata.streets.street_labels`.
    """
    missing = {"name", "lon", "lat"} - set(labels.columns)
    if missing:
        raise ValueError(f"'labels' needs the columns name, lon, lat; missing {sorted(missing)}")
    names = labels["name"].astype(str).tolist()
    lon = labels["lon"].to_numpy(dtype=float).round(6).tolist()
    lat = labels["lat"].to_numpy(dtype=float).round(6).tolist()
    return [{"name": n, "lon": x, "lat": y} for n, x, y in zip(names, lon, lat)]


def street_label_layer(labels: pd.DataFrame | list[dict]) -> pdk.Layer:
    """Street names at police.uk map points, readable only at street zoom.

    The text size is in metres (18 m) and capped at 13 pixels, so below about zoom 13 the
    labels shrink to nothing instead of covering the map; deck.gl's collision filter then
    drops labels that would overlap.

    Parameters
    ----------
    labels : pandas.DataFrame or list of dict
        ``name``, ``lon``, ``lat`` (WGS84 degrees), as :func:`geodata.streets.street_labels`,
        or those rows as :func:`street_label_records` made them (a page caches those: turning
        10,000 labels into records took 0.2 s on every rerun).
    """
    records = street_label_records(labels) if isinstance(labels, pd.DataFrame) else labels
    return pdk.Layer("TextLayer", id="streets", data=records, get_position=["lon", "lat"],
                     get_text="name", get_size=18, size_units=pdk.types.String("meters"),
                     size_max_pixels=13, size_min_pixels=0, get_color=[35, 35, 35, 230],
                     outline_width=2, outline_color=[255, 255, 255, 220],
                     font_settings={"sdf": True}, get_text_anchor=pdk.types.String("middle"),
                     get_alignment_baseline=pdk.types.String("center"), pickable=False,
                     character_set=pdk.types.String("auto"),
                     extensions=[{"@@type": "CollisionFilterExtension"}])


class SharedRecords(tuple):
    """Layer records made once and shared by every page run (a cached resource: read only,
    which a tuple enforces for the list). :class:`CompactDeck` serialises them once too:
    the street labels' JSON alone took 9 ms of every Humber map run."""

    __slots__ = ()


#: Serialised :class:`SharedRecords`, by identity (the entry holds the records, so the
#: identity cannot be reused while it is kept); the least recently used go first.
_SHARED_JSON: OrderedDict[int, tuple[SharedRecords, str]] = OrderedDict()
_SHARED_JSON_LOCK = threading.Lock()
SHARED_JSON_ENTRIES = 32
#: Marks where shared records go in a deck's JSON (random: no data can contain it).
_SHARED_MARK = f"shared-records-{secrets.token_hex(16)}-"


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, default=default_serialize, separators=(",", ":"))


def _shared_json(records: SharedRecords) -> str:
    with _SHARED_JSON_LOCK:
        hit = _SHARED_JSON.get(id(records))
        if hit is not None and hit[0] is records:
            _SHARED_JSON.move_to_end(id(records))
            return hit[1]
    text = _json(list(records))
    with _SHARED_JSON_LOCK:
        _SHARED_JSON[id(records)] = (records, text)
        while len(_SHARED_JSON) > SHARED_JSON_ENTRIES:
            _SHARED_JSON.popitem(last=False)
    return text


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck indents by two spaces, which puts every
    polygon coordinate on its own line and roughly triples what reaches the browser. Layers
    of :class:`SharedRecords` are serialised once per records, not once per run."""

    def to_json(self) -> str:  # noqa: D102 - see the class docstring
        # pydeck's own to_json indents (Python's slow pure-Python encoder), then we would
        # parse and dump again; serialising once, compactly, gives the same bytes ~8x faster.
        shared = [(layer, layer.data) for layer in self.layers
                  if isinstance(getattr(layer, "data", None), SharedRecords)]
        try:
            for n, (layer, _) in enumerate(shared):
                layer.data = f"{_SHARED_MARK}{n}"
            text = _json(self)
        finally:
            for layer, records in shared:
                layer.data = records
        for n, (_, records) in enumerate(shared):
            text = text.replace(f'"{_SHARED_MARK}{n}"', _shared_json(records), 1)
        return text


def build_deck(layers: list[pdk.Layer], view: pdk.ViewState, *, basemap_style: str,
               view_id: str | None = None) -> pdk.Deck:
    """Assemble the deck; ``basemap_style == "none"`` draws no tiles at all.

    With `view_id` the deck names its map view: Streamlit keeps a drawn map's view when only
    the initial view changes, but starts again from the initial view when the views change,
    so a view refitted to a new map size is named after that size.
    """
    if basemap_style.strip().lower() == "none":
        # map_provider=None *without* a map_style: Streamlit then draws no tiles and makes
        # no network request (any explicit style, even "" or None, gets its online default).
        basemap = {"map_provider": None}
    else:
        basemap = {"map_provider": "carto", "map_style": basemap_style}
    views = {} if view_id is None else \
        {"views": [pdk.View(type="MapView", controller=True, id=view_id)]}
    return CompactDeck(layers=layers, initial_view_state=view, **basemap, **views,
                       tooltip=TOOLTIP)


def _ramp_legend(title: str, image: DensityImage, ramp: np.ndarray) -> str:
    stops = ",".join(f"rgb({int(r)},{int(g)},{int(b)})" for r, g, b in ramp)
    return (f'<div><b>{_escape(title)}</b>: {_format_number(image.vmin)} '
            f'<span style="display:inline-block;width:120px;height:12px;'
            f'background:linear-gradient(to right,{stops})"></span> '
            f'{_format_number(image.vmax)}+</div>')


def _line_legend(colour: list[int], text: str, width: int = 3) -> str:
    r, g, b = colour[:3]
    return (f'<div><span style="display:inline-block;width:16px;height:0;'
            f'border-top:{width}px solid rgb({r},{g},{b})"></span> {text}</div>')


def legend_html(*, layers: list[str], domain_label: str, density: DensityImage | None = None,
                density_title: str = "Incident density (per km² over the period)",
                risk: DensityImage | None = None,
                risk_title: str = "Incidents per 1,000 residents (over the period)",
                threshold_label: str | None = None, predicted_label: str | None = None,
                change_label: str | None = None, rank_label: str = "incident count",
                emerging_label: str | None = None,
                emerging_present: tuple[str, ...] = ()) -> str:
    """A small legend for the layers shown; every text argument is escaped."""
    parts = ['<div style="font-size:12px;line-height:1.6">']
    if "choropleth" in layers:
        swatches = "".join(
            f'<span style="display:inline-block;width:16px;height:12px;'
            f'background:rgb({r},{g},{b})" title="decile {i + 1}"></span>'
            for i, (r, g, b) in enumerate(DECILE_COLOURS))
        parts.append(f"<div><b>{_escape(domain_label)} decile</b>: 1 (most deprived) "
                     f"{swatches} 10 (least deprived)</div>")
    if "density" in layers and density is not None:
        parts.append(_ramp_legend(density_title, density, DENSITY_RAMP))
    if "risk" in layers and risk is not None:
        parts.append(_ramp_legend(risk_title, risk, RISK_RAMP))
    if "hotspots" in layers:
        parts.append(_line_legend(HOTSPOT_COLOUR, "<b>Hotspot outline</b>" + (
            f": {_escape(threshold_label)}" if threshold_label else "")
            + f" (numbered by {_escape(rank_label)})"))
    if "predicted" in layers and predicted_label:
        parts.append(_line_legend(PREDICTED_COLOUR, f"<b>Predicted hotspot cells</b>: "
                                                    f"{_escape(predicted_label)}"))
    if "change" in layers and change_label:
        names = {1: "new", 2: "persistent", 3: "intensifying", 4: "diminishing", 5: "ceased"}
        swatches = " ".join(
            f'<span style="display:inline-block;width:12px;height:12px;'
            f'background:rgba({c[0]},{c[1]},{c[2]},{c[3] / 255:.2f})"></span> {names[k]}'
            for k, c in CHANGE_COLOURS.items())
        parts.append(f"<div><b>Change</b> ({_escape(change_label)}): {swatches}</div>")
    if "emerging" in layers and emerging_label:
        shown = [name for name in EMERGING_COLOURS if name in emerging_present]
        swatches = " ".join(
            f'<span style="display:inline-block;width:12px;height:12px;'
            f'background:rgba({c[0]},{c[1]},{c[2]},{c[3] / 255:.2f})"></span> {_escape(name)}'
            for name, c in EMERGING_COLOURS.items() if name in shown) or "no cell with a pattern"
        parts.append(f"<div><b>Emerging hot spots</b> ({_escape(emerging_label)}): "
                     f"{swatches}</div>")
    if "gi_star" in layers:
        swatches = " ".join(
            f'<span style="display:inline-block;width:12px;height:12px;'
            f'background:rgba({c[0]},{c[1]},{c[2]},{c[3] / 255:.2f})"></span> {name}'
            for name, c in GI_COLOURS.items())
        parts.append(f"<div><b>Gi* (LSOAs, 9,999 permutations, FDR)</b>: {swatches}</div>")
    if "clusters" in layers:
        parts.append(_line_legend(CLUSTER_COLOUR, f"<b>DBSCAN cluster</b> (numbered by "
                                                  f"{_escape(rank_label)})"))
    parts.append(_line_legend(LAD_COLOUR, "CSP boundary", width=2))
    parts.append("</div>")
    return "".join(parts)
