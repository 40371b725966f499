"""Street names for the map without a basemap: one label per street at a police.uk map point.

police.uk snaps every incident to an anonymous map point and names it ("On or near Newland
Avenue"). Those names, taken from *every* stored incident (all months, all crime types, not
the selection on screen), give the map its street context offline. A street is the set of
distinct map points recorded under one name that lie within ``link_m`` of each other (so the
many "High Street"s of a county stay apart and one long road gets one label); its label sits at
the map point nearest the middle of those points. A label says only that police.uk has a map
point on that street, not how many incidents, nor in which months. Everything is in
EPSG:27700 metres; ``lon``/``lat`` are added for drawing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import radius_neighbors_graph

from geodata.crs import bng_to_lonlat
from geodata.places import _NOT_STREETS, street_name

__all__ = ["LABEL_COLUMNS", "street_labels"]

#: Columns of :func:`street_labels`.
LABEL_COLUMNS = ["name", "x", "y", "lon", "lat", "points"]


def _check(incidents: pd.DataFrame, link_m: float) -> None:
    if not isinstance(incidents, pd.DataFrame):
        raise TypeError(f"'incidents' should be a pandas DataFrame, got {type(incidents)}")
    missing = {"location", "x", "y"} - set(incidents.columns)
    if missing:
        raise ValueError(f"'incidents' needs the columns location, x, y (EPSG:27700 metres); "
                         f"missing {sorted(missing)}")
    if not (isinstance(link_m, (int, float)) and np.isfinite(link_m) and link_m > 0):
        raise ValueError(f"The 'link_m' parameter must be a positive number of metres. "
                         f"Got {link_m!r} instead.")


def street_labels(incidents: pd.DataFrame, *, link_m: float = 400.0) -> pd.DataFrame:
    """One label per street: its name at a representative police.uk map point.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``location`` (police.uk text, "On or near X") and ``x``, ``y`` (EPSG:27700 metres)
        of the stored incidents. Only distinct (name, map point) pairs are used, so counts
        never reach the labels. Generic names ("Parking Area", "Supermarket" …) are left out.
    link_m : float, default 400
        Map points of the same name closer than this (metres, chained) belong to one
        street; farther groups are separate streets with separate labels.

    Returns
    -------
    pandas.DataFrame
        :data:`LABEL_COLUMNS`: ``name``, the label's map point ``x``, ``y`` (EPSG:27700)
        and ``lon``, ``lat`` (WGS84), and ``points``, the street's distinct map points.
        Sorted by ``points`` (longest streets first), then name.
    """
    _check(incidents, link_m)
    frame = pd.DataFrame({"name": incidents["location"].map(street_name),
                          "x": pd.to_numeric(incidents["x"], errors="coerce"),
                          "y": pd.to_numeric(incidents["y"], errors="coerce")})
    frame = frame[~frame["name"].str.lower().isin(_NOT_STREETS)
                  & np.isfinite(frame["x"]) & np.isfinite(frame["y"])]
    frame = frame.drop_duplicates(["name", "x", "y"]).reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="string" if c == "name" else float)
                             for c in LABEL_COLUMNS})
    # Points of different names must never link: each name sits on its own far-apart plane.
    code = frame["name"].astype("category").cat.codes.to_numpy(float)
    features = np.column_stack([frame["x"], frame["y"], code * 1e7])
    graph = radius_neighbors_graph(features, radius=link_m, mode="connectivity")
    _, street = connected_components(graph, directed=False)
    frame["street"] = street
    centre = frame.groupby("street")[["x", "y"]].transform("mean")
    frame["_d"] = np.hypot(frame["x"] - centre["x"], frame["y"] - centre["y"])
    frame["points"] = frame.groupby("street")["x"].transform("size")
    chosen = frame.sort_values(["street", "_d", "x", "y"]).drop_duplicates("street")
    lon, lat = bng_to_lonlat(chosen["x"].to_numpy(), chosen["y"].to_numpy())
    labels = pd.DataFrame({"name": chosen["name"].astype("string").to_numpy(),
                           "x": chosen["x"].to_numpy(float), "y": chosen["y"].to_numpy(float),
                           "lon": np.asarray(lon, float), "lat": np.asarray(lat, float),
                           "points": chosen["points"].to_numpy(int)})
    return labels.sort_values(["points", "name"], ascending=[False, True],
                              ignore_index=True)
