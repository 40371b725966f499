"""Project configuration: areas (CSPs), crime-type groups and settings, from ``config/*.toml``."""

from config.loader import (
                           AppConfig,
                           Area,
                           ConfigError,
                           CrimeGroup,
                           Region,
                           Setting,
                           get_config,
                           load_config,
)

__all__ = ["AppConfig", "Area", "ConfigError", "CrimeGroup", "Region", "Setting", "get_config",
           "load_config"]
