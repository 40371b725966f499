"""Helpers that lay many polygons' candidates end to end, in batches of bounded size."""

from __future__ import annotations

import numpy as np

from hotspots._batches import batches, concatenated_ranges


def test_concatenated_ranges_equals_the_loop():
    starts, lengths = np.array([5, 0, 9, 2]), np.array([3, 0, 1, 4])
    expected = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])
    np.testing.assert_array_equal(concatenated_ranges(starts, lengths), expected)
    assert concatenated_ranges(np.array([]), np.array([])).size == 0


def test_batches_keep_order_and_bound_their_size():
    sizes = np.array([3, 4, 10, 1, 1, 0, 6])
    got = [b.tolist() for b in batches(sizes, 7)]
    assert got == [[0, 1], [2], [3, 4, 5], [6]]  # 10 > 7 alone; then 1 + 1 + 0 (+ 6 > 7)
    assert list(batches(np.array([], dtype=int), 7)) == []
    assert [b.tolist() for b in batches(sizes, 0)] == [[i] for i in range(7)]
