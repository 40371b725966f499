"""The tasking pack on the shipped data: every figure it prints is traced back to the raw rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pypdf
import pyproj
import pytest
import shapely
from matplotlib.backends.backend_pdf import PdfPages

from geodata.ingest import open_store
from geodata.places import is_street
from reports.pdf import PLAIN_TEXT_RC, draw_table, new_page
from reports.tasking_pack import HOTSPOT_COLUMNS, TaskingPackError, build_tasking_pack, main

REPO = Path(__file__).resolve().parents[2]
HULL = "E06000010"
MONTHS = ["2024-01", "2024-02", "2024-03"]
# Written out here, not read from config, so the check is independent of the code under test.
SERIOUS_VIOLENCE = {"Violence and sexual offences", "Robbery", "Possession of weapons"}
ARTIFACT = REPO / "test-artifacts" / "tasking-pack-page1.png"


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """Hull, 2024-01..03, serious violence: built once for the module."""
    return build_tasking_pack(HULL, "2024-01", "2024-03", tmp_path_factory.mktemp("pack"),
                              page1_png=ARTIFACT)


@pytest.fixture(scope="module")
def pdf_pages(pack) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pack.pdf).pages]


def _raw_hull_count() -> int:
    """Serious violence rows of the shipped CSVs whose LSOA code is one of Hull's 168 LSOAs."""
    boundaries = json.loads((REPO / "data/boundaries/lsoa21_humber_bsc.geojson").read_text())
    hull = {f["properties"]["LSOA21CD"] for f in boundaries["features"]
            if f["properties"]["LAD24CD"] == HULL}
    assert len(hull) == 168
    total = 0
    for month in MONTHS:
        raw = pd.read_csv(REPO / f"data/crime/{month}-humberside-street.csv", dtype=str)
        total += int((raw["LSOA code"].isin(hull) & raw["Crime type"].isin(SERIOUS_VIOLENCE)).sum())
    return total


def test_headline_count_matches_the_raw_csvs(pack, pdf_pages):
    expected = _raw_hull_count()
    assert pack.incidents == expected
    assert f"{expected:,}" in pdf_pages[0]
    # Rate and share printed on page 1 follow from the count.
    assert f"{1000 * expected / pack.population:.1f}" in pdf_pages[0]
    assert f"{100 * expected / pack.humber_incidents:.1f}%" in pdf_pages[0]


def test_pdf_pages_and_text(pack, pdf_pages):
    assert len(pdf_pages) == pack.pages >= 3
    text = "\n".join(pdf_pages)
    assert "Kingston upon Hull, City of" in pdf_pages[0]
    for month in MONTHS:
        assert month in text
    assert "2024-01 to 2024-03" in pdf_pages[0]
    assert "Serious violence (police.uk proxy)" in pdf_pages[0]
    assert "Data to 2024-03" in pdf_pages[0]
    assert "Hotspot 1" in text
    assert "Open Government Licence" in pdf_pages[-1]
    assert "MHCLG" in pdf_pages[-1] and "Office for National Statistics" in pdf_pages[-1]
    assert "Bandwidth 250 m".lower() in pdf_pages[-1].lower()
    assert "domestic-abuse" in pdf_pages[-1]
    # A4 portrait.
    box = pypdf.PdfReader(pack.pdf).pages[0].mediabox
    assert float(box.width) == pytest.approx(595.3, abs=1) and float(box.height) == pytest.approx(841.9, abs=1)


def test_hotspot_one_recounted_from_the_geojson_polygon(pack, pdf_pages):
    collection = json.loads(pack.geojson.read_text())
    features = {f["properties"]["hotspot_id"]: f for f in collection["features"]}
    assert len(features) == pack.hotspots >= 1
    lon, lat = np.asarray(features[1]["geometry"]["coordinates"][0]).T[:2]
    assert (-1.0 < lon.min() < lon.max() < 0.0) and (53.6 < lat.min() < lat.max() < 53.9)  # WGS84
    to_bng = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    polygon = shapely.transform(shapely.geometry.shape(features[1]["geometry"]),
                                lambda c: np.column_stack(to_bng.transform(c[:, 0], c[:, 1])))
    incidents = open_store().query(area_code=HULL, months=MONTHS,
                                   crime_types=sorted(SERIOUS_VIOLENCE), columns=["x", "y"])
    assert len(incidents) == pack.incidents
    inside = int(shapely.intersects_xy(polygon, incidents["x"].to_numpy(),
                                       incidents["y"].to_numpy()).sum())
    assert inside > 0
    table = pd.read_csv(pack.csv)
    assert list(table.columns) == list(HOTSPOT_COLUMNS)
    assert len(table) == pack.hotspots
    assert table.loc[table["hotspot_id"] == 1, "incidents"].item() == inside
    assert features[1]["properties"]["incidents"] == inside
    assert table["incidents"].is_monotonic_decreasing
    page = next(p for p in pdf_pages if "rank 1 of" in p)
    assert "Hotspot 1" in page
    assert re.search(rf"(?<![\d,]){inside:,} \([\d.]+% of the CSP's {pack.incidents:,}\)", page)


def test_hotspots_are_named_by_their_busiest_street_in_every_output(pack, pdf_pages):
    table = pd.read_csv(pack.csv)
    first = table.loc[table["hotspot_id"] == 1].iloc[0]
    # the profile's busiest street; police.uk's kinds of place ("Nightclub", Hull's busiest
    # map point name here) name nothing a meeting can find on a map
    streets = [part.split(" (")[0] for part in first["top_streets"].split("; ")]
    street = next(s for s in streets if is_street(s))
    assert first["name"] == f"Hotspot 1 — {street}" != f"Hotspot 1 — {streets[0]}"
    features = json.loads(pack.geojson.read_text())["features"]
    assert [f["properties"]["name"] for f in features] == table["name"].tolist()
    page = next(p for p in pdf_pages if "rank 1 of" in p)
    assert first["name"] in page          # the hotspot's own page
    assert first["name"] in pdf_pages[1]  # the ranking


