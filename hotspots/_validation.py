"""Boundary validation helpers shared by the ``hotspots`` modules.

Every public function of the package validates its arguments with these
helpers so that error messages have one shape, for example::

    The 'eps' parameter of dbscan_incidents must be a float in the range
    (0, inf). Got -1 instead.
    The 'populations' parameter of area_rates must have columns lsoa21cd,
    population. Missing population.

``ValueError`` is raised for bad values and ``TypeError`` for wrong types.
Scalars: :func:`check_float`, :func:`check_int`, :func:`check_option`; arrays:
:func:`as_float_array`, :func:`as_coordinates`, :func:`as_weights`,
:func:`as_id_array`, :func:`check_bounds`; tables: :func:`check_frame`,
:func:`check_geoframe`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd


def _fmt(value: Any) -> str:
    """Short representation of an offending value for an error message."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        return str(int(f)) if f.is_integer() and math.isfinite(f) else repr(f)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"an object of type {type(value).__name__}"


def _range_text(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"

    def num(v: float) -> str:
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    return f"{left}{num(low)}, {num(high)}{right}"


def _in_range(v: float, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    if math.isnan(v):
        return False
    ok_low = v > low if low_open else v >= low
    ok_high = v < high if high_open else v <= high
    return ok_low and ok_high


def _check_number(value: Any, name: str, func: str, kind: type, noun: str, low: float,
                  high: float, low_open: bool, high_open: bool):
    """`value` converted by `kind` if it is a `kind` number (not a bool) in the range."""
    rng = _range_text(low, high, low_open, high_open)
    msg = (
        f"The {name!r} parameter of {func} must be {noun} in the range {rng}. "
        f"Got {_fmt(value)} instead."
    )
    abstract = numbers.Real if kind is float else numbers.Integral
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, abstract):
        raise TypeError(msg)
    v = kind(value)
    if not _in_range(float(v), low, high, low_open, high_open):
        raise ValueError(msg)
    return v


def check_float(value: Any, name: str, func: str, *, low: float = -math.inf,
                high: float = math.inf, low_open: bool = True, high_open: bool = True) -> float:
    """Validate a real scalar in a range and return it as ``float``."""
    return _check_number(value, name, func, float, "a float", low, high, low_open, high_open)


def check_int(value: Any, name: str, func: str, *, low: float = -math.inf,
              high: float = math.inf, low_open: bool = False, high_open: bool = True) -> int:
    """Validate an integer scalar in a range and return it as ``int``."""
    return _check_number(value, name, func, int, "an int", low, high, low_open, high_open)


def check_frame(frame: Any, name: str, func: str, columns: Iterable[str] = ()) -> pd.DataFrame:
    """Validate a pandas DataFrame argument holding `columns`, and return it.

    Raises ``TypeError`` ("must be a pandas DataFrame. Got an object of type ... instead.")
    for anything else and ``ValueError`` ("must have columns a, b. Missing b.") naming every
    missing column at once.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"The {name!r} parameter of {func} must be a pandas DataFrame. "
                        f"Got an object of type {type(frame).__name__} instead.")
    columns = [str(c) for c in columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"The {name!r} parameter of {func} must have columns "
                         f"{', '.join(columns)}. Missing {', '.join(missing)}.")
    return frame


def check_geoframe(frame: Any, name: str, func: str, *, column: Any = None,
                   column_param: str = "column"):
    """Validate a GeoDataFrame argument, and that `column` (if given) names one of its columns.

    Raises ``TypeError`` ("must be a GeoDataFrame. Got an object of type ... instead.") for
    anything else and ``ValueError`` ("The '<column_param>' parameter of ... must name a column
    of <name>. Got ... instead.") for a missing `column`; returns `frame`.
    """
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"The {name!r} parameter of {func} must be a GeoDataFrame. "
                        f"Got an object of type {type(frame).__name__} instead.")
    if column is not None and column not in frame.columns:
        raise ValueError(f"The {column_param!r} parameter of {func} must name a column of "
                         f"{name}. Got {column!r} instead.")
    return frame


def check_option(value: Any, name: str, func: str, options: Iterable[str]) -> str:
    """Validate that ``value`` is one of the string ``options``."""
    options = tuple(options)
    text = ", ".join(repr(o) for o in options)
    msg = (
        f"The {name!r} parameter of {func} must be a str among {{{text}}}. "
        f"Got {_fmt(value)} instead."
    )
    if not isinstance(value, str):
        raise TypeError(msg)
    if value not in options:
        raise ValueError(msg)
    return value


def as_float_array(values: Any, name: str, func: str, *, finite: bool = True) -> np.ndarray:
    """Convert a 1-D numeric array-like to a float64 array without modifying it.

    Raises ``TypeError`` for non-numeric input and ``ValueError`` for a wrong
    number of dimensions or (when ``finite``) NaN / infinite entries.
    """
    type_msg = (
        f"The {name!r} parameter of {func} must be a 1-D array-like of numbers. "
        f"Got {{}} instead."
    )
    if values is None or isinstance(values, (str, bytes, dict, pd.DataFrame)):
        raise TypeError(type_msg.format(_fmt(values)))
    if isinstance(values, (pd.Series, pd.Index)):
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise TypeError(type_msg.format(f"a pandas object of dtype {dtype}"))
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError) as exc:  # ragged nested sequences
            raise TypeError(type_msg.format(_fmt(values))) from exc
        if arr.dtype.kind not in "iuf":
            raise TypeError(type_msg.format(f"an array of dtype {arr.dtype}"))
        arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 1:
        raise ValueError(
            f"The {name!r} parameter of {func} must be a 1-D array-like of numbers. "
            f"Got an array of shape {arr.shape} instead."
        )
    if finite:
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise ValueError(
                f"The {name!r} parameter of {func} must contain only finite numbers "
                f"(no NaN or inf). Got {bad} non-finite value(s) instead."
            )
    return arr


def as_coordinates(x: Any, y: Any, func: str, *,
                   names: tuple[str, str] = ("x", "y")) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of coordinate arrays (EPSG:27700 metres) named `names`."""
    xa = as_float_array(x, names[0], func)
    ya = as_float_array(y, names[1], func)
    if xa.shape != ya.shape:
        raise ValueError(
            f"The {names[0]!r} and {names[1]!r} parameters of {func} must have the same "
            f"length. Got {xa.size} and {ya.size} instead."
        )
    return xa, ya


def as_weights(weights: Any, n: int, func: str) -> np.ndarray:
    """Validate optional non-negative finite weights of length ``n``."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_float_array(weights, "weights", func)
    if w.size != n:
        raise ValueError(
            f"The 'weights' parameter of {func} must have one value per point ({n}). "
            f"Got {w.size} instead."
        )
    if np.any(w < 0):
        raise ValueError(
            f"The 'weights' parameter of {func} must contain only non-negative numbers. "
            f"Got {int(np.count_nonzero(w < 0))} negative value(s) instead."
        )
    return w


def check_bounds(bounds: Any, name: str, func: str) -> tuple[float, float, float, float]:
    """Validate ``(xmin, ymin, xmax, ymax)`` with finite values and min <= max."""
    msg = (
        f"The {name!r} parameter of {func} must be a tuple (xmin, ymin, xmax, ymax) of "
        f"finite floats with xmin <= xmax and ymin <= ymax. Got {{}} instead."
    )
    if isinstance(bounds, (str, bytes)):
        raise TypeError(msg.format(_fmt(bounds)))
    try:
        items = list(bounds)
    except TypeError as exc:
        raise TypeError(msg.format(_fmt(bounds))) from exc
    if len(items) != 4 or any(
        isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) for v in items
    ):
        raise TypeError(msg.format(repr(tuple(items)) if len(items) <= 8 else _fmt(bounds)))
    xmin, ymin, xmax, ymax = (float(v) for v in items)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmin > xmax or ymin > ymax:
        raise ValueError(msg.format(repr((xmin, ymin, xmax, ymax))))
    return xmin, ymin, xmax, ymax


def as_id_array(values, n: int, *, msg: str) -> np.ndarray:
    """Per-incident ids (array or numeric Series, one per incident) as float64.

    `msg` starts every error message (it names the parameter and what is expected); NaN is
    kept for the caller to interpret.
    """
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise TypeError(f"{msg} Got a pandas Series of dtype {dtype} instead.")
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{msg} Got an array of dtype {arr.dtype} instead.")
        arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{msg} Got shape {arr.shape} instead.")
    return arr
