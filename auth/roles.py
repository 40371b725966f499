"""Roles and the viewer they describe.

A role is one of :data:`ROLES` or ``"csp:<LAD code>"`` for the Community Safety Partnership
of one area of ``config/areas.toml``. What each role may see:

========== ============== ============== ========== ============
role       incident points aggregates    ingest     areas
========== ============== ============== ========== ============
analyst    yes            yes            no         all (Humber)
admin      yes            yes            yes        all (Humber)
csp        yes            yes            no         its own area
partner    no             yes            no         all (Humber)
public     no             yes            no         all (Humber)
========== ============== ============== ========== ============
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

ROLES = ("analyst", "admin", "partner", "public")
CSP_ROLE = "csp"
_POINT_ROLES = {"analyst", "admin", CSP_ROLE}
_AGGREGATE_ROLES = {"partner", "public"}


def _valid_roles_text(known_lad_codes: Iterable[str]) -> str:
    codes = list(known_lad_codes)
    return ", ".join([*ROLES, *(f"{CSP_ROLE}:{code}" for code in codes)])


def parse_role(text: str, *, known_lad_codes: Iterable[str]) -> tuple[str, str | None]:
    """Split a role text into the role and, for a CSP role, its LAD code.

    Parameters
    ----------
    text : str
        ``"analyst"``, ``"admin"``, ``"partner"``, ``"public"`` or ``"csp:<LAD code>"``
        (e.g. ``"csp:E06000010"``). Surrounding spaces are ignored; the role name is
        case-insensitive, the LAD code is upper-cased.
    known_lad_codes : iterable of str
        The LAD codes a CSP role may name (``get_config().area_codes``).

    Returns
    -------
    tuple of (str, str or None)
        ``(role, lad_code)``: ``("csp", "E06000010")`` or ``("analyst", None)``.

    Raises
    ------
    TypeError
        If `text` is not a string.
    ValueError
        For an unknown role or LAD code; the message lists the valid roles.
    """
    if not isinstance(text, str):
        raise TypeError(f"The role must be a str. Got {type(text).__name__} instead.")
    codes = tuple(known_lad_codes)
    cleaned = text.strip()
    head, separator, code = cleaned.partition(":")
    head = head.strip().lower()
    if not separator and head in ROLES:
        return head, None
    if separator and head == CSP_ROLE:
        code = code.strip().upper()
        if code in codes:
            return CSP_ROLE, code
        raise ValueError(f"Unknown LAD code {code!r} in role {text!r}: a CSP role must name one "
                         f"of the areas of config/areas.toml ({', '.join(codes)}). Valid roles: "
                         f"{_valid_roles_text(codes)}.")
    raise ValueError(f"Unknown role {text!r}. Valid roles: {_valid_roles_text(codes)}.")


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the dashboard, and therefore what they may see.

    Parameters
    ----------
    name : str
        The user name (or e-mail for OIDC users).
    role : str
        ``"analyst"``, ``"admin"``, ``"partner"``, ``"public"`` or ``"csp"``.
    lad_code : str or None
        For role ``"csp"``, the LAD code of the viewer's area; None for every other role.
    """

    name: str
    role: str
    lad_code: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"The 'name' of a Viewer must be a str. Got "
                            f"{type(self.name).__name__} instead.")
        if self.role == CSP_ROLE:
            if not isinstance(self.lad_code, str) or not self.lad_code:
                raise ValueError(f"A Viewer with role 'csp' needs a 'lad_code' (e.g. "
                                 f"'E06000010'). Got {self.lad_code!r} instead.")
        elif self.role in ROLES:
            if self.lad_code is not None:
                raise ValueError(f"Only role 'csp' takes a 'lad_code'; role {self.role!r} got "
                                 f"{self.lad_code!r}.")
        else:
            raise ValueError(f"The 'role' of a Viewer must be one of {[*ROLES, CSP_ROLE]}. "
                             f"Got {self.role!r} instead.")

    @property
    def sees_points(self) -> bool:
        """True for analyst, admin and csp: may see individual incident locations."""
        return self.role in _POINT_ROLES

    @property
    def aggregate_only(self) -> bool:
        """True for partner and public: aggregates only, with small counts suppressed."""
        return self.role in _AGGREGATE_ROLES

    @property
    def can_ingest(self) -> bool:
        """True for admin only: may upload data into the store."""
        return self.role == "admin"

    @property
    def humber_wide(self) -> bool:
        """True unless the viewer is a CSP, which sees its own area only."""
        return self.role != CSP_ROLE

    @property
    def label(self) -> str:
        """The role as written in the users file: ``"analyst"`` or ``"csp:E06000010"``."""
        return f"{CSP_ROLE}:{self.lad_code}" if self.role == CSP_ROLE else self.role

    def area_codes(self, all_codes: Iterable[str]) -> tuple[str, ...]:
        """The LAD codes this viewer may see, out of `all_codes`.

        Parameters
        ----------
        all_codes : iterable of str
            Every area's LAD code (``get_config().area_codes``).

        Returns
        -------
        tuple of str
            ``(lad_code,)`` for a CSP viewer, else all of `all_codes` in their order.
        """
        if self.role == CSP_ROLE:
            return (self.lad_code,)
        return tuple(all_codes)


LOCAL_ANALYST = Viewer(name="local analyst", role="admin")
"""The viewer of single-analyst mode (no accounts, served on loopback only)."""
