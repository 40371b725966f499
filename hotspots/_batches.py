"""Vectorised work over many polygons at once: each polygon's candidate points or cells laid
end to end, in batches of bounded size (:mod:`hotspots.summary`, :mod:`hotspots.outlines`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])``, without
    the Python loop (lengths >= 0)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if ends.size else 0) - np.repeat(ends - lengths, lengths) \
        + np.repeat(np.asarray(starts, dtype=np.int64), lengths)


def batches(sizes: np.ndarray, limit: int) -> Iterator[np.ndarray]:
    """Indices of consecutive items, in order, whose `sizes` sum to at most `limit` per
    batch (an item larger than `limit` forms a batch alone)."""
    start, n = 0, len(sizes)
    while start < n:
        stop, total = start + 1, int(sizes[start])
        while stop < n and total + int(sizes[stop]) <= limit:
            total += int(sizes[stop])
            stop += 1
        yield np.arange(start, stop)
        start = stop
