"""The Methods page says which method could not score, and why, and keeps the others
(issue 13); it describes the methods from the same registry the back-test runs."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from hotspots.backtest import SCORERS
from tests.ui.conftest import TIMEOUT

PAGE = Path(__file__).resolve().parents[2] / "views" / "methods.py"


def test_a_method_that_cannot_score_is_named_and_the_others_are_shown():
    # East Riding had one robbery in January 2022: DBSCAN cannot cluster one incident.
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT).run()
    at.selectbox(key="methods_area").set_value("E06000011")
    at.selectbox(key="methods_group").set_value("Robbery")
    at.selectbox(key="methods_test").set_value("2024-01").run()
    at.multiselect(key="methods_train").set_value(["2022-01"]).run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "could not be scored" in w.value]
    assert "DBSCAN" in warning and "at least two training incidents" in warning
    (frame,) = [d.value for d in at.dataframe]
    dbscan = frame[frame["Method"].str.startswith("DBSCAN")]
    assert dbscan["Used"].str.startswith("not scored: ").all()
    assert dbscan["Hit rate (%)"].isna().all()
    others = frame[~frame["Method"].str.startswith("DBSCAN")]
    assert len(others) and others["Hit rate (%)"].notna().all()
    # Every registered method the table shows is described from the registry.
    text = " ".join(m.value for m in at.markdown)
    assert "The methods compared" in text
    assert "Getis" in text and "cluster" in text and "baseline to beat" in text
    assert "default: the map's purple predicted cells" in text.replace("\\", "")
    assert set(SCORERS) >= {"naive", "kde", "gi_star", "dbscan", "blend"}
