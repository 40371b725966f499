"""One analysis for map, pack and meeting page: hotspots named, compared and classed.

Synthetic incidents near Hull (EPSG:27700 metres) in a 6 km square study area:

* ``A`` at (506000, 428000): 40 incidents in both months, on "On or near Alpha Road"
  (25) and "On or near Beta Street" (15). Persistent.
* ``B`` at (510000, 428000): 30 incidents in the later month only ("Newland Avenue"). New.
* ``C`` at (506000, 432000): 30 incidents in the earlier month only ("Old Lane"). Ceased.

Each cluster is a 3 x 3 lattice of map points 25 m apart, so with a 100 m bandwidth it is one
outline well above the threshold and the three never touch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.disclosure import DisclosureRule
from hotspots.grid import cells_within
from hotspots.tasking import (
    HotspotsWithChange,
    busiest_streets,
    hotspot_names,
    hotspots_with_change,
    months_since,
    places_that_moved,
)

AREA = shapely.box(504_000, 426_000, 512_000, 434_000)
LSOAS = pd.DataFrame({"lsoa21cd": ["E01000001"], "lsoa21nm": ["Test 001A"], "imd_decile": [1]})
EARLY, LATE = "2024-02", "2024-03"


def _cluster(origin, n, streets: dict[str, int], month: str) -> pd.DataFrame:
    gx, gy = np.meshgrid(origin[0] + 25.0 * np.arange(3), origin[1] + 25.0 * np.arange(3))
    px, py = gx.ravel(), gy.ravel()
    locations = [f"On or near {s}" for s, k in streets.items() for _ in range(k)]
    assert len(locations) == n
    return pd.DataFrame({"x": px[np.arange(n) % 9], "y": py[np.arange(n) % 9],
                         "crime_type": "Violence and sexual offences", "lsoa21cd": "E01000001",
                         "location": locations, "month": month})


def _incidents(month: str) -> pd.DataFrame:
    parts = [_cluster((506_000, 428_000), 40, {"Alpha Road": 25, "Beta Street": 15}, month)]
    if month == LATE:
        parts.append(_cluster((510_000, 428_000), 30, {"Newland Avenue": 30}, month))
    if month == EARLY:
        parts.append(_cluster((506_000, 432_000), 30, {"Old Lane": 30}, month))
    return pd.concat(parts, ignore_index=True)


class Loader:
    """Incidents by month, recording what was asked for."""

    def __init__(self):
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, months):
        self.calls.append(tuple(months))
        return pd.concat([_incidents(m) for m in months], ignore_index=True)


def _run(stored=(EARLY, LATE), months=(LATE,), **kwargs) -> tuple[HotspotsWithChange, Loader]:
    load = Loader()
    params = dict(bandwidth=100.0, cell_size=50.0, threshold_method="top_percent",
                  threshold_value=2.0)
    params.update(kwargs)
    result = hotspots_with_change(load, months=months, stored_months=stored, study_area=AREA,
                                  lsoas=LSOAS, **params)
    return result, load


def test_busiest_street_names_each_area_and_breaks_ties_alphabetically():
    frame = pd.DataFrame({"location": ["On or near Zeta Road", "On or near Alpha Road",
                                       "On or near Zeta Road", "On or near Alpha Road",
                                       None, "", "On or near Kappa Way"]})
    ids = [1, 1, 1, 1, 1, 2, -1]
    # Area 1: Alpha and Zeta tie at 2 each -> Alpha (alphabetical), whatever the row order.
    assert busiest_streets(frame, ids) == {1: "Alpha Road"}
    assert busiest_streets(frame.iloc[::-1].reset_index(drop=True), ids[::-1]) == \
        {1: "Alpha Road"}
    # Area 2 has only an empty location: no street; the -1 row belongs to no area.
    assert hotspot_names([1, 2], {1: "Alpha Road"}) == ["Hotspot 1 — Alpha Road", "Hotspot 2"]


def test_a_kind_of_place_does_not_name_a_hotspot():
    # police.uk names some map points by what is there: "On or near Nightclub" is busiest
    # here, but a meeting cannot find "Nightclub" on a map, so the street comes next.
    frame = pd.DataFrame({"location": ["On or near Nightclub"] * 3 + ["On or near Supermarket"]
                          + ["On or near George Street"] * 2})
    assert busiest_streets(frame, [1, 1, 1, 1, 1, 1]) == {1: "George Street"}
    assert busiest_streets(frame.iloc[:4], [2, 2, 2, 2]) == {}


def test_busiest_streets_checks_ids_length():
    with pytest.raises(ValueError, match="one value per incident row"):
        busiest_streets(pd.DataFrame({"location": ["a", "b"]}), [1])


def test_hotspots_are_named_by_their_busiest_street():
    result, _ = _run()
    names = dict(zip(result.table["hotspot_id"], result.table["name"]))
    # A holds 40 (ranked 1), B 30 (ranked 2); A's busiest street is Alpha Road (25 of 40).
    assert names == {1: "Hotspot 1 — Alpha Road", 2: "Hotspot 2 — Newland Avenue"}
    assert list(result.outlines["name"]) == list(result.table["name"])
    assert result.names == names


def test_change_against_the_comparable_previous_month():
    result, load = _run()
    assert load.calls == [(LATE,), (EARLY,)]  # the month just before, loaded once
    assert result.previous_months == (EARLY,)
    assert result.comparison.startswith(f"Compared with {EARLY}")
    classes = dict(zip(result.table["name"], result.table["persistence"]))
    assert classes["Hotspot 1 — Alpha Road"] == "persistent"
    assert classes["Hotspot 2 — Newland Avenue"] == "new"
    before = dict(zip(result.table["name"], result.table["incidents_before"]))
    assert before == {"Hotspot 1 — Alpha Road": 40, "Hotspot 2 — Newland Avenue": 0}
    earlier = result.previous.table.set_index("name")
    assert earlier.loc["Earlier hotspot 2 — Old Lane", "persistence"] == "ceased"
    assert earlier.loc["Earlier hotspot 2 — Old Lane", "incidents_after"] == 0
    assert earlier.loc["Earlier hotspot 1 — Alpha Road", "persistence"] == "persistent"


def test_places_that_moved_are_ranked_by_the_size_of_the_change():
    result, _ = _run()
    moved = places_that_moved(result)
    # B +30 and C -30 tie in size: by name ("Earlier…" before "Hotspot…"); A unchanged last.
    assert moved["name"].tolist() == ["Earlier hotspot 2 — Old Lane",
                                      "Hotspot 2 — Newland Avenue", "Hotspot 1 — Alpha Road"]
    assert moved["status"].tolist() == ["ceased", "new", "persistent"]
    assert moved["change"].tolist() == [-30.0, 30.0, 0.0]
    assert moved["change_pct"].iloc[0] == pytest.approx(-100.0)
    assert np.isnan(moved["change_pct"].iloc[1])  # from 0: no percentage


def test_no_change_without_a_complete_previous_period():
    result, load = _run(stored=("2024-01", LATE))  # 2024-02 is not stored
    assert load.calls == [(LATE,)]
    assert result.change is None and result.previous is None
    assert result.previous_months == ()
    assert "not all stored" in result.comparison
    assert set(result.table["persistence"]) == {""}
    assert result.table["incidents_before"].isna().all()
    assert places_that_moved(result).empty


def test_same_threshold_in_both_periods_as_on_the_map():
    """The change uses the map's threshold method and value, not a fixed top 2%."""
    top, _ = _run()
    mean, _ = _run(threshold_method="mean_multiple", threshold_value=3.0)
    assert mean.threshold_label == "density ≥ 3 × the area's mean"
    inside = cells_within(mean.change.grid, AREA)
    assert mean.change.threshold_after == pytest.approx(3.0 * mean.change.after[inside].mean())
    assert mean.change.threshold_after != pytest.approx(top.change.threshold_after)


