"""What the analysis command lines share: checking area and crime group, loading police.uk files.

Each check ends the program with ``parser.error`` (usage and message on standard error,
exit status 2), as argparse does for its own errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence


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
    on 2021 LSOAs, with the LSOA table.

    Every configured crime type is kept, so a command can compare a group with the rest.

    Returns
    -------
    incidents : pandas.DataFrame
    lsoas : geopandas.GeoDataFrame
    """
    from config import get_config
    from geodata.incidents import load_incidents
    from geodata.paths import shipped_crime_files
    from geodata.reference import load_lsoa11_lookup, load_lsoa_table

    paths = files if files else shipped_crime_files()
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        parser.error(f"No such incident file(s): {', '.join(missing)}.")
    all_types = {t for g in get_config().crime_groups for t in g.types}
    lsoas = load_lsoa_table()
    loaded = load_incidents(paths, lsoas=lsoas, lookup=load_lsoa11_lookup(),
                            known_crime_types=all_types)
    return loaded.accepted, lsoas
