"""Parse and validate the TOML files of ``config/`` into frozen dataclasses.

Configuration is checked once, at start-up, and fails fast with the file, the key, what was
expected and what was found, plus a "did you mean" hint for misspelt keys.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent

_LAD_CODE = re.compile(r"^[EW]0[6-9]\d{6}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ConfigError(ValueError):
    """A configuration file is missing, malformed or holds an invalid value."""


@dataclass(frozen=True)
class Area:
    """One Community Safety Partnership (a unitary authority)."""

    code: str
    name: str
    short_name: str
    slug: str


@dataclass(frozen=True)
class Region:
    """The whole partnership area."""

    name: str
    description: str


@dataclass(frozen=True)
class CrimeGroup:
    """A named set of police.uk crime types offered as one filter choice."""

    name: str
    types: tuple[str, ...]
    help: str


@dataclass(frozen=True)
class Setting:
    """One tunable setting, declared once with its default, bounds and help text."""

    name: str
    default: float | int | str
    help: str
    min: float | int | None = None
    max: float | int | None = None
    step: float | int | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppConfig:
    """Everything in ``config/``: areas, crime groups and settings."""

    region: Region
    areas: tuple[Area, ...]
    crime_groups: tuple[CrimeGroup, ...]
    default_crime_group: str
    settings: dict[str, Setting]

    def area(self, code: str) -> Area:
        """Return the area with LAD code `code`."""
        for area in self.areas:
            if area.code == code:
                return area
        raise KeyError(f"No area with code {code!r} in config/areas.toml; known codes: "
                       f"{', '.join(a.code for a in self.areas)}.")

    def crime_group(self, name: str) -> CrimeGroup:
        """Return the crime group called `name`."""
        for group in self.crime_groups:
            if group.name == name:
                return group
        raise KeyError(f"No crime group {name!r} in config/crime_groups.toml; known groups: "
                       f"{', '.join(g.name for g in self.crime_groups)}.")

    def setting(self, name: str) -> Setting:
        """Return the setting called `name`."""
        try:
            return self.settings[name]
        except KeyError:
            raise KeyError(f"Unknown setting {name!r}{_did_you_mean(name, self.settings)}.") from None

    @property
    def area_codes(self) -> tuple[str, ...]:
        """LAD codes of all areas, in configuration order."""
        return tuple(a.code for a in self.areas)


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"Configuration file {path} is missing.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Configuration file {path} is not valid TOML: {error}.") from None


def _check_keys(table: dict, *, where: str, required: set[str], optional: set[str] = frozenset()):
    allowed = required | set(optional)
    for key in table:
        if key not in allowed:
            raise ConfigError(f"Unknown key {key!r} in {where}{_did_you_mean(key, allowed)}.")
    for key in sorted(required - set(table)):
        raise ConfigError(f"Missing key {key!r} in {where}.")


def _expect_str(value, *, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"The {key!r} in {where} must be a non-empty string. Got {value!r} instead.")
    return value


def _parse_areas(path: Path) -> tuple[Region, tuple[Area, ...]]:
    raw = _read_toml(path)
    _check_keys(raw, where=path.name, required={"region", "area"})
    region_raw = raw["region"]
    _check_keys(region_raw, where=f"{path.name} [region]", required={"name", "description"})
    region = Region(name=_expect_str(region_raw["name"], key="name", where=f"{path.name} [region]"),
                    description=str(region_raw["description"]))
    areas = []
    for index, item in enumerate(raw["area"], start=1):
        where = f"{path.name} [[area]] number {index}"
        _check_keys(item, where=where, required={"code", "name", "short_name", "slug"})
        code = _expect_str(item["code"], key="code", where=where)
        if not _LAD_CODE.match(code):
            raise ConfigError(f"The 'code' in {where} must be a LAD code such as 'E06000010'. "
                              f"Got {code!r} instead.")
        slug = _expect_str(item["slug"], key="slug", where=where)
        if not _SLUG.match(slug):
            raise ConfigError(f"The 'slug' in {where} must be lower-case letters, digits and "
                              f"hyphens. Got {slug!r} instead.")
        areas.append(Area(code=code, name=_expect_str(item["name"], key="name", where=where),
                          short_name=_expect_str(item["short_name"], key="short_name", where=where),
                          slug=slug))
    for attribute in ("code", "slug"):
        values = [getattr(a, attribute) for a in areas]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(f"Duplicate area {attribute} in {path.name}: {', '.join(duplicates)}.")
    return region, tuple(areas)


def _parse_crime_groups(path: Path) -> tuple[tuple[CrimeGroup, ...], str]:
    raw = _read_toml(path)
    _check_keys(raw, where=path.name, required={"default", "group"})
    groups = []
    for index, item in enumerate(raw["group"], start=1):
        where = f"{path.name} [[group]] number {index}"
        _check_keys(item, where=where, required={"name", "types", "help"})
        types = item["types"]
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ConfigError(f"The 'types' in {where} must be a non-empty list of police.uk crime "
                              f"types. Got {types!r} instead.")
        groups.append(CrimeGroup(name=_expect_str(item["name"], key="name", where=where),
                                 types=tuple(types), help=str(item["help"])))
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise ConfigError(f"Crime group names in {path.name} must be unique. Got {names}.")
    default = raw["default"]
    if default not in names:
        raise ConfigError(f"The 'default' in {path.name} must name one of the groups {names}. "
                          f"Got {default!r} instead.")
    return tuple(groups), default


_SETTING_KEYS = {"default", "help"}
_SETTING_OPTIONAL = {"min", "max", "step", "unit", "choices"}


def _parse_settings(path: Path) -> dict[str, Setting]:
    raw = _read_toml(path)
    settings = {}
    for name, table in raw.items():
        where = f"{path.name} [{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table with 'default' and 'help'. Got {table!r}.")
        _check_keys(table, where=where, required=_SETTING_KEYS, optional=_SETTING_OPTIONAL)
        default = table["default"]
        if "choices" in table:
            choices = tuple(table["choices"])
            if default not in choices:
                raise ConfigError(f"The 'default' of {where} must be one of {list(choices)}. "
                                  f"Got {default!r} instead.")
        else:
            choices = ()
        low, high = table.get("min"), table.get("max")
        if low is not None and high is not None:
            numeric = (int, float)
            if not isinstance(default, numeric) or isinstance(default, bool):
                raise ConfigError(f"The 'default' of {where} must be a number. Got {default!r}.")
            if not type(default) is type(low) is type(high):
                raise ConfigError(f"The 'default', 'min' and 'max' of {where} must share one type "
                                  f"(all integers or all floats). Got {default!r}, {low!r}, {high!r}.")
            if not low <= default <= high:
                raise ConfigError(f"The 'default' of {where} must lie in [{low}, {high}]. "
                                  f"Got {default!r} instead.")
        settings[name] = Setting(name=name, default=default,
                                 help=_expect_str(table["help"], key="help", where=where),
                                 min=low, max=high, step=table.get("step"),
                                 unit=str(table.get("unit", "")), choices=choices)
    return settings


def load_config(directory: str | Path | None = None) -> AppConfig:
    """Read and validate ``areas.toml``, ``crime_groups.toml`` and ``settings.toml``.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding the three TOML files. Defaults to the ``config/`` package folder.

    Returns
    -------
    AppConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        If a file is missing or malformed, naming the file, the key, the expected and the
        received value.
    """
    folder = Path(directory) if directory is not None else CONFIG_DIR
    region, areas = _parse_areas(folder / "areas.toml")
    groups, default_group = _parse_crime_groups(folder / "crime_groups.toml")
    settings = _parse_settings(folder / "settings.toml")
    return AppConfig(region=region, areas=areas, crime_groups=groups,
                     default_crime_group=default_group, settings=settings)


@functools.lru_cache(maxsize=1)
def get_config() -> AppConfig:
    """Return the project's configuration, loaded once per process."""
    return load_config()
