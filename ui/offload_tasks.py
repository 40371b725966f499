"""What the compute process (:mod:`ui.compute_process`) runs besides library analyses.

An analysis together with the map records drawn from it, so that turning its polygons into
lon/lat records (tens of milliseconds for the Humber's predicted cells) is done off the
page's thread too. Imports no Streamlit: the compute process imports this module.
"""

from __future__ import annotations

import pandas as pd
import shapely

from hotspots import pipeline
from hotspots.disclosure import DisclosureRule
from ui.deck import polygon_records


def predicted_with_records(incidents: pd.DataFrame, context: pd.DataFrame, *,
                           study_area: shapely.Geometry, coverage: float,
                           disclosure: DisclosureRule | None = None
                           ) -> tuple[pipeline.PredictedCells, list[dict]]:
    """:func:`hotspots.pipeline.predicted_cells` and its outlines as map records.

    Returns
    -------
    cells : PredictedCells
        As :func:`hotspots.pipeline.predicted_cells` returns them.
    records : list of dict
        :func:`ui.deck.polygon_records` of ``cells.outlines`` with the ``cells`` column.
    """
    cells = pipeline.predicted_cells(incidents, context, study_area=study_area,
                                     coverage=coverage, disclosure=disclosure)
    return cells, polygon_records(cells.outlines, ["cells"])
