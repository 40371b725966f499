"""The top cells of a large grid: the k-th largest score found without a full partition."""

from __future__ import annotations

import numpy as np
import pytest

from hotspots.coverage import _kth_largest, top_cell_count, top_cells


def _grids(n: int, rng) -> dict[str, np.ndarray]:
    ties = rng.integers(0, 5, n).astype(float)
    return {
        "continuous": rng.gamma(0.3, size=n),
        "mostly empty": np.where(rng.random(n) < 0.95, 0.0, rng.random(n)),
        "mostly empty, few levels": np.where(rng.random(n) < 0.9, 0.0,
                                             rng.integers(1, 4, n).astype(float)),
        "sorted (a biased sample)": np.sort(rng.random(n)),
        "reverse sorted": np.sort(rng.random(n))[::-1].copy(),
        "all tied": np.full(n, 3.0),
        "ties and -inf": np.where(rng.random(n) < 0.5, -np.inf, ties),
    }


@pytest.mark.parametrize("n", [999, 250_000, 1_000_003])
def test_kth_largest_equals_a_full_partition(n):
    rng = np.random.default_rng(n)
    for name, values in _grids(n, rng).items():
        for k in sorted({1, 17, n // 100, n // 50, n // 20, n // 12, n // 8, n // 2, n}):
            k = max(1, k)
            assert _kth_largest(values, k) == float(np.partition(values, n - k)[n - k]), \
                (name, k)


def test_top_cells_selects_exactly_the_coverage_of_a_large_grid():
    values = np.random.default_rng(1).gamma(0.3, size=2_000_000)
    chosen = top_cells(values, 2.0)
    k = top_cell_count(values.size, 2.0)
    assert chosen.sum() == k
    assert values[chosen].min() >= values[~chosen].max()
