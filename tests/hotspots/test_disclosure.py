"""Disclosure control: small counts hidden, the others rounded, rates from rounded counts,
crime mixes without shares, and surfaces that keep away from isolated incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.disclosure import (
    DisclosureRule,
    mix_text,
    protect_table,
    rounded_count,
    shown_count,
    support_mask,
    surface_incidents,
)
from hotspots.grid import Grid


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError),
                                        (True, TypeError), ("5", TypeError)])
def test_threshold_is_checked(bad, error):
    with pytest.raises(error, match=r"The 'threshold' parameter of DisclosureRule must be an "
                                    r"int in the range \[1, inf\)"):
        DisclosureRule(threshold=bad)


# -- rounding, rates from rounded counts, mixes ------------------------------------------------

RULE = DisclosureRule()


def test_counts_are_suppressed_below_the_threshold_and_rounded_to_five_above():
    assert [shown_count(v, RULE) for v in (0, 1, 4, 5, 7, 8, 12, 13, 102, 1234)] == [
        "0", "<5", "<5", "5", "5", "10", "10", "15", "100", "1,235"]
    assert np.isnan(rounded_count(3, RULE)) and rounded_count(None, RULE) != rounded_count(
        None, RULE)
    assert rounded_count(5, DisclosureRule(threshold=3, rounding=5)) == 5  # 3 -> 5, never 0
    assert rounded_count(3, DisclosureRule(threshold=3, rounding=5)) == 5
    assert shown_count(13, DisclosureRule(rounding=1)) == "13"


def test_rates_are_computed_from_the_rounded_counts():
    frame = pd.DataFrame({"incidents": [3, 12, 102, 0], "population": [1500, 1700, 2000, 900]})
    frame["rate"] = 1000 * frame["incidents"] / frame["population"]
    safe = protect_table(frame, RULE, counts=["incidents"], rates={"rate": "incidents"},
                         text=False)
    assert np.isnan(safe.loc[0, "incidents"]) and np.isnan(safe.loc[0, "rate"])
    # an attacker multiplies the rate by the (public) residents: a multiple of 5 comes back
    recovered = safe["rate"] * frame["population"] / 1000
    np.testing.assert_allclose(recovered[1:], [10, 100, 0])
    assert protect_table(frame, RULE, counts=["incidents"])["incidents"].tolist() == [
        "<5", "10", "100", "0"]
    with pytest.raises(ValueError, match="columns \\['missing'\\] are not in the frame"):
        protect_table(frame, RULE, counts=["missing"])


def test_overlapping_views_differ_by_multiples_of_five_never_by_a_small_count():
    # Jan-Mar and Jan-Feb of the same LSOAs: the March count (1-4) cannot be recovered.
    rng = np.random.default_rng(1)
    jan_feb = rng.integers(5, 200, size=2000)
    march = rng.integers(1, 5, size=2000)
    difference = (np.array([rounded_count(v, RULE) for v in jan_feb + march])
                  - np.array([rounded_count(v, RULE) for v in jan_feb]))
    assert set(np.unique(difference)) <= {0.0, 5.0}
    assert not np.any(difference == march)


def test_a_crime_mix_lists_rounded_counts_and_hides_small_types_in_a_group():
    types = ["Violence"] * 80 + ["Public order"] * 17 + ["Weapons"] * 1 + ["Robbery"] * 4
    text = mix_text(types, RULE)
    assert text == "Violence 80, Public order 15, other types 5"
    assert "%" not in text and "Weapons" not in text and "Robbery" not in text
    assert mix_text(["Violence"] * 6 + ["Weapons"], RULE) == "Violence 5, other types <5"


def test_rule_is_validated():
    with pytest.raises(ValueError, match=r"'rounding' parameter of DisclosureRule must be an "
                                         r"int in the range \[1, inf\)"):
        DisclosureRule(rounding=0)
    with pytest.raises(ValueError, match="'support_radius_m' .* must be less than its "
                                         "'radius_m'"):
        DisclosureRule(radius_m=200, support_radius_m=250)
    with pytest.raises(ValueError, match=r"'min_cell_m' parameter of DisclosureRule must be a "
                                         r"float in the range \(0, inf\)"):
        DisclosureRule(min_cell_m=-1)
    assert RULE.bandwidth(50) == 300 and RULE.bandwidth(800) == 800 and RULE.cell_size(25) == 100


# -- surfaces ----------------------------------------------------------------------------------

def test_isolated_incidents_are_left_out_of_surfaces_and_groups_kept():
    # a group of five within 100 m, an incident alone 2 km away, a pair 3 km away, and five
    # incidents on one shared police.uk map point 4 km away
    x = np.array([0, 50, 100, 0, 50, 2000, 3000, 3100, 4000, 4000, 4000, 4000, 4000.0])
    y = np.array([0, 0, 0, 60, 60, 0, 0, 0, 0, 0, 0, 0, 0.0])
    kept = surface_incidents(x, y, RULE)
    assert kept.tolist() == [True] * 5 + [False] * 3 + [True] * 5
    assert surface_incidents(x[5:8], y[5:8], RULE).tolist() == [False] * 3
    assert surface_incidents(x, y, DisclosureRule(threshold=2)).tolist() == (
        [True] * 5 + [False] + [True] * 7)


def test_support_mask_counts_incidents_within_the_radius_exactly():
    grid = Grid(x0=0.0, y0=0.0, cell_size=100.0, nx=20, ny=20)
    x = np.full(5, 1050.0)   # five incidents at the centre of cell (10, 10)
    y = np.full(5, 1050.0)
    mask = support_mask(x, y, grid, radius_m=200.0, threshold=5)
    rows, cols = np.nonzero(mask)
    centres = np.hypot((cols + 0.5) * 100 - 1050, (rows + 0.5) * 100 - 1050)
    assert centres.max() <= 200.0
    assert mask.sum() == 13   # cell centres within 200 m: 1 + 4 + 4 + 4 (0, 100, 141, 200 m)
    assert not support_mask(x[:4], y[:4], grid, radius_m=200.0, threshold=5).any()
