"""Tiny synthetic data sets for the ``hotspots`` tests.

All coordinates are British National Grid (EPSG:27700) metres, placed near
Hull so that they look like real Humber data.

``two_clusters`` (110 incidents, 42 unique locations), built by hand so every
expected label is known:

* Cluster A - 12 map points on a 3 x 4 lattice with 25 m spacing whose
  south-west point is (508000, 429000), 5 incidents at each point: 60
  incidents.  Expected DBSCAN label 0 (the largest cluster).
* Cluster B - 2 km east of A: 10 map points on a 2 x 5 lattice (25 m
  spacing) from (510000, 429000), 3 incidents at each: 30 incidents.
  Expected label 1.
* Noise - 20 single incidents on an outer ring of points, all >= 1500 m
  from each other and >= 2 km from both clusters.  Expected label -1 for
  any eps < 1500 m.

With eps = 200 m and min_samples = 5 every location of A and B is a core
point (A: 5 incidents at the point itself; B: 3 at the point + 3 at a 25 m
neighbour), and no noise point has a neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

A_ORIGIN = (508_000.0, 429_000.0)
B_ORIGIN = (510_000.0, 429_000.0)
SPACING = 25.0


@dataclass(frozen=True)
class Incidents:
    x: np.ndarray
    y: np.ndarray
    expected_labels: np.ndarray  # 0 = cluster A, 1 = cluster B, -1 = noise


def _lattice(origin: tuple[float, float], ncols: int, nrows: int) -> tuple[np.ndarray, np.ndarray]:
    cx = origin[0] + SPACING * np.arange(ncols)
    cy = origin[1] + SPACING * np.arange(nrows)
    gx, gy = np.meshgrid(cx, cy)
    return gx.ravel(), gy.ravel()


def noise_points() -> tuple[np.ndarray, np.ndarray]:
    """20 isolated points: a 4 x 4 lattice with 1500 m spacing plus 4 extras."""
    xs = np.array([505_000.0, 506_500.0, 511_500.0, 513_000.0])
    ys = np.array([426_000.0, 427_500.0, 430_500.0, 432_000.0])
    gx, gy = np.meshgrid(xs, ys)
    extra_x = np.array([509_000.0, 509_000.0, 503_500.0, 514_500.0])
    extra_y = np.array([426_000.0, 432_000.0, 429_000.0, 429_000.0])
    return np.r_[gx.ravel(), extra_x], np.r_[gy.ravel(), extra_y]


def make_two_clusters() -> Incidents:
    ax, ay = _lattice(A_ORIGIN, ncols=3, nrows=4)  # 12 map points
    bx, by = _lattice(B_ORIGIN, ncols=5, nrows=2)  # 10 map points
    nx_, ny_ = noise_points()
    x = np.r_[np.repeat(ax, 5), np.repeat(bx, 3), nx_]
    y = np.r_[np.repeat(ay, 5), np.repeat(by, 3), ny_]
    labels = np.r_[np.zeros(60, int), np.ones(30, int), -np.ones(20, int)]
    return Incidents(x=x, y=y, expected_labels=labels)


@pytest.fixture
def two_clusters() -> Incidents:
    """60 + 30 clustered incidents 2 km apart plus 20 noise incidents (see module doc)."""
    return make_two_clusters()


@pytest.fixture
def kde_points() -> tuple[np.ndarray, np.ndarray]:
    """300 random points for KDE oracle tests: two Gaussian blobs (sd 150 m)
    2 km apart (150 + 100 points) and 50 uniform points over 8 x 6 km."""
    rng = np.random.default_rng(12345)
    x = np.r_[rng.normal(508_000, 150, 150), rng.normal(510_000, 150, 100), rng.uniform(505_000, 513_000, 50)]
    y = np.r_[rng.normal(429_000, 150, 150), rng.normal(429_000, 150, 100), rng.uniform(426_000, 432_000, 50)]
    return x, y


def make_repeated_points(
    seed: int, n: int = 600, n_locations: int = 80
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` incidents snapped to ``n_locations`` random map points (heavy repeats).

    Map points are scattered (sd 300 m) around three centres near Hull and
    rounded to whole metres; incident counts per point are Pareto-distributed
    like police.uk data, so a few points hold many incidents.
    """
    rng = np.random.default_rng(seed)
    centres = np.array([[508_000.0, 429_000.0], [510_000.0, 429_500.0], [509_000.0, 427_000.0]])
    which = rng.integers(0, 3, n_locations)
    lx = np.round(rng.normal(centres[which, 0], 300.0))
    ly = np.round(rng.normal(centres[which, 1], 300.0))
    p = rng.pareto(1.5, n_locations) + 1.0
    idx = rng.choice(n_locations, size=n, p=p / p.sum())
    return lx[idx], ly[idx]


@pytest.fixture
def lsoa_table() -> pd.DataFrame:
    """Eight Hull LSOAs with their IMD 2019 style deciles (1 = most deprived)."""
    return pd.DataFrame(
        {
            "lsoa21cd": [f"E0100{i:04d}" for i in range(1, 9)],
            "lsoa21nm": [f"Kingston upon Hull 0{i:02d}A" for i in range(1, 9)],
            "imd_decile": [1, 1, 2, 4, 3, 7, 9, 10],
        }
    )


@pytest.fixture
def repeated_points():
    """Factory ``repeated_points(seed, n=600, n_locations=80) -> (x, y)``."""
    return make_repeated_points
