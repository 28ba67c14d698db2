"""What the teaching views show, as pure data: plain dicts, lists and tuples, no UI.

- :mod:`.hyperband`: :func:`hyperband_diagram`, Hyperband's brackets and rounds, each
  trial a mark with its epoch budget and its fate, plus sentences written from the
  actual numbers (a record only: live, reopened and replayed searches, no TensorFlow);
- :mod:`.bayesian`: :func:`bayesian_surrogate`, the Bayesian oracle's Gaussian process
  along one hyperparameter, its acquisition function and the point it will try next,
  computed from KerasTuner's own oracle state and never mutating it;
- :mod:`.sampled`: :func:`sampled_points` (the points a search tried over two
  hyperparameters), :func:`best_so_far` and :func:`comparison_data` (the best score so far
  against running time and trial count, for one search or several).

The panel's views (:mod:`automl_nb.panel.teaching_tab`), :func:`automl_nb.compare` and any
static export draw these; tests assert on them without drawing anything.
"""

from __future__ import annotations

from .bayesian import BayesianState, bayesian_state, bayesian_surrogate
from .hyperband import hyperband_brackets, hyperband_diagram, hyperband_epochs, hyperband_size
from .sampled import GAP_CAP_S, BestPoint, axis_names, best_so_far, comparison_data, sampled_points

__all__ = [
    "GAP_CAP_S",
    "BayesianState",
    "BestPoint",
    "axis_names",
    "bayesian_state",
    "bayesian_surrogate",
    "best_so_far",
    "comparison_data",
    "hyperband_brackets",
    "hyperband_diagram",
    "hyperband_epochs",
    "hyperband_size",
    "sampled_points",
]
