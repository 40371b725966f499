"""Street labels from police.uk map point names: one per street, at a real map point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.streets import LABEL_COLUMNS, street_labels


def _incidents(rows):
    return pd.DataFrame(rows, columns=["location", "x", "y"])


def test_one_label_per_street_at_one_of_its_map_points():
    # Newland Avenue: three map points in a 300 m line, 12 incidents on the middle one.
    rows = [("On or near Newland Avenue", 507_000.0, 430_000.0),
            ("On or near Newland Avenue", 507_150.0, 430_000.0),
            ("On or near Newland Avenue", 507_300.0, 430_000.0)]
    rows += [("On or near Newland Avenue", 507_150.0, 430_000.0)] * 11
    labels = street_labels(_incidents(rows))
    assert list(labels.columns) == LABEL_COLUMNS
    assert len(labels) == 1
    (label,) = labels.itertuples()
    assert label.name == "Newland Avenue"                   # "On or near" dropped
    assert (label.x, label.y) == (507_150.0, 430_000.0)     # the middle map point
    # Distinct map points, not incidents: 12 incidents on one point do not show.
    assert label.points == 3
    assert -0.5 < label.lon < 0.0 and 53.5 < label.lat < 54.0


def test_same_name_far_apart_is_two_streets_and_generic_places_are_left_out():
    rows = [("On or near High Street", 500_000.0, 420_000.0),
            ("On or near High Street", 500_200.0, 420_000.0),     # same street (200 m)
            ("On or near High Street", 530_000.0, 410_000.0),     # another town: 31 km away
            ("On or near Parking Area", 500_100.0, 420_050.0),    # police.uk generic name
            ("On or near Supermarket", 500_100.0, 420_060.0),
            ("On or near Hessle Road", 500_100.0, 420_000.0),     # a different name nearby
            (None, 500_000.0, 420_000.0)]
    labels = street_labels(_incidents(rows))
    assert sorted(labels["name"]) == ["Hessle Road", "High Street", "High Street"]
    high = labels[labels["name"] == "High Street"].sort_values("x")
    assert high["points"].tolist() == [2, 1]
    assert high["x"].iloc[1] == 530_000.0


def test_link_distance_is_the_street_break():
    rows = [("On or near A Road", 500_000.0, 420_000.0),
            ("On or near A Road", 500_500.0, 420_000.0)]
    assert len(street_labels(_incidents(rows), link_m=400)) == 2
    assert len(street_labels(_incidents(rows), link_m=600)) == 1


def test_input_is_left_unmodified_and_empty_input_gives_empty_labels():
    frame = _incidents([("On or near A Road", 500_000.0, 420_000.0)])
    before = frame.copy()
    street_labels(frame)
    pd.testing.assert_frame_equal(frame, before)
    empty = street_labels(_incidents([("On or near Parking Area", 1.0, 2.0)]))
    assert empty.empty and list(empty.columns) == LABEL_COLUMNS


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="should be a pandas DataFrame"):
        street_labels([("On or near A Road", 0, 0)])
    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        street_labels(pd.DataFrame({"location": ["x"], "x": [0.0]}))
    with pytest.raises(ValueError, match="'link_m' parameter must be a positive"):
        street_labels(_incidents([]), link_m=0)
    with pytest.raises(ValueError, match="'link_m'"):
        street_labels(_incidents([]), link_m=np.nan)


def test_shipped_store_gives_unique_labels_inside_the_humber():
    from geodata.ingest import open_store

    labels = street_labels(open_store().query(columns=["location", "x", "y"]))
    assert len(labels) > 1000
    assert not labels.duplicated(["name", "x", "y"]).any()
    assert labels["x"].between(440_000, 560_000).all()
    assert labels["y"].between(380_000, 500_000).all()
    assert "Parking Area" not in set(labels["name"])
