"""Static maps in British National Grid (EPSG:27700 metres) drawn with matplotlib.

The server-side counterpart of the dashboard's pydeck map, for print: LSOA boundaries, the
CSP outline, the kernel density surface (``imshow`` with its extent in metres, clipped to the
area), hotspot outlines with their numbers, a scale bar and a north arrow. Axes units are
metres, with equal aspect, so distances on the page are true to scale.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from hotspots.kde import DensitySurface

__all__ = ["add_north_arrow", "add_scale_bar", "draw_boundaries", "draw_density",
           "fit_extent", "geometry_path", "label_polygons", "map_png"]

#: Yellow (low) to dark red (high), as the dashboard's density layer.
DENSITY_CMAP = "YlOrRd"
#: Cells below this fraction of the colour-scale maximum are transparent (as the dashboard).
MIN_FRACTION = 0.02


def _polygons(geom) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, shapely.Polygon):
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for part in geom.geoms for p in _polygons(part)]
    return []


def _rings(geom) -> list[np.ndarray]:
    rings = []
    for polygon in _polygons(geom):
        rings.append(np.asarray(polygon.exterior.coords)[:, :2])
        rings.extend(np.asarray(r.coords)[:, :2] for r in polygon.interiors)
    return rings


def geometry_path(geom) -> Path:
    """A matplotlib :class:`~matplotlib.path.Path` of a (multi)polygon, holes included.

    Parameters
    ----------
    geom : shapely geometry
        Polygon, MultiPolygon or GeometryCollection (EPSG:27700); other parts are ignored.
    """
    rings = _rings(geom)
    if not rings:
        return Path(np.zeros((1, 2)))
    vertices, codes = [], []
    for ring in rings:
        vertices.append(ring)
        kinds = np.full(len(ring), Path.LINETO, dtype=Path.code_type)
        kinds[0] = Path.MOVETO
        kinds[-1] = Path.CLOSEPOLY
        codes.append(kinds)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def draw_boundaries(ax: Axes, geoms: Iterable, *, color: str = "0.6", linewidth: float = 0.3,
                    zorder: float = 2, **kwargs) -> LineCollection:
    """Draw the rings of polygons as lines (one collection, fast for hundreds of LSOAs)."""
    segments = [ring for geom in geoms for ring in _rings(geom)]
    lines = LineCollection(segments, colors=color, linewidths=linewidth, zorder=zorder,
                           **kwargs)
    ax.add_collection(lines, autolim=False)
    return lines


def draw_density(ax: Axes, surface: DensitySurface, *, clip=None, vmax: float | None = None,
                 alpha: float = 0.85, zorder: float = 1) -> AxesImage | None:
    """Draw a density surface as an image with its true extent in metres.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Map axes in EPSG:27700 metres.
    surface : DensitySurface
        Row 0 is the south row (``origin="lower"``).
    clip : shapely geometry, optional
        Draw only inside this area (EPSG:27700).
    vmax : float, optional
        Top of the colour scale (default the surface maximum); cells below
        :data:`MIN_FRACTION` of it are transparent.

    Returns
    -------
    AxesImage or None
        None when the surface is zero everywhere.
    """
    density = np.asarray(surface.density, dtype=float)
    top = float(vmax if vmax is not None else np.nanmax(density, initial=0.0))
    if not top > 0:
        return None
    shown = np.ma.masked_less(density, MIN_FRACTION * top)
    g = surface.grid
    image = ax.imshow(shown, origin="lower", extent=(g.x0, g.x1, g.y0, g.y1), cmap=DENSITY_CMAP,
                      vmin=0.0, vmax=top, alpha=alpha, interpolation="nearest", zorder=zorder,
                      resample=False)
    if clip is not None and not clip.is_empty:
        patch = PathPatch(geometry_path(clip), transform=ax.transData, facecolor="none",
                          edgecolor="none")
        image.set_clip_path(patch)
    return image


def fit_extent(ax: Axes, bounds, *, pad: float = 0.04, min_size: float = 0.0) -> None:
    """Set equal-aspect limits showing `bounds` (metres), expanded to fill the axes box.

    Parameters
    ----------
    bounds : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``, EPSG:27700 metres.
    pad : float, default 0.04
        Margin as a fraction of the larger side.
    min_size : float, default 0
        Smallest width and height shown, metres (for a zoom on a small hotspot).
    """
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    width = max(xmax - xmin, min_size, 1.0)
    height = max(ymax - ymin, min_size, 1.0)
    margin = pad * max(width, height)
    width, height = width + 2 * margin, height + 2 * margin
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    ratio = (box.width * fig_w) / (box.height * fig_h)       # width / height of the box
    if width / height < ratio:
        width = height * ratio
    else:
        height = width / ratio
    ax.set_xlim(cx - width / 2, cx + width / 2)
    ax.set_ylim(cy - height / 2, cy + height / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("0.4")


def _nice_length(span: float) -> float:
    """A round length (1, 2 or 5 × 10^k metres) near a fifth of `span`."""
    target = span / 5
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def add_scale_bar(ax: Axes, *, location: tuple[float, float] = (0.04, 0.04)) -> float:
    """Draw a two-segment scale bar at `location` (axes fraction); returns its length (m)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx = x0 + location[0] * (x1 - x0)
    by = y0 + location[1] * (y1 - y0)
    h = 0.012 * (y1 - y0)
    ax.add_patch(Rectangle((bx - 0.01 * (x1 - x0), by - 0.5 * h), length + 0.02 * (x1 - x0),
                           4.2 * h, facecolor="white", edgecolor="none", alpha=0.8, zorder=8))
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((bx + i * length / 2, by), length / 2, h, facecolor=colour,
                               edgecolor="black", linewidth=0.6, zorder=9))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx, by + 1.6 * h, "0", fontsize=6.5, ha="center", va="bottom", zorder=10)
    ax.text(bx + length, by + 1.6 * h, label, fontsize=6.5, ha="center", va="bottom",
            zorder=10)
    return length


