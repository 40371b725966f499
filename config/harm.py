"""Harm weights per police.uk crime type (``config/harm_weights.toml``), validated at load.

The weights approximate the ONS Crime Severity Score per police.uk category; the TOML file
states the source and the caveats. Use :func:`load_harm_weights` (cached as
:func:`get_harm_weights`) and :func:`hotspots.harm.harm_weights` to turn a crime-type column
into per-incident weights.
"""

from __future__ import annotations

import difflib
import functools
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from config.loader import CONFIG_DIR, ConfigError

__all__ = ["HARM_LABEL", "HARM_UNIT", "HARM_WEIGHTS_FILE", "HarmWeights", "get_harm_weights",
           "load_harm_weights"]

HARM_WEIGHTS_FILE = CONFIG_DIR / "harm_weights.toml"
#: What a harm figure is, everywhere it is shown: the ONS Crime Severity Score weight of an
#: offence is the average sentence for it in days of custody equivalent.
HARM_LABEL = "Harm (days of custody)"
#: The same in running text ("harm (days of custody) per km²").
HARM_UNIT = "harm (days of custody)"


@dataclass(frozen=True)
class HarmWeights:
    """Harm weight (CSS points per record) of every police.uk crime type.

    Parameters
    ----------
    weights : Mapping[str, float]
        Read-only mapping crime type -> weight (>= 0).
    source : str
        Where the weights come from.
    path : pathlib.Path
        The file they were read from.
    """

    weights: Mapping[str, float]
    source: str
    path: Path

    def __getitem__(self, crime_type: str) -> float:
        """Weight of one crime type (``KeyError`` naming the file when unknown)."""
        try:
            return self.weights[crime_type]
        except KeyError:
            raise KeyError(f"No harm weight for crime type {crime_type!r} in {self.path}.") from None


def _all_crime_types() -> tuple[str, ...]:
    from config.loader import get_config

    config = get_config()
    for group in config.crime_groups:
        if group.name == "All crime":
            return group.types
    return tuple(sorted({t for g in config.crime_groups for t in g.types}))


def load_harm_weights(path: str | Path = HARM_WEIGHTS_FILE, *,
                      crime_types: Iterable[str] | None = None) -> HarmWeights:
    """Read and validate the harm weights.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file (default ``config/harm_weights.toml``).
    crime_types : iterable of str, optional
        Every crime type that must have a weight; default the "All crime" group of
        ``config/crime_groups.toml``.

    Returns
    -------
    HarmWeights

    Raises
    ------
    ConfigError
        If the file is missing or malformed, a key is not a known crime type (with a "did you
        mean" hint), a crime type lacks a weight, or a weight is not a non-negative number.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"Harm weights file {path} not found.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None
    known = tuple(crime_types) if crime_types is not None else _all_crime_types()
    unknown_top = sorted(set(data) - {"source", "weights"})
    if unknown_top:
        raise ConfigError(f"Unknown key(s) {unknown_top} in {path}; expected 'source' and "
                          "'[weights]'.")
    table = data.get("weights")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path} must have a non-empty [weights] table of crime type = weight.")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise ConfigError(f"'source' in {path} must be a string, got {source!r}.")
    weights: dict[str, float] = {}
    for key, value in table.items():
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"Unknown crime type {key!r} in [weights] of {path}{extra}; "
                              f"known types: {', '.join(known)}.")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise ConfigError(f"The weight of {key!r} in [weights] of {path} must be a "
                              f"non-negative number, got {value!r}.")
        weights[key] = float(value)
    missing = [t for t in known if t not in weights]
    if missing:
        raise ConfigError(f"{path} has no weight for crime type(s) {missing} under [weights]; "
                          "every type of the 'All crime' group needs one.")
    return HarmWeights(weights=MappingProxyType(weights), source=source, path=path)


@functools.lru_cache(maxsize=1)
def get_harm_weights() -> HarmWeights:
    """The shipped harm weights, loaded and validated once."""
    return load_harm_weights()
