"""The attack on smoothed surfaces, on the shipped data: decode the image an aggregate-only
role receives, take its peaks, and look for isolated incidents under them.

An isolated incident has no other incident within 500 m. Without disclosure control a
peak sits within ~15 m of every one of them (checked below, so the attack is real); with
it, no peak is within 250 m, at the smallest bandwidth and cell size the sliders allow and
at the defaults, for every CSP, the Humber, every crime group and several month ranges.
"""

from __future__ import annotations

import numpy as np
import pytest

from config import get_config
from geodata.ingest import open_store
from geodata.reference import load_lsoa_table
from hotspots import pipeline
from hotspots.disclosure import DisclosureRule, protect_surface, surface_incidents
from hotspots.kde import kernel_density
from hotspots.risk import risk_surface
from tests.support.attacker import images_in, isolated, nearest_peak_distance, peaks_bng
from ui import deck

RULE = DisclosureRule()
MONTHS = [("2024-01", "2024-02", "2024-03"), ("2024-03",)]


@pytest.fixture(scope="module")
def shipped():
    return open_store().query(), load_lsoa_table()


def _image_peaks(values, bounds, ramp=deck.DENSITY_RAMP) -> np.ndarray:
    image = deck.density_image(values, bounds, ramp=ramp)
    blob = f'{{"image": "{image.data_url}", "bounds": {image.corners}}}'.encode()
    (rgba, corners), = images_in(blob)
    return peaks_bng(rgba, corners)


def _selections(incidents):
    config = get_config()
    for group in config.crime_groups:
        for months in MONTHS:
            for code in (None, *config.area_codes):
                chosen = pipeline.select_incidents(incidents, area_code=code, months=months,
                                                   crime_types=group.types)
                x, y = chosen["x"].to_numpy(float), chosen["y"].to_numpy(float)
                alone = isolated(x, y)
                if alone.any():
                    yield f"{group.name} {months[0]}+{len(months)} {code}", code, x, y, alone


def test_without_control_every_isolated_incident_has_a_peak_on_it(shipped):
    incidents, lsoas = shipped
    name, code, x, y, alone = next(s for s in _selections(incidents) if "E06000010" in s[0])
    bounds = tuple(pipeline.study_area(lsoas, code).bounds)
    surface = kernel_density(x, y, bandwidth=50, cell_size=25, bounds=bounds)
    distances = nearest_peak_distance(np.column_stack([x[alone], y[alone]]),
                                      _image_peaks(surface.density, surface.grid.bounds))
    assert distances.max() < 40, name  # the attack of the issue: peaks within ~10-15 m


@pytest.mark.parametrize("bandwidth, cell_size", [(50.0, 25.0), (250.0, 100.0)])
def test_no_isolated_incident_has_a_density_peak_within_250_m(shipped, bandwidth, cell_size):
    incidents, lsoas = shipped
    checked, nearest = 0, np.inf
    for name, code, x, y, alone in _selections(incidents):
        bounds = tuple(pipeline.study_area(lsoas, code).bounds)
        surface = pipeline.protected_density(x, y, RULE, bandwidth=bandwidth,
                                             cell_size=cell_size, bounds=bounds)
        assert surface.bandwidth >= RULE.min_bandwidth_m
        assert surface.grid.cell_size >= RULE.min_cell_m
        found = _image_peaks(surface.density, surface.grid.bounds)
        distances = nearest_peak_distance(np.column_stack([x[alone], y[alone]]), found)
        assert distances.min() > 250, (name, distances.min())
        checked += int(alone.sum())
        nearest = min(nearest, distances.min())
    assert checked > 1000  # the shipped data has many isolated incidents to attack


def test_no_isolated_incident_has_a_risk_peak_within_250_m(shipped):
    incidents, lsoas = shipped
    for name, code, x, y, alone in _selections(incidents):
        if code is None:
            continue
        keep = surface_incidents(x, y, RULE)
        risk = risk_surface(x[keep], y[keep], pipeline.area_lsoas(lsoas, code),
                            bandwidth=RULE.bandwidth(50), cell_size=RULE.cell_size(25))
        rate = protect_surface(risk.rate_per_1000, risk.grid, x[keep], y[keep], RULE)
        found = _image_peaks(rate, risk.grid.bounds, ramp=deck.RISK_RAMP)
        distances = nearest_peak_distance(np.column_stack([x[alone], y[alone]]), found)
        assert distances.min() > 250, (name, distances.min())
