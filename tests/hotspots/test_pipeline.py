"""From selected incidents to a map page's hotspots and clusters, on the synthetic toy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.pipeline import cluster_analysis, hotspot_analysis, select_incidents


@pytest.fixture
def incidents(two_clusters, lsoa_table) -> pd.DataFrame:
    """The two-cluster toy as an incident frame: A in LSOA 1, B in LSOA 2, noise in LSOA 8."""
    labels = two_clusters.expected_labels
    lsoa = np.where(labels == 0, "E01000001", np.where(labels == 1, "E01000002", "E01000008"))
    return pd.DataFrame({"x": two_clusters.x, "y": two_clusters.y, "lsoa21cd": lsoa,
                         "crime_type": np.where(labels == 1, "Robbery",
                                                "Violence and sexual offences")})


STUDY_AREA = shapely.box(502_000, 424_000, 516_000, 434_000)


def test_hotspot_analysis_finds_both_clusters_and_ranks_them(incidents, lsoa_table):
    result = hotspot_analysis(incidents, study_area=STUDY_AREA, lsoas=lsoa_table,
                              bandwidth=100.0, cell_size=25.0, threshold_method="mean_multiple",
                              threshold_value=20.0)
    assert result.n_incidents == 110
    # The surface integrates to the incident count.
    assert result.surface.density.sum() * result.surface.grid.cell_area_km2 == pytest.approx(110)
    table = result.table
    assert table["hotspot_id"].tolist()[:2] == [1, 2]
    assert table["incidents"].tolist()[:2] == [60, 30]   # A, then B; noise is in no hotspot
    assert table.loc[0, "lsoa_names"] == "Kingston upon Hull 001A"
    assert table.loc[1, "crime_mix"] == "Robbery 100%"
    assert table.loc[1, "imd_deciles"] == "1"
    assert set(result.outlines["hotspot_id"]) == set(table["hotspot_id"])
    assert result.outlines.crs.to_epsg() == 27700
    assert result.threshold == pytest.approx(
        20.0 * result.surface.density[_mask(result.surface)].mean())


def _mask(surface):
    from hotspots.grid import cells_within
    return cells_within(surface.grid, STUDY_AREA)


def test_top_percent_threshold_covers_about_that_share_of_the_area(incidents, lsoa_table):
    result = hotspot_analysis(incidents, study_area=STUDY_AREA, lsoas=lsoa_table,
                              bandwidth=100.0, cell_size=25.0, threshold_method="top_percent",
                              threshold_value=0.5)
    # 0.5% of the 140 km² box is 0.7 km²; contouring through cell centres trims a little.
    assert result.outlines.geometry.area.sum() / 1e6 == pytest.approx(0.7, rel=0.15)


def test_empty_selection_gives_no_hotspots(incidents, lsoa_table):
    result = hotspot_analysis(incidents.iloc[0:0], study_area=STUDY_AREA, lsoas=lsoa_table,
                              bandwidth=100.0, cell_size=50.0, threshold_method="top_percent",
                              threshold_value=2.0)
    assert result.outlines.empty and result.table.empty and result.n_incidents == 0


def test_bad_threshold_method_is_refused(incidents, lsoa_table):
    with pytest.raises(ValueError, match=r"'threshold_method' parameter of hotspot_analysis "
                                         r"must be one of \['mean_multiple', 'top_percent'\]"):
        hotspot_analysis(incidents, study_area=STUDY_AREA, lsoas=lsoa_table, bandwidth=100.0,
                         cell_size=25.0, threshold_method="top", threshold_value=1.0)


def test_cluster_analysis_ranks_clusters_from_one(incidents, lsoa_table):
    result = cluster_analysis(incidents, lsoas=lsoa_table, eps=200.0, min_samples=5,
                              max_memory_mb=1024.0)
    assert result.message is None
    assert result.table["cluster_id"].tolist() == [1, 2]
    assert result.table["incidents"].tolist() == [60, 30]
    assert result.outlines["cluster_id"].tolist() == [1, 2]
    assert result.result.n_noise == 20


def test_cluster_analysis_refuses_a_radius_that_would_not_fit(incidents, lsoa_table):
    result = cluster_analysis(incidents, lsoas=lsoa_table, eps=5_000.0, min_samples=5,
                              max_memory_mb=1e-5)
    assert result.result is None and result.table.empty
    assert "max_memory_mb" in result.message and "eps=" in result.message


def test_select_incidents_filters_area_months_and_types():
    frame = pd.DataFrame({"in_area": [True, True, True, False],
                          "lad_code": pd.array(["E1", "E1", "E2", None], dtype="string"),
                          "month": ["2024-01", "2024-02", "2024-01", "2024-01"],
                          "crime_type": ["Robbery", "Robbery", "Robbery", "Robbery"]})
    chosen = select_incidents(frame, area_code="E1", months=["2024-01"], crime_types=["Robbery"])
    assert len(chosen) == 1
    everywhere = select_incidents(frame, area_code=None, months=["2024-01"],
                                  crime_types=["Robbery"])
    assert len(everywhere) == 2  # the row outside the Humber area is never selected


def test_protected_clusters_do_not_move_when_eps_reaches_an_isolated_incident():
    """The reviewer's attack: set min_samples 1 and eps just below / above an isolated
    incident's distance to a cluster; nothing a partner receives may change."""
    from hotspots.disclosure import DisclosureRule
    from hotspots.pipeline import cluster_analysis

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 60, 40), [1103.0 + 150.0]])
    y = np.concatenate([rng.normal(0, 60, 40), [0.0]])
    incidents = pd.DataFrame({"x": x, "y": y, "crime_type": ["Robbery"] * 41,
                              "lsoa21cd": ["E01000001"] * 40 + ["E01000002"]})
    lsoas = pd.DataFrame({"lsoa21cd": ["E01000001", "E01000002"],
                          "lsoa21nm": ["Alpha 001A", "Beta 002B"], "imd_decile": [2, 7]})
    gap = np.min(np.hypot(x[:40] - x[40], y[:40] - y[40]))
    rule = DisclosureRule()
    shown = []
    for eps in (gap - 0.5, gap + 0.5):
        result = cluster_analysis(incidents, lsoas=lsoas, eps=eps, min_samples=1,
                                  max_memory_mb=512.0, disclosure=rule)
        assert result.result.min_samples >= rule.threshold  # the floor holds on the server
        shown.append((result.table.drop(columns=["area_km2"]).to_dict("records"),
                      result.outlines.geometry.to_wkt().tolist()))
    assert shown[0] == shown[1]
    assert "Beta" not in shown[1][0][0]["lsoa_names"] and "7" not in shown[1][0][0]["imd_deciles"]
    unprotected = cluster_analysis(incidents, lsoas=lsoas, eps=gap + 0.5, min_samples=1,
                                   max_memory_mb=512.0)
    assert "Beta" in unprotected.table["lsoa_names"].iloc[0]  # the attack works without it


