"""Page building blocks for A4 PDF reports drawn with matplotlib (no pyplot, no markup).

Every string goes through matplotlib's plain-text path: :data:`PLAIN_TEXT_RC` turns mathtext
and TeX off (``text.parse_math = False``, ``text.usetex = False``), so a street called
``"$x$ Road"`` is printed as those characters and never interpreted. Fonts are embedded as
TrueType (``pdf.fonttype = 42``) so the text of the PDF can be searched and extracted.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["A4_PORTRAIT", "PLAIN_TEXT_RC", "draw_table", "fmt_float", "fmt_int",
           "new_page", "plain", "truncate", "wrap"]

#: A4 portrait in inches (210 x 297 mm).
A4_PORTRAIT: tuple[float, float] = (210 / 25.4, 297 / 25.4)

#: rcParams every report is drawn under: plain text only, searchable fonts.
PLAIN_TEXT_RC: dict[str, object] = {
    "text.parse_math": False,
    "text.usetex": False,
    "pdf.fonttype": 42,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
}

#: Colours shared by the report's pages.
INK = "#1a1a1a"
MUTED = "#555555"
RULE = "#bbbbbb"
ACCENT = "#b2182b"


def plain(value) -> str:
    """Text of a value for the page: ``str`` of it, with control characters replaced.

    Missing values (None, NaN, ``pd.NA``) become an en dash.
    """
    if value is None:
        return "–"
    try:
        if value != value:  # NaN
            return "–"
    except (TypeError, ValueError):  # pd.NA comparisons raise in boolean context
        return "–"
    text = str(value)
    return "".join(ch if ch.isprintable() else " " for ch in text)


def truncate(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters, ending with an ellipsis when cut."""
    text = plain(text)
    return text if len(text) <= max_chars else text[:max(1, max_chars - 1)].rstrip() + "…"


def wrap(text: str, width: int) -> str:
    """Wrap plain text to lines of at most `width` characters (paragraphs kept)."""
    return "\n".join(textwrap.fill(part, width=width) if part else ""
                     for part in plain(text).split("\n"))


def fmt_int(value) -> str:
    """An integer with thousands separators: ``4048`` -> ``"4,048"``."""
    return f"{int(value):,}"


def fmt_float(value, digits: int = 1) -> str:
    """A number with thousands separators and `digits` decimals; an en dash when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def new_page() -> Figure:
    """A blank A4 portrait figure (not attached to pyplot, so nothing leaks between runs)."""
    return Figure(figsize=A4_PORTRAIT)


def draw_table(ax: Axes, header: Sequence[str], rows: Sequence[Sequence[object]], *,
               widths: Sequence[float], align: Sequence[str] | None = None,
               title: str | None = None, font_size: float = 7.5,
               row_height: float | None = None, empty: str = "None.") -> None:
    """Draw a simple ruled table of plain text in an axes (whose frame is hidden).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw; coordinates are axes fractions, the table starts at the top.
    header : sequence of str
        Column headings.
    rows : sequence of sequences
        Cell values; each is printed with :func:`plain` and cut to fit its column.
    widths : sequence of float
        Column widths as fractions of the axes width (summing to at most 1).
    align : sequence of {"left", "right"}, optional
        Horizontal alignment per column (default left).
    title : str, optional
        Drawn above the table.
    font_size : float, default 7.5
        Points.
    row_height : float, optional
        Fraction of the axes height per row; default fits the rows in the axes (at most 0.09).
    empty : str, default "None."
        Printed under the header when there are no rows.
    """
    if len(widths) != len(header):
        raise ValueError(f"The 'widths' parameter of draw_table must have one width per column "
                         f"({len(header)}). Got {len(widths)} instead.")
    align = list(align) if align is not None else ["left"] * len(header)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    n = max(1, len(rows)) + 1
    height = row_height if row_height is not None else min(0.09, 1.0 / n)
    # Average DejaVu Sans glyph is about 0.55 em wide.
    box_inches = ax.get_position().width * ax.figure.get_figwidth()
    chars_per_unit = box_inches * 72 / (font_size * 0.56)
    lefts = [sum(widths[:i]) for i in range(len(widths))]
    y = 1.0
    if title:
        ax.text(0, y, plain(title), fontsize=font_size + 1.5, fontweight="bold", va="top",
                color=INK)
        y -= height * 1.25

    def _row(values, weight: str, colour: str) -> None:
        for value, left, width, how in zip(values, lefts, widths, align):
            text = truncate(value, max(3, int(width * chars_per_unit) - 1))
            x = left + width - 0.01 if how == "right" else left
            ax.text(x, y - height / 2, text, fontsize=font_size, fontweight=weight,
                    ha="right" if how == "right" else "left", va="center", color=colour)

    _row(header, "bold", INK)
    ax.plot([0, sum(widths)], [y - height, y - height], color=RULE, linewidth=0.6)
    y -= height
    if not rows:
        ax.text(0, y - height / 2, plain(empty), fontsize=font_size, va="center", color=MUTED)
    for values in rows:
        _row(values, "normal", INK)
        y -= height
