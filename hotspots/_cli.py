"""What the analysis command lines share: their common options, checking area and crime group,
loading police.uk files.

Each check ends the program with ``parser.error`` (usage and message on standard error,
exit status 2), as argparse does for its own errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence


def incident_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A command line's parser that starts with ``--incidents`` (default: the shipped files).

    Parameters
    ----------
    prog, description : str
        As for :class:`argparse.ArgumentParser`.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--incidents", nargs="+", type=Path, default=None,
                        help="police.uk street-level CSV files (default: the shipped files)")
    return parser


def add_area_and_group(parser: argparse.ArgumentParser, *,
                       area_help: str = "LAD code of one CSP (default: the Humber)") -> None:
    """Add ``--area`` and ``--crime-group`` (both default None), read by
    :func:`checked_area_and_group`."""
    parser.add_argument("--area", default=None, help=area_help)
    parser.add_argument("--crime-group", default=None, help="crime group name (default: config)")


def checked_area_and_group(parser: argparse.ArgumentParser, area: str | None,
                           crime_group: str | None):
    """The configuration and the crime group named on the command line.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports a bad value and exits 2.
    area : str or None
        LAD code of a CSP from ``config/areas.toml``, or None for the whole area.
    crime_group : str or None
        Name of a group from ``config/crime_groups.toml``; None for the default group.

    Returns
    -------
    config : config.AppConfig
    group : config.CrimeGroup
    """
    from config import get_config

    config = get_config()
    codes = [a.code for a in config.areas]
    if area is not None and area not in codes:
        parser.error(f"Unknown area {area!r}; known: {', '.join(codes)}.")
    name = crime_group or config.default_crime_group
    groups = {g.name: g for g in config.crime_groups}
    if name not in groups:
        parser.error(f"Unknown crime group {name!r}; known: {', '.join(groups)}.")
    return config, groups[name]


def load_incident_files(parser: argparse.ArgumentParser, files: Sequence[str] | None):
    """The accepted incidents of police.uk `files` (the shipped months when none), placed
    on 2021 LSOAs, with the LSOA table (see :func:`load_every_crime_type`).

    A missing file ends the program with ``parser.error``.

    Returns
    -------
    incidents : pandas.DataFrame
    lsoas : geopandas.GeoDataFrame
    """
    from geodata.paths import shipped_crime_files

    paths = files if files else shipped_crime_files()
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        parser.error(f"No such incident file(s): {', '.join(missing)}.")
    return load_every_crime_type(paths)


def load_every_crime_type(paths: Sequence[str | Path] | None = None):
    """The accepted incidents of police.uk `paths`, placed on 2021 LSOAs, with the LSOA table.

    Every configured crime type is kept, so a command can compare a group with the rest.

    Parameters
    ----------
    paths : sequence of str or Path, optional
        police.uk street-level CSV files; default: the shipped months.

    Returns
    -------
    incidents : pandas.DataFrame
        EPSG:27700 ``x``, ``y`` (metres), with ``in_area`` and the LSOA codes.
    lsoas : geopandas.GeoDataFrame

    Raises
    ------
    geodata.errors.DataValidationError
        If a file cannot be read as police.uk data.
    """
    from config import get_config
    from geodata.incidents import load_incidents
    from geodata.paths import shipped_crime_files
    from geodata.reference import load_lsoa11_lookup, load_lsoa_table

    all_types = {t for g in get_config().crime_groups for t in g.types}
    lsoas = load_lsoa_table()
    loaded = load_incidents(shipped_crime_files() if paths is None else paths, lsoas=lsoas,
                            lookup=load_lsoa11_lookup(), known_crime_types=all_types)
    return loaded.accepted, lsoas
