"""The monthly trend chart: a real time axis with gaps where months are not stored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.support.frames import _inline_values
from ui.summary_view import _trend_spec, trend_spec


def _trend() -> pd.DataFrame:
    months = ["2022-01", "2024-01", "2024-02", "2024-03"]  # the shipped, non-contiguous ones
    return pd.DataFrame({"Hull": [73, 226, 240, 251], "East Riding": [40, 120, 110, np.nan]},
                        index=pd.Index(months, name="month"))


def test_months_lie_on_a_time_axis_and_a_gap_breaks_the_line():
    spec = trend_spec(_trend())
    line, points = spec["layer"]
    for layer in (line, points):
        assert layer["encoding"]["x"]["field"] == "Month"
        assert layer["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["detail"]["field"] == "run"   # one line per run of months
    rows = pd.DataFrame(spec["data"]["values"])
    runs = rows.drop_duplicates("month").set_index("month")["run"]
    assert runs["2022-01"] != runs["2024-01"]              # not joined across the gap
    assert runs["2024-01"] == runs["2024-02"] == runs["2024-03"]
    assert rows.loc[rows["month"] == "2024-01", "Month"].iloc[0] == "2024-01-01T00:00:00"
    # a withheld month (NaN) is left out, not drawn as 0
    assert len(rows) == 7 and rows["Incidents"].sum() == 73 + 226 + 240 + 251 + 270
    assert rows["Incidents"].map(type).eq(int).all()


def test_an_attacker_reading_the_spec_finds_the_rows():
    """The rows travel inside the spec (not as an Arrow dataset): the security tests' frame
    reader finds them there."""
    [values] = _inline_values(_trend_spec(_trend()))
    assert len(values) == 7
