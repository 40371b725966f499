"""Incident sources: how the columns of a force or partner extract map onto incidents.

Each source is one TOML file in ``config/sources/`` (``police_uk.toml`` ships with the
project), so a new partner extract needs a file, not code::

    name = "hospital_ae"
    unique_ids = true            # reject a repeated id as a duplicate
    replaces_months = false      # police.uk-style month replacement
    [columns]
    id = "attendance_id"         # optional
    date = "attendance_date"     # required: a date, a datetime or a YYYY-MM month
    date_format = "%Y-%m-%d"     # optional strftime format
    type = "assault_type"        # required
    longitude = "lon"            # either longitude + latitude (WGS84) ...
    latitude = "lat"
    easting = "x"                # ... or easting + northing (British National Grid)
    northing = "y"
    weight = "weight"            # optional: location, lsoa_code, lsoa_name, outcome, force,
    age_band = "age"             #           weight, age_band
    [types]                      # optional: the source's type -> a police.uk crime type
    "Assault" = "Violence and sexual offences"

GeoJSON and GeoPackage points need no coordinate columns: the geometry is used.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from geodata.errors import DataValidationError

SOURCES_DIR = Path(__file__).resolve().parent.parent / "config" / "sources"

_COLUMN_KEYS = {"id", "date", "date_format", "type", "longitude", "latitude", "easting",
                "northing", "location", "lsoa_code", "lsoa_name", "outcome", "force", "weight",
                "age_band"}
_TOP_KEYS = {"name", "description", "unique_ids", "replaces_months", "columns", "types"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SourceSpec:
    """How one source's columns map onto incidents (see the module docstring)."""

    name: str
    description: str
    columns: dict[str, str]
    date_format: str | None = None
    types: dict[str, str] = field(default_factory=dict)
    unique_ids: bool = True
    replaces_months: bool = False

    @property
    def coordinates(self) -> str:
        """``"lonlat"`` or ``"bng"``: which coordinate columns the source has."""
        return "lonlat" if "longitude" in self.columns else "bng"

    @property
    def required_columns(self) -> list[str]:
        """Source column names that a tabular file must contain."""
        keys = ["date", "type"] + (["longitude", "latitude"] if self.coordinates == "lonlat"
                                   else ["easting", "northing"])
        return [self.columns[k] for k in keys]

    def column(self, key: str) -> str | None:
        """The source column holding `key` (``"id"``, ``"location"`` …), or None."""
        return self.columns.get(key)


def _fail(path: Path, message: str) -> None:
    raise DataValidationError(f"{path}: {message}")


def parse_source(path: str | Path) -> SourceSpec:
    """Read and validate one source TOML file.

    Raises
    ------
    DataValidationError
        Naming the file, the key, what was expected and what was found.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(path, "no such source file.")
    except tomllib.TOMLDecodeError as error:
        _fail(path, f"not valid TOML ({error}).")
    for key in raw:
        if key not in _TOP_KEYS:
            hint = difflib.get_close_matches(key, _TOP_KEYS, n=1)
            _fail(path, f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                  + ".")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        _fail(path, f"'name' must be lower-case letters, digits and underscores. Got {name!r}.")
    columns = raw.get("columns")
    if not isinstance(columns, dict):
        _fail(path, "a [columns] table is required.")
    for key, value in columns.items():
        if key not in _COLUMN_KEYS:
            hint = difflib.get_close_matches(key, _COLUMN_KEYS, n=1)
            _fail(path, f"unknown key {key!r} in [columns]"
                  + (f" (did you mean {hint[0]!r}?)" if hint else "") + ".")
        if not isinstance(value, str) or not value:
            _fail(path, f"[columns] {key} must be a column name. Got {value!r}.")
    for key in ("date", "type"):
        if key not in columns:
            _fail(path, f"[columns] must name the {key!r} column.")
    has_lonlat = "longitude" in columns and "latitude" in columns
    has_bng = "easting" in columns and "northing" in columns
    if has_lonlat == has_bng:
        _fail(path, "[columns] must name either 'longitude' and 'latitude' or 'easting' and "
                    "'northing' (exactly one pair).")
    types = raw.get("types", {})
    if not isinstance(types, dict) or not all(isinstance(v, str) for v in types.values()):
        _fail(path, f"[types] must map source values to police.uk crime types. Got {types!r}.")
    flags = {}
    for key, default in (("unique_ids", True), ("replaces_months", False)):
        flags[key] = raw.get(key, default)
        if not isinstance(flags[key], bool):
            _fail(path, f"'{key}' must be true or false. Got {flags[key]!r}.")
    columns = dict(columns)
    date_format = columns.pop("date_format", None)
    return SourceSpec(name=name, description=str(raw.get("description", "")), columns=columns,
                      date_format=date_format, types=dict(types), **flags)


def load_sources(directory: str | Path = SOURCES_DIR) -> dict[str, SourceSpec]:
    """All source specifications in `directory`, by name."""
    specs = {}
    for path in sorted(Path(directory).glob("*.toml")):
        spec = parse_source(path)
        if spec.name in specs:
            _fail(path, f"source name {spec.name!r} is already used by another file.")
        specs[spec.name] = spec
    return specs


def get_source(name: str, directory: str | Path = SOURCES_DIR) -> SourceSpec:
    """The source called `name`; a clear error lists the known ones."""
    specs = load_sources(directory)
    if name not in specs:
        raise DataValidationError(f"Unknown source {name!r}; known sources: "
                                  f"{', '.join(sorted(specs))} (files in {directory}).")
    return specs[name]