def add_north_arrow(ax: Axes, *, location: tuple[float, float] = (0.95, 0.88)) -> None:
    """Draw an arrow pointing to grid north with an "N" (axes fraction `location`)."""
    x, y = location
    ax.annotate("", xy=(x, y + 0.07), xytext=(x, y), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2,
                            "mutation_scale": 12}, zorder=10)
    ax.text(x, y + 0.075, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=9, fontweight="bold", zorder=10,
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])


def label_polygons(ax: Axes, geoms: Iterable, labels: Iterable[str], *, color: str = "#b2182b",
                   size: float = 8.0) -> None:
    """Write a label at a point inside each polygon, with a white halo for legibility."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for geom, label in zip(geoms, labels):
        if geom is None or geom.is_empty:
            continue
        point = geom.representative_point()
        if not (x0 <= point.x <= x1 and y0 <= point.y <= y1):
            continue
        ax.text(point.x, point.y, str(label), fontsize=size, fontweight="bold", color=color,
                ha="center", va="center", zorder=11, clip_on=True,
                path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")])


#: Colours of the dashboard's layers (``ui.deck``), as matplotlib colours.
HOTSPOT_COLOUR = "#d7191c"
CLUSTER_COLOUR = "#0072b2"
PREDICTED_COLOUR = "#5e3c99"
AREA_COLOUR = "#282828"


def _outline(ax: Axes, geoms, *, color: str, linewidth: float, fill_alpha: float,
             zorder: float) -> None:
    for geom in geoms:
        path = geometry_path(geom)
        ax.add_patch(PathPatch(path, facecolor=color, alpha=fill_alpha, edgecolor="none",
                               zorder=zorder))
    draw_boundaries(ax, geoms, color=color, linewidth=linewidth, zorder=zorder + 0.5)


def map_png(*, title: str, subtitle: str, area, bounds=None, lsoas=(),
            surface: DensitySurface | None = None, density_label: str = "",
            hotspots=None, hotspot_label: str = "Hotspot outline", clusters=None,
            cluster_label: str = "DBSCAN cluster", predicted=None,
            predicted_label: str = "Predicted hotspot cells", attribution: str = "",
            width_in: float = 13.33, height_in: float = 7.5, dpi: int = 150) -> bytes:
    """The dashboard's map as a PNG, drawn on the server (for "Download this map as PNG").

    Only what is passed is drawn, so the caller decides what a role may see: for partner
    and public roles pass the disclosure-protected surface and outlines, never points.

    Parameters
    ----------
    title, subtitle : str
        Printed above the map (area and crime group; period and unit).
    area : shapely geometry
        The area's outline, EPSG:27700; also the clip of the surface.
    bounds : tuple of 4 floats, optional
        ``(xmin, ymin, xmax, ymax)`` in metres to show (default the area's bounds).
    lsoas : iterable of shapely geometries
        LSOA outlines drawn in light grey.
    surface : DensitySurface, optional
        Density (or protected density) drawn with a colour bar labelled `density_label`.
    hotspots, clusters, predicted : geopandas.GeoDataFrame, optional
        Outlines (EPSG:27700). Hotspots and clusters are numbered by their ``hotspot_id`` /
        ``cluster_id`` column when present.
    width_in, height_in : float
        Figure size in inches; `dpi` dots per inch.

    Returns
    -------
    bytes
        The PNG file.
    """
    import io

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if area is None or area.is_empty:
        raise ValueError("'area' must be a non-empty polygon in EPSG:27700; got "
                         f"{type(area).__name__}")
    if not (width_in > 0 and height_in > 0 and dpi > 0):
        raise ValueError(f"The figure size and dpi must be positive; got {width_in} x "
                         f"{height_in} in at {dpi} dpi")
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    fig.text(0.02, 0.965, title, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.915, subtitle, fontsize=9.5, va="top", color="0.25")
    ax = fig.add_axes((0.02, 0.1, 0.70, 0.78))
    fit_extent(ax, bounds if bounds is not None else area.bounds, pad=0.02)
    draw_boundaries(ax, list(lsoas), color="0.7", linewidth=0.25, zorder=2)
    handles = []
    image = None
    if surface is not None:
        image = draw_density(ax, surface, clip=area)
    draw_boundaries(ax, [area], color=AREA_COLOUR, linewidth=1.2, zorder=4)
    handles.append(Line2D([], [], color=AREA_COLOUR, linewidth=1.2, label="Area boundary"))
    if predicted is not None and len(predicted):
        _outline(ax, list(predicted.geometry), color=PREDICTED_COLOUR, linewidth=0.5,
                 fill_alpha=0.12, zorder=5)
        handles.append(Line2D([], [], color=PREDICTED_COLOUR, linewidth=1.0,
                              label=predicted_label))
    for frame, colour, label, id_name, z in (
            (clusters, CLUSTER_COLOUR, cluster_label, "cluster_id", 6),
            (hotspots, HOTSPOT_COLOUR, hotspot_label, "hotspot_id", 7)):
        if frame is None or not len(frame):
            continue
        _outline(ax, list(frame.geometry), color=colour, linewidth=1.0, fill_alpha=0.12,
                 zorder=z)
        handles.append(Line2D([], [], color=colour, linewidth=1.4, label=label))
        if id_name in frame.columns:
            label_polygons(ax, frame.geometry, frame[id_name].astype(int).astype(str),
                           color=colour, size=7.5)
    add_scale_bar(ax)
    add_north_arrow(ax)
    legend_ax = fig.add_axes((0.74, 0.35, 0.24, 0.53))
    legend_ax.axis("off")
    legend_ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    if image is not None:
        bar = fig.colorbar(image, cax=fig.add_axes((0.75, 0.28, 0.2, 0.025)),
                           orientation="horizontal")
        bar.set_label(density_label, fontsize=7.5)
        bar.ax.tick_params(labelsize=7)
    if attribution:
        fig.text(0.02, 0.02, attribution, fontsize=5.5, color="0.35", wrap=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
