"""The type check every ``auth`` module makes of its text arguments, with one message shape."""

from __future__ import annotations


def require_str(value: object, what: str, *, none_ok: bool = False) -> None:
    """Raise unless `value` is a str (or None, with `none_ok`).

    Parameters
    ----------
    value : object
        The argument to check.
    what : str
        How the message names it, e.g. ``"user name"`` or ``"'role' of an audit record"``.
    none_ok : bool, default False
        Whether None is accepted too.

    Raises
    ------
    TypeError
        "The <what> must be a str[ or None]. Got <type> instead."
    """
    if isinstance(value, str) or (none_ok and value is None):
        return
    raise TypeError(f"The {what} must be a str{' or None' if none_ok else ''}. Got "
                    f"{type(value).__name__} instead.")
