"""CSV files that cannot be turned into spreadsheet formulas ("CSV injection").

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
some programs, a tab or carriage return) as a formula: a police.uk location such as
``=HYPERLINK("http://x","y")`` or a zip member name would become a live link or command on a
colleague's machine. Following the OWASP guidance, every text cell and column name that
starts with one of those characters is written with a single quote ``'`` in front, which a
spreadsheet shows as text. Numbers are left as they are (``-3.5`` stays a number).

Every CSV the product writes goes through :func:`write_csv` or :func:`frame_to_csv_bytes`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (ASCII, control
#: characters that some programs skip before looking, and the full-width forms that some
#: programs normalise to ASCII).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n",
                                     "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: What goes in front of a neutralised cell.
PREFIX = "'"


def neutralise_cell(value: object) -> object:
    """Make one cell safe to open in a spreadsheet.

    Parameters
    ----------
    value : object
        A cell value of any type.

    Returns
    -------
    object
        For a ``str`` starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return, a
        line feed or a full-width ``＝ ＋ － ＠``: the text with ``'`` in front. Any other value
        (numbers, missing values, other text) is returned unchanged.

    Examples
    --------
    >>> neutralise_cell("=1+2")
    "'=1+2"
    >>> neutralise_cell(-3.5)
    -3.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return PREFIX + value
    return value


def _neutralise_labels(labels: pd.Index) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(
            [tuple(neutralise_cell(part) for part in label) for label in labels],
            names=[neutralise_cell(name) for name in labels.names])
    return pd.Index([neutralise_cell(label) for label in labels],
                    name=neutralise_cell(labels.name))


def _is_text(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype) or (
        not isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_object_dtype(dtype))


def _neutralise_series(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    elif not _is_text(values.dtype):
        return values
    if isinstance(values.dtype, pd.StringDtype):
        risky = values.str.startswith(FORMULA_TRIGGERS).fillna(False).to_numpy(dtype=bool)
        if not risky.any():
            return values
        return values.where(~risky, PREFIX + values)
    return values.map(neutralise_cell)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are safe in a spreadsheet.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table.

    Returns
    -------
    pandas.DataFrame
        A copy in which every text cell (object, string or categorical columns) and every
        column name (and index label) goes through :func:`neutralise_cell`. Numeric,
        boolean and date columns are returned untouched, so ``-3.5`` stays a number.

    Raises
    ------
    TypeError
        If `frame` is not a pandas DataFrame.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"neutralise_frame expects a pandas DataFrame; got "
                        f"{type(frame).__name__}.")
    result = frame.copy()
    for position in range(frame.shape[1]):
        result.isetitem(position, _neutralise_series(frame.iloc[:, position]))
    result.columns = _neutralise_labels(frame.columns)
    if _is_text(frame.index.dtype) or isinstance(frame.index, pd.MultiIndex):
        result.index = _neutralise_labels(frame.index)
    return result


def frame_to_csv_bytes(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    """The neutralised `frame` as UTF-8 CSV bytes (for a download button).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.
    index : bool, default False
        Whether to write the index as the first column.

    Returns
    -------
    bytes
        UTF-8 encoded CSV of :func:`neutralise_frame` of `frame`.
    """
    if not isinstance(index, bool):
        raise TypeError(f"index must be True or False; got {index!r}.")
    return neutralise_frame(frame).to_csv(index=index).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write the neutralised `frame` to `path` as UTF-8 CSV.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.
    path : str or Path
        The file to write (its folder is created if missing; an existing file is replaced).
    index : bool, default False
        Whether to write the index as the first column.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(path, (str, Path)) or not str(path):
        raise TypeError(f"path must be a file path (str or Path); got {path!r}.")
    if not isinstance(index, bool):
        raise TypeError(f"index must be True or False; got {index!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(frame).to_csv(path, index=index, encoding="utf-8")
    return path
