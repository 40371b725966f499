"""The tasking pack lists each hotspot's emerging category when 10+ contiguous months exist."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pypdf
import pytest

from geodata.ingest import ingest_files, open_store
from reports.tasking_pack import build_tasking_pack

REPO = Path(__file__).resolve().parents[2]
MONTHS = [f"2023-{m:02d}" for m in range(4, 13)] + ["2024-01", "2024-02", "2024-03"]


@pytest.fixture(scope="module")
def twelve_month_store(tmp_path_factory):
    """A store of twelve contiguous months: the shipped 2024-01 Hull rows, relabelled."""
    folder = tmp_path_factory.mktemp("twelve")
    raw = pd.read_csv(REPO / "data/crime/2024-01-humberside-street.csv", dtype=str)
    hull = raw[raw["LSOA name"].str.startswith("Kingston upon Hull", na=False)]
    files = []
    for month in MONTHS:
        path = folder / f"{month}-humberside-street.csv"
        hull.assign(Month=month).to_csv(path, index=False)
        files.append(path)
    store = open_store(folder / "store", seed=False)
    ingest_files(files, store=store, user="test")
    return store


def test_pack_uses_emerging_categories(twelve_month_store, tmp_path):
    pack = build_tasking_pack("E06000010", MONTHS[0], MONTHS[-1], tmp_path,
                              store=twelve_month_store, top_n=1)
    table = pd.read_csv(pack.csv)
    # the same incidents every month: the hotspots sit on persistent hot spot cells
    assert table["persistence"].iloc[0] == "persistent hot spot"
    assert set(table["persistence"].dropna()) <= {
        "persistent hot spot", "no pattern", "sporadic hot spot", "historical hot spot",
        "intensifying hot spot", "diminishing hot spot"}
    assert table["persistence_cells"].iloc[0].startswith("persistent hot spot")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pack.pdf).pages)
    assert "emerging hot spot category" in text


def test_pack_keeps_two_period_change_when_too_few_months(twelve_month_store, tmp_path):
    pack = build_tasking_pack("E06000010", "2024-02", "2024-03", tmp_path,
                              store=twelve_month_store, top_n=1)
    table = pd.read_csv(pack.csv)
    assert "emerging" not in " ".join(table["persistence"].dropna().astype(str))
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pack.pdf).pages)
    assert "Persistence compares the period with" in text
