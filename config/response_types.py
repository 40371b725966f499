"""The configurable list of response types (``config/response_types.toml``), validated at load."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from config.loader import CONFIG_DIR, ConfigError

__all__ = ["RESPONSE_TYPES_FILE", "get_response_types", "load_response_types"]

RESPONSE_TYPES_FILE = CONFIG_DIR / "response_types.toml"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def load_response_types(path: str | Path = RESPONSE_TYPES_FILE) -> Mapping[str, str]:
    """Read the response types: key -> label, in the file's order.

    Parameters
    ----------
    path : str or Path, default ``config/response_types.toml``
        A TOML file with one ``[[type]]`` table per type, each with ``key`` (lower-case
        letters, digits and ``_``, starting with a letter, at most 40 characters) and
        ``label`` (non-empty text).

    Returns
    -------
    Mapping[str, str]
        Read-only mapping key -> label.

    Raises
    ------
    ConfigError
        If the file is missing or unreadable, holds no type, a key is malformed or repeated,
        or a label is empty; the message names the file and the entry.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the response types ({error}).") from None
    entries = data.get("type")
    if not isinstance(entries, list) or not entries:
        got = type(entries).__name__ if entries is not None else "none"
        raise ConfigError(f"{path}: expected at least one [[type]] table with 'key' and "
                          f"'label'; got {got}.")
    types: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        key = entry.get("key") if isinstance(entry, dict) else None
        label = entry.get("label") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError(f"{path}: type {number}: expected a 'key' of lower-case letters, "
                              f"digits and '_' (starting with a letter, <= 40 characters); got "
                              f"{key!r}.")
        if key in types:
            raise ConfigError(f"{path}: type {number}: the key {key!r} is repeated.")
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"{path}: type {key!r}: expected a non-empty 'label'; got "
                              f"{label!r}.")
        types[key] = label.strip()
    return MappingProxyType(types)


@functools.cache
def get_response_types() -> Mapping[str, str]:
    """:func:`load_response_types` of the shipped file, read once per process."""
    return load_response_types()
