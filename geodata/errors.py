"""Errors raised by the data layer."""


class DataValidationError(ValueError):
    """A data file cannot be used at all; the message names the file and what was expected."""


class ArchiveRefused(DataValidationError):
    """A zip is refused whole before it is read: it would expand beyond the ingest limits.

    The message names the zip, its expanded size, its compression ratio and the setting
    (``ingest_max_expanded_mb`` or ``ingest_max_compression_ratio``) that allows more.
    """


class FetchError(DataValidationError):
    """police.uk could not be reached, or what it served was unreadable (a bad CRC-32, a
    truncated archive, a missing member). Nothing was stored; the message says what failed
    and where.
    """


class RefreshBusy(RuntimeError):
    """Another ``python -m geodata refresh`` holds the store's refresh lock."""
