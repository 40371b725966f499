"""The Glossary page: every plain label explained with its technical term, for every role."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, TIMEOUT
from tests.ui.test_roles import _log_in, users_file  # noqa: F401  (users_file: a fixture)
from ui.glossary import TERMS, search
from ui.widgets import MEASURES, PLAIN_LABELS, TECHNICAL_TERMS


def test_every_plain_sidebar_label_is_in_the_glossary_with_its_technical_term():
    by_label = {t.label: t for t in TERMS}
    for name, label in PLAIN_LABELS.items():
        assert label in by_label, f"{label!r} ({name}) is not explained in the glossary"
    # The expert terms the labels replace are named beside them (and in the widgets' help).
    technical = {t.label: t.technical for t in TERMS}
    assert "bandwidth" in technical["Smoothing distance"]
    assert "eps" in technical["Grouping distance"]
    assert "min_samples" in technical["Minimum incidents per group"]
    assert "Getis-Ord Gi*" in technical["Statistically significant hot areas"]
    assert "FDR" in technical["Corrected for many tests"]
    assert "dual kernel" in technical["Rate per resident"]
    assert "tercile" in technical["Low, middle or high third"]
    assert MEASURES["harm"] in by_label and "days of custody" in by_label[MEASURES["harm"]].meaning
    for code in ("PAI", "RRI", "PEI*"):
        assert any(t.technical.startswith(code) for t in TERMS), code
    assert set(TECHNICAL_TERMS) == set(PLAIN_LABELS)  # each plain label keeps its term in help


def test_search_matches_labels_technical_terms_and_meanings():
    assert [t.label for t in search(TERMS, "gi*")][:1] == ["Statistically significant hot areas"]
    assert [t.label for t in search(TERMS, "TERCILE")] == ["Low, middle or high third"]
    assert search(TERMS, "  ") == list(TERMS)
    assert search(TERMS, "no such word anywhere") == []
    with pytest.raises(TypeError, match="'text' should be a str"):
        search(TERMS, None)


def test_the_glossary_page_renders_and_searches():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/glossary.py").run()
    assert not at.exception
    assert at.title[0].value == "Glossary"
    text = "\n".join(m.value for m in at.markdown)
    assert "**Grouping distance** — *DBSCAN eps (neighbourhood radius)*" in text
    assert "**Statistically significant hot areas** — *Getis-Ord Gi*" in text
    at.text_input(key="glossary_search").set_value("min_samples").run()
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(shown) == 1 and shown[0].startswith("**Minimum incidents per group**")


def test_the_public_role_can_open_the_glossary(users_file):  # noqa: F811
    at = _log_in("pub")  # lands on the overview
    at.switch_page("views/glossary.py").run()
    assert not at.exception
    assert at.title[0].value == "Glossary"
