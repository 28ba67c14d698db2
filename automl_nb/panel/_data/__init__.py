"""What the panel shows, as pure functions of a :class:`~automl_nb.record.SearchRecord`.

Each function reads a record and returns plain values (NamedTuples, dicts, tuples):
no plotly, no widgets, no clock unless one is passed in. The live charts in
:mod:`automl_nb.panel.figures`, the trial table and any static export consume the
same data, so tests assert on what a chart shows without drawing it (the split
Optuna's ``visualization`` package makes between ``_get_*_info`` and ``_get_*_plot``).

- :mod:`.charts`: the objective per trial, learning curves, parallel coordinates (and what
  each chart draws whole: :func:`objective_chart`, :func:`curves_chart`,
  :func:`parallel_chart`, the data functions of the chart registry, ``panel/registry.py``);
- :mod:`.importance`: hyperparameter importance;
- :mod:`.status`: the status line, the header, the table's rows, the best card;
- :mod:`.space`: the hyperparameters as the others see them.
"""

from __future__ import annotations

from ...record import finite
from .charts import (
    Curve,
    CurvesChart,
    CurveStyle,
    Dimension,
    HistoryPoint,
    ObjectiveChart,
    ParallelChart,
    ParallelCoordinates,
    best_trial_ids,
    curve_style,
    curves_chart,
    learning_curves,
    objective_chart,
    objective_history,
    parallel_chart,
    parallel_coordinates_data,
    trial_curve,
    visible_curve_ids,
)
from .importance import (
    IMPORTANCE_METHOD,
    Importance,
    eta_squared,
    importance,
    importance_details,
    rank,
    spearman,
)
from .space import FINISHED, kind_of, plain, searchable_names, space_of, value_key
from .status import (
    BestInfo,
    HeaderInfo,
    RunningTrial,
    StatusInfo,
    best_info,
    budget_text,
    data_text,
    header_info,
    main_hyperparameters,
    status_info,
    status_text,
    table_row,
    table_rows,
)

__all__ = [
    "FINISHED",
    "IMPORTANCE_METHOD",
    "BestInfo",
    "Curve",
    "CurveStyle",
    "CurvesChart",
    "Dimension",
    "HeaderInfo",
    "HistoryPoint",
    "Importance",
    "ObjectiveChart",
    "ParallelChart",
    "ParallelCoordinates",
    "RunningTrial",
    "StatusInfo",
    "best_info",
    "best_trial_ids",
    "budget_text",
    "curve_style",
    "curves_chart",
    "data_text",
    "eta_squared",
    "finite",
    "header_info",
    "importance",
    "importance_details",
    "kind_of",
    "learning_curves",
    "main_hyperparameters",
    "objective_chart",
    "objective_history",
    "parallel_chart",
    "parallel_coordinates_data",
    "plain",
    "rank",
    "searchable_names",
    "space_of",
    "spearman",
    "status_info",
    "status_text",
    "table_row",
    "table_rows",
    "trial_curve",
    "value_key",
    "visible_curve_ids",
]
