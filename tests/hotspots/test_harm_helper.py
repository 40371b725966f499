"""harm_weights: crime types to per-incident weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.harm import harm_weights


def test_harm_weights_maps_types():
    out = harm_weights(pd.Series(["Robbery", "Shoplifting", "Robbery"], dtype="string"),
                       {"Robbery": 390.0, "Shoplifting": 6.0})
    np.testing.assert_array_equal(out, [390.0, 6.0, 390.0])


def test_harm_weights_errors():
    with pytest.raises(ValueError, match=r"without a harm weight: \['Drugs'\]"):
        harm_weights(pd.Series(["Drugs"]), {"Robbery": 1.0})
    with pytest.raises(ValueError, match="missing values"):
        harm_weights(pd.Series(["Robbery", None]), {"Robbery": 1.0})
    with pytest.raises(TypeError, match="'crime_types' parameter of harm_weights"):
        harm_weights(["Robbery"], {"Robbery": 1.0})
    with pytest.raises(TypeError, match="'weights' parameter of harm_weights"):
        harm_weights(pd.Series(["Robbery"]), [1.0])