def test_a_change_is_measured_only_against_the_contiguous_period_just_before():
    from hotspots.pipeline import (
        calendar_months,
        comparable_previous_period,
        contiguous_runs,
        latest_contiguous,
    )

    shipped = ["2022-01", "2024-01", "2024-02", "2024-03"]
    # 2024-01..03 against the one stored month 2022-01 showed +126% to +400%: no longer
    before, reason = comparable_previous_period(["2024-01", "2024-02", "2024-03"], shipped)
    assert before == () and "2023-10 to 2023-12" in reason and "not all stored" in reason
    before, reason = comparable_previous_period(["2024-02", "2024-03"], shipped)
    assert before == () and "2023-12 to 2024-01" in reason  # half of it stored is not enough
    before, reason = comparable_previous_period(["2024-03"], shipped)
    assert before == ("2024-02",) and reason == "Compared with 2024-02, the 1 month(s) just before."
    before, reason = comparable_previous_period(["2024-02", "2024-03"],
                                                [*shipped, "2023-12"])
    assert before == ("2023-12", "2024-01")
    before, reason = comparable_previous_period(["2022-01", "2024-01"], shipped)
    assert before == () and "not contiguous" in reason and "e.g. 2022-02" in reason
    assert calendar_months("2023-11", "2024-02") == ("2023-11", "2023-12", "2024-01", "2024-02")
    assert contiguous_runs(shipped) == [("2022-01",), ("2024-01", "2024-02", "2024-03")]
    assert latest_contiguous(shipped) == ("2024-01", "2024-02", "2024-03")
    assert latest_contiguous(["2024-01", "2024-03"]) == ("2024-03",)
    with pytest.raises(ValueError, match="A month must be written YYYY-MM"):
        calendar_months("2024-13", "2024-14")


def test_no_hotspot_of_zero_incidents_is_listed_on_the_shipped_data():
    """Hull's hotspots 16-18 held no incident (contours raised by incidents just outside)."""
    from config import get_config
    from geodata.incidents import load_incidents
    from geodata.paths import shipped_crime_files
    from geodata.reference import load_lsoa11_lookup, load_lsoa_table
    from hotspots.pipeline import study_area

    lsoas = load_lsoa_table()
    types = {t for g in get_config().crime_groups for t in g.types}
    incidents = select_incidents(
        load_incidents([p for p in shipped_crime_files() if "2024-" in p.name], lsoas=lsoas,
                       lookup=load_lsoa11_lookup(), known_crime_types=types).accepted,
        area_code="E06000010", months=["2024-01", "2024-02", "2024-03"],
        crime_types=get_config().crime_group("Serious violence (police.uk proxy)").types)
    analysis = hotspot_analysis(incidents, study_area=study_area(lsoas, "E06000010"),
                                lsoas=lsoas, bandwidth=100.0, cell_size=100.0,
                                threshold_method="top_percent", threshold_value=2.0)
    assert len(analysis.table) > 5
    assert (analysis.table["incidents"] > 0).all()
    assert analysis.table["hotspot_id"].tolist() == list(range(1, len(analysis.table) + 1))
    assert len(analysis.outlines) == len(analysis.table)
