"""The monthly trend chart: a real time axis with gaps where months are not stored."""

from __future__ import annotations

import pandas as pd

from ui.summary_view import _trend_spec, trend_figure


def _trend() -> pd.DataFrame:
    months = ["2022-01", "2024-01", "2024-02", "2024-03"]  # the shipped, non-contiguous ones
    return pd.DataFrame({"Hull": [73, 226, 240, 251], "East Riding": [40, 120, 110, 130]},
                        index=pd.Index(months, name="month"))


def test_months_lie_on_a_time_axis_and_a_gap_breaks_the_line():
    spec = trend_figure(_trend()).to_dict()
    line, points = spec["layer"]
    assert line["encoding"]["x"]["field"] == "Month" and line["encoding"]["x"]["type"] == \
        "temporal"
    assert line["encoding"]["detail"]["field"] == "run"   # one line per run of months
    rows = pd.DataFrame(next(iter(spec["datasets"].values())))
    runs = rows.drop_duplicates("month").set_index("month")["run"]
    assert runs["2022-01"] != runs["2024-01"]              # not joined across the gap
    assert runs["2024-01"] == runs["2024-02"] == runs["2024-03"]
    assert len(rows) == 8 and rows["Incidents"].sum() == 73 + 226 + 240 + 251 + 400


def test_the_cached_spec_is_the_validated_one():
    assert _trend_spec(_trend()) == trend_figure(_trend()).to_dict()