def test_cli_takes_the_maps_threshold_method(tmp_path):
    out = tmp_path / "mean"
    assert main(["--area", "hull", "--from", "2024-03", "--to", "2024-03", "--out", str(out),
                 "--threshold-method", "mean_multiple", "--threshold", "4", "--top", "1"]) == 0
    meta = json.loads((out / "hotspots.geojson").read_text())["metadata"]
    assert meta["threshold"] == "density ≥ 4 × the area's mean"
    assert main(["--area", "hull", "--from", "2024-03", "--to", "2024-03", "--out", str(out),
                 "--threshold-method", "top_percent", "--threshold", "120"]) == 2


def test_page1_png_written(pack):
    assert pack.page1_png == ARTIFACT and ARTIFACT.stat().st_size > 50_000
    assert ARTIFACT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_strings_are_plain_text(tmp_path):
    """A street called "$x^2$ Road" is printed as typed, not as mathtext."""
    path = tmp_path / "t.pdf"
    with mpl.rc_context(PLAIN_TEXT_RC), PdfPages(path) as pdf:
        fig = new_page()
        draw_table(fig.add_axes([0.1, 0.5, 0.8, 0.4]), ["Street", "Incidents"],
                   [["$x^2$ Road", 3], [r"\textbf{Lane}", 1]], widths=[0.8, 0.2])
        pdf.savefig(fig)
    text = pypdf.PdfReader(path).pages[0].extract_text()
    assert "$x^2$ Road" in text and r"\textbf{Lane}" in text


@pytest.mark.parametrize("args, message", [
    (["--area", "E06000999"], "Unknown area 'E06000999'"),
    (["--from", "2024-13"], "YYYY-MM"),
    (["--from", "2024-03", "--to", "2024-01"], "is after the last month"),
    (["--from", "2023-01", "--to", "2023-03"], "No stored data for 2023-01 to 2023-03"),
    (["--crime-group", "Knife crime"], "Unknown crime group 'Knife crime'"),
])
def test_cli_refuses_bad_requests_with_exit_2(tmp_path, capsys, args, message):
    base = {"--area": HULL, "--from": "2024-01", "--to": "2024-03", "--out": str(tmp_path)}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = [item for pair in base.items() for item in pair]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "tasking_pack.pdf").exists()


def test_api_raises_tasking_pack_error(tmp_path):
    with pytest.raises(TaskingPackError, match="known groups"):
        build_tasking_pack(HULL, "2024-01", "2024-01", tmp_path, crime_group="nope")
    with pytest.raises(ValueError, match="'top_n' parameter of build_tasking_pack"):
        build_tasking_pack(HULL, "2024-01", "2024-01", tmp_path, top_n=0)


def test_cli_writes_the_three_files(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "reports.tasking_pack", "--area", "hull",
                           "--from", "2024-03", "--to", "2024-03", "--out", str(out),
                           "--top", "2", "--store", str(tmp_path / "store")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("tasking_pack.pdf", "hotspots.geojson", "hotspots.csv"):
        assert (out / name).stat().st_size > 0
        assert str(out / name) in proc.stdout
    assert len(pypdf.PdfReader(out / "tasking_pack.pdf").pages) == 5   # 1 + ranking + 2 + methods
    # (a store of its own: one holding responses would add their pages)


def test_cli_unknown_area_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reports.tasking_pack", "--area", "Atlantis",
                           "--from", "2024-01", "--to", "2024-03", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Unknown area 'Atlantis'" in proc.stderr and "E06000010" in proc.stderr


def test_reports_import_without_ui_packages():
    code = ("import sys\nsys.modules['streamlit'] = None\nsys.modules['pydeck'] = None\n"
            "import reports, reports.pdf, reports.static_map, reports.tasking_pack\n"
            "import reports.pack_pages, reports.pack_files, hotspots.tasking\n"
            "import hotspots.hotspot_profile\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


HOSTILE_LOCATIONS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def test_hotspots_csv_cells_cannot_become_spreadsheet_formulas(tmp_path):
    """police.uk location text that is a formula reaches hotspots.csv as quoted text."""
    from geodata.ingest import ingest_files
    from geodata.store import IncidentStore

    raw = pd.read_csv(REPO / "data/crime/2024-03-humberside-street.csv", dtype=str,
                      keep_default_na=False)
    raw["Location"] = [HOSTILE_LOCATIONS[i % 4] for i in range(len(raw))]
    source = tmp_path / "2024-03-humberside-street.csv"
    raw.to_csv(source, index=False)
    store = IncidentStore(tmp_path / "store")
    assert ingest_files([source], store=store).accepted == len(raw)
    pack = build_tasking_pack(HULL, "2024-03", "2024-03", tmp_path / "pack", store=store,
                              top_n=1)
    import csv as csv_module

    with pack.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv_module.reader(handle))
    assert rows[0] == list(HOTSPOT_COLUMNS)
    top_streets = [row[HOTSPOT_COLUMNS.index("top_streets")] for row in rows[1:]]
    assert top_streets and all(cell.startswith("'") for cell in top_streets)
    assert any(cell.startswith("'=HYPERLINK") for cell in top_streets)
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r":
                float(cell)  # only numbers (a western longitude) may start with a sign
    table = pd.read_csv(pack.csv)
    assert table["centre_lon"].dtype == float and (table["centre_lon"] < 0).all()
    assert table["incidents"].dtype.kind == "i"
