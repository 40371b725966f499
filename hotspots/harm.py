"""Per-incident harm weights from crime types (the dashboard's count <-> harm toggle).

Pass the result as ``weights=`` to :func:`hotspots.kde.kernel_density`, or store it in a
``weight`` column for :func:`hotspots.summary.summarise_areas`. The weights themselves (ONS
Crime Severity Score approximations) live in ``config/harm_weights.toml`` and are loaded by
:func:`config.harm.load_harm_weights`; this module takes any mapping so it stays free of I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["harm_weights"]


def harm_weights(crime_types: pd.Series, weights: Mapping[str, float]) -> np.ndarray:
    """Harm weight of each incident from its police.uk crime type.

    Parameters
    ----------
    crime_types : pandas.Series of str, shape (n,)
        ``crime_type`` column of the incidents.  Not modified.
    weights : Mapping[str, float]
        Crime type -> non-negative weight (e.g. ``get_harm_weights().weights``).

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        The weight of each incident (CSS points per record).

    Raises
    ------
    TypeError
        If ``crime_types`` is not a pandas Series or ``weights`` not a mapping.
    ValueError
        If a crime type has no weight (the message lists them) or a value is missing.
    """
    func = "harm_weights"
    if not isinstance(crime_types, pd.Series):
        raise TypeError(f"The 'crime_types' parameter of {func} must be a pandas Series. "
                        f"Got an object of type {type(crime_types).__name__} instead.")
    if not isinstance(weights, Mapping):
        raise TypeError(f"The 'weights' parameter of {func} must be a mapping of crime type to "
                        f"weight. Got an object of type {type(weights).__name__} instead.")
    if crime_types.isna().any():
        raise ValueError(f"The 'crime_types' parameter of {func} must not contain missing "
                         f"values. Got {int(crime_types.isna().sum())} instead.")
    # each distinct crime type looked up once (a dozen types, not every incident)
    codes, types = pd.factorize(crime_types)
    per_type = pd.Series([weights.get(t) for t in types], dtype="float64")
    if per_type.isna().any():
        unknown = sorted(str(t) for t, w in zip(types, per_type) if pd.isna(w))
        raise ValueError(f"The 'crime_types' parameter of {func} holds crime type(s) without a "
                         f"harm weight: {unknown}.")
    return per_type.to_numpy(dtype=np.float64)[codes]
