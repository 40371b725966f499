"""The pages' selections from the in-memory copy of the store are the store's own answers."""

from __future__ import annotations

import pandas as pd

from ui import cached


def test_selections_from_memory_equal_the_store_queries(fresh_store):
    table = cached.incident_table()
    assert table is not None and len(table) == len(cached.store().query(columns=["month"]))
    months = cached.available_months()
    groups = cached.get_config().crime_groups
    for area_code in (None, "E06000010", "E06000012"):
        for group in groups:
            for chosen in (tuple(months[-3:]), tuple(months[:1]), tuple(months), ()):
                from_memory = cached._query(area_code, chosen, group.types,
                                            cached.INCIDENT_COLUMNS)
                queried = cached.store().query(area_code=area_code, months=chosen,
                                               crime_types=group.types,
                                               columns=cached.INCIDENT_COLUMNS)
                pd.testing.assert_frame_equal(from_memory, queried)
    assert len(from_memory) == 0   # the last: no months
    assert len(cached._query(None, tuple(months), groups[0].types, ["x"])) > 1000


def test_a_store_too_large_to_hold_is_queried(fresh_store, monkeypatch):
    monkeypatch.setattr(cached, "IN_MEMORY_ROWS", 10)
    assert cached.incident_table() is None
    months = tuple(cached.available_months()[-3:])
    group = cached.get_config().crime_groups[0]
    pd.testing.assert_frame_equal(
        cached._query("E06000010", months, group.types, ["x", "y", "month"]),
        cached.store().query(area_code="E06000010", months=months, crime_types=group.types,
                             columns=["x", "y", "month"]))


def test_a_caller_changing_its_selection_leaves_the_shared_one_alone(fresh_store):
    months = tuple(cached.available_months()[-3:])
    group = cached.get_config().crime_groups[0].name
    first = cached.selected_incidents(None, months, group)
    expected = first.copy()
    first["harm"] = -1.0                      # a new value in a column
    first["extra"] = 1                        # a new column
    first.loc[0, "x"] = 0.0                   # a changed cell
    again = cached.selected_incidents(None, months, group)
    assert again is not first
    pd.testing.assert_frame_equal(again, expected)
