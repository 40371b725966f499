"""Disclosure control: small counts hidden, rates from them withheld, small areas dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.disclosure import (drop_small_areas, suppress_series, suppress_table,
                                 suppressed_count)


def test_small_counts_read_less_than_the_threshold():
    assert [suppressed_count(v, 5) for v in (0, 4, 5, 1234, None)] == [
        "<5", "<5", "5", "1,234", ""]
    assert suppressed_count(9, 10) == "<10"


def test_tables_keep_big_counts_and_withhold_rates_from_small_ones():
    frame = pd.DataFrame({"incidents": [3, 12], "before": [7, 1], "rate": [0.5, 2.0]})
    safe = suppress_table(frame, threshold=5, counts=["incidents", "before"], rates=["rate"])
    assert safe["incidents"].tolist() == ["<5", "12"]
    assert safe["before"].tolist() == ["7", "<5"]
    assert np.isnan(safe.loc[0, "rate"]) and safe.loc[1, "rate"] == 2.0
    assert frame["incidents"].tolist() == [3, 12]  # input unmodified


def test_small_areas_are_dropped_and_series_masked():
    frame = pd.DataFrame({"hotspot_id": [1, 2, 3], "incidents": [40, 5, 4]})
    assert drop_small_areas(frame, threshold=5)["hotspot_id"].tolist() == [1, 2]
    masked = suppress_series(pd.Series([1, 6, 0]), threshold=5)
    assert masked.isna().tolist() == [True, False, True]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "5"])
def test_threshold_is_checked(bad):
    with pytest.raises(ValueError, match="The 'threshold' must be an int >= 1"):
        suppressed_count(3, bad)
