"""Where the incident store lives on disk (one definition for every layer that needs it).

The store's folder also holds the audit log (``auth.audit``) and the sessions database
(``auth.sessions``), so :mod:`auth` and :mod:`geodata` both ask here instead of each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.loader import CONFIG_DIR, get_config

#: The repository's root folder (relative ``data_dir`` settings are resolved against it).
REPO_ROOT = CONFIG_DIR.parent


def default_store_dir() -> Path:
    """The incident store's folder: ``HUMBER_DATA_DIR`` if set, else the ``data_dir`` setting.

    Returns
    -------
    pathlib.Path
        ``HUMBER_DATA_DIR`` (``~`` expanded) when the variable is set and not empty;
        otherwise the ``data_dir`` setting of ``config/settings.toml``, relative to the
        repository root unless absolute.
    """
    configured = os.environ.get("HUMBER_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    setting = Path(str(get_config().setting("data_dir").default)).expanduser()
    return setting if setting.is_absolute() else REPO_ROOT / setting
