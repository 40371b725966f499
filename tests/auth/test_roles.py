"""Role parsing and what each role's viewer may see."""

import sys

import pytest

from auth.roles import LOCAL_ANALYST, ROLES, Viewer, parse_role

CODES = ("E06000010", "E06000011", "E06000012", "E06000013")


@pytest.mark.parametrize("role", ROLES)
def test_plain_roles_parse_to_themselves(role):
    assert parse_role(role, known_lad_codes=CODES) == (role, None)


def test_csp_role_parses_to_its_lad_code():
    assert parse_role("csp:E06000010", known_lad_codes=CODES) == ("csp", "E06000010")
    assert parse_role(" CSP:e06000012 ", known_lad_codes=CODES) == ("csp", "E06000012")


@pytest.mark.parametrize("text", ["superuser", "", "csp", "analyst:E06000010", "csp:"])
def test_unknown_role_lists_the_valid_ones(text):
    with pytest.raises(ValueError, match=r"Valid roles: analyst, admin, partner, public, "
                                         r"csp:E06000010, csp:E06000011"):
        parse_role(text, known_lad_codes=CODES)


def test_unknown_lad_code_lists_the_known_codes():
    with pytest.raises(ValueError, match=r"Unknown LAD code 'E06000099'.*E06000010, E06000011, "
                                         r"E06000012, E06000013"):
        parse_role("csp:E06000099", known_lad_codes=CODES)


def test_role_must_be_text():
    with pytest.raises(TypeError, match="must be a str"):
        parse_role(None, known_lad_codes=CODES)


# (role, sees_points, aggregate_only, can_ingest, humber_wide)
EXPECTED = [("analyst", True, False, False, True),
            ("admin", True, False, True, True),
            ("partner", False, True, False, True),
            ("public", False, True, False, True),
            ("csp", True, False, False, False)]


@pytest.mark.parametrize("role, points, aggregates, ingest, humber", EXPECTED)
def test_viewer_properties(role, points, aggregates, ingest, humber):
    viewer = Viewer(name="v", role=role, lad_code="E06000011" if role == "csp" else None)
    assert viewer.sees_points is points
    assert viewer.aggregate_only is aggregates
    assert viewer.can_ingest is ingest
    assert viewer.humber_wide is humber
    if role == "csp":
        assert viewer.area_codes(CODES) == ("E06000011",)
        assert viewer.label == "csp:E06000011"
    else:
        assert viewer.area_codes(list(CODES)) == CODES
        assert viewer.label == role


def test_viewer_checks_role_and_code():
    with pytest.raises(ValueError, match="needs a 'lad_code'"):
        Viewer(name="v", role="csp")
    with pytest.raises(ValueError, match="Only role 'csp' takes a 'lad_code'"):
        Viewer(name="v", role="analyst", lad_code="E06000010")
    with pytest.raises(ValueError, match="must be one of"):
        Viewer(name="v", role="root")


def test_local_analyst_is_an_admin_seeing_everything():
    assert LOCAL_ANALYST.role == "admin" and LOCAL_ANALYST.can_ingest
    assert LOCAL_ANALYST.sees_points and LOCAL_ANALYST.humber_wide


def test_auth_never_imports_streamlit_or_pydeck(monkeypatch):
    for module in [m for m in sys.modules if m == "auth" or m.startswith("auth.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "streamlit", None)
    monkeypatch.setitem(sys.modules, "pydeck", None)
    import auth.audit  # noqa: F401
    import auth.ratelimit  # noqa: F401
    import auth.roles  # noqa: F401
    import auth.users  # noqa: F401
