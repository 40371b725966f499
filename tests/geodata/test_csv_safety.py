"""CSV injection: text cells and headers that a spreadsheet would run as formulas get a quote."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from geodata.csv_safety import frame_to_csv_bytes, neutralise_cell, neutralise_frame, write_csv

HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB",
           "\rCR", "\nLF", "\uff1d1+1", "\uff0bx", "\uff0d1", "\uff20SUM(1)"]


@pytest.mark.parametrize("value", HOSTILE)
def test_cells_starting_a_formula_get_a_quote(value):
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["On or near Hessle Road", "", "a=b", " =1", "'=1", "E01012756",
                                   -3.5, 0, 7, None, np.nan, pd.NA, True, b"=bytes"])
def test_other_values_are_unchanged(value):
    result = neutralise_cell(value)
    assert result is value or (result == value)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "=name": ["=HYPERLINK(\"http://x\",\"y\")", "Hessle Road", None],
        "count": [3, -4, 5],
        "lon": [-0.336, -3.5, 1.25],
        "text": pd.array(["-2+3", "@SUM(1)", pd.NA], dtype="string"),
        "mixed": pd.Series(["+cmd", -7, "ok"], dtype=object),
        "kind": pd.Categorical(["=a", "b", "=a"]),
        "flag": [True, False, True],
    })


def test_neutralise_frame_quotes_text_and_headers_and_leaves_numbers():
    frame = _frame()
    before = frame.copy()
    result = neutralise_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    assert result.columns.tolist() == ["'=name", "count", "lon", "text", "mixed", "kind", "flag"]
    assert result["'=name"].tolist()[:2] == ["'=HYPERLINK(\"http://x\",\"y\")", "Hessle Road"]
    assert pd.isna(result["'=name"].iloc[2])
    assert result["text"].tolist()[:2] == ["'-2+3", "'@SUM(1)"]
    assert result["mixed"].tolist() == ["'+cmd", -7, "ok"]
    assert result["kind"].tolist() == ["'=a", "b", "'=a"]
    # Numbers stay numbers, with their dtype.
    assert result["count"].dtype == frame["count"].dtype and result["count"].tolist() == [3, -4, 5]
    assert result["lon"].tolist() == [-0.336, -3.5, 1.25]
    assert result["flag"].tolist() == [True, False, True]


def test_neutralise_frame_index_labels_and_errors():
    frame = pd.DataFrame({"a": [1]}, index=pd.Index(["=x"], name="@i"))
    result = neutralise_frame(frame)
    assert result.index.tolist() == ["'=x"] and result.index.name == "'@i"
    with pytest.raises(TypeError, match="expects a pandas DataFrame; got list"):
        neutralise_frame([["=1"]])


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_frame_to_csv_bytes_is_utf8_and_safe():
    data = frame_to_csv_bytes(_frame())
    rows = _cells(data.decode("utf-8"))
    assert rows[0] == ["'=name", "count", "lon", "text", "mixed", "kind", "flag"]
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r":
                float(cell)  # only numbers may start with a sign
    assert rows[1][2] == "-0.336" and rows[1][1] == "3"
    back = pd.read_csv(io.BytesIO(data))
    assert back["lon"].dtype == float and back["count"].dtype.kind == "i"
    assert frame_to_csv_bytes(pd.DataFrame({"x": ["\uff1d1"]})).decode("utf-8") == "x\n'\uff1d1\n"
    with_index = _cells(frame_to_csv_bytes(pd.DataFrame({"v": [1]}, index=["=i"]), index=True)
                        .decode())
    assert with_index[1] == ["'=i", "1"]


def test_write_csv_writes_the_neutralised_frame(tmp_path):
    path = write_csv(_frame(), tmp_path / "new" / "out.csv")
    assert path == tmp_path / "new" / "out.csv"
    assert path.read_bytes() == frame_to_csv_bytes(_frame())
    assert _cells(path.read_text(encoding="utf-8"))[1][0] == "'=HYPERLINK(\"http://x\",\"y\")"
    with pytest.raises(TypeError, match="index must be True or False; got 'yes'"):
        write_csv(_frame(), tmp_path / "x.csv", index="yes")
    with pytest.raises(TypeError, match="path must be a file path"):
        write_csv(_frame(), None)
