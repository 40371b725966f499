"""Errors raised by the data layer."""


class DataValidationError(ValueError):
    """A data file cannot be used at all; the message names the file and what was expected."""