def test_disclosure_rounds_the_earlier_counts():
    rule = DisclosureRule(threshold=5, rounding=10, radius_m=100.0, min_bandwidth_m=100.0,
                          min_cell_m=50.0, support_radius_m=80.0, generalise_m=10.0)
    result, _ = _run(disclosure=rule)
    before = result.table["incidents_before"].dropna()
    assert len(before) and (before % 10 == 0).all()
    assert (result.table["incidents"] % 10 == 0).all()
    assert result.table["name"].str.startswith("Hotspot ").all()


@pytest.mark.parametrize("disclosure", [None, DisclosureRule(
    threshold=5, rounding=10, radius_m=100.0, min_bandwidth_m=100.0, min_cell_m=50.0,
    support_radius_m=80.0, generalise_m=10.0)], ids=["analyst", "aggregate-only"])
def test_without_earlier_hotspots_the_selection_and_its_change_are_the_same(disclosure):
    full, _ = _run(disclosure=disclosure)
    light, load = _run(disclosure=disclosure, earlier_hotspots=False)
    assert load.calls == [(LATE,), (EARLY,)]
    assert light.previous is None and full.previous is not None
    assert light.previous_months == full.previous_months == (EARLY,)
    pd.testing.assert_frame_equal(light.table, full.table)   # persistence, incidents_before
    np.testing.assert_array_equal(light.change.classes, full.change.classes)
    assert light.change.threshold_before == full.change.threshold_before
    assert (light.table["persistence"] != "").all()
    with pytest.raises(ValueError, match="earlier_hotspots=True"):
        places_that_moved(light)


def test_months_are_required():
    with pytest.raises(ValueError, match="at least one YYYY-MM month"):
        _run(months=())


def test_months_since_the_meeting_run_to_the_latest_stored_month():
    stored = ["2022-01", "2024-01", "2024-02", "2024-03"]
    assert months_since("2024-02", stored) == (("2024-02", "2024-03"), "")
    assert months_since("2024-03", stored) == (("2024-03",), "")
    months, reason = months_since("2023-12", stored)
    assert months == () and "1 missing, e.g. 2023-12" in reason
    months, reason = months_since("2024-04", stored)
    assert months == () and "latest stored month is 2024-03" in reason
    with pytest.raises(ValueError, match="YYYY-MM"):
        months_since("2024-4", stored)
