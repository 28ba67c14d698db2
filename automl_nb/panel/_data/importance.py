"""(d) Hyperparameter importance, as data: how much each hyperparameter goes with the score.

A correlation over the trials so far (Spearman ρ² for numbers, η² for choices), numpy only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ...record import SCORED, SearchRecord, finite
from .space import kind_of, searchable_names, space_of, value_key

IMPORTANCE_METHOD = (
    "share of the score's rank variance each hyperparameter explains on its own: "
    "Spearman ρ² for numbers, η² (between-group variance of score ranks) for choices; "
    "normalised to sum to 1. A correlation over the trials so far, not a causal effect."
)


class Importance(NamedTuple):
    """How much one hyperparameter goes with the score."""

    name: str
    method: str  #: "spearman" (numeric) or "eta2" (choice, boolean)
    raw: float  #: ρ² or η², in [0, 1]
    share: float  #: raw / sum of raws
    n: int  #: trials it was computed on


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks from 0 with ties given their average rank (numpy only)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    return (starts + (counts - 1) / 2.0)[inverse.reshape(-1)]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; 0 when either side is constant."""
    rx, ry = rank(x), rank(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    return float((rx * ry).sum()) / denom if denom > 0 else 0.0


def eta_squared(groups: list[Any], y: np.ndarray) -> float:
    """Between-group share of the variance of ``y`` (η²); 0 when ``y`` is constant."""
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    keys = [value_key(g) for g in groups]
    between = 0.0
    for key in set(keys):
        members = y[[k == key for k in keys]]
        between += len(members) * (float(members.mean()) - float(y.mean())) ** 2
    return between / total


def importance_details(record: SearchRecord, min_trials: int = 3) -> list[Importance]:
    """Importance of each hyperparameter, most important first (see :data:`IMPORTANCE_METHOD`).

    Computed over scored trials that set the hyperparameter; a hyperparameter
    with fewer than ``min_trials`` such trials, or a single value, is left out.
    """
    trials = [
        t for t in record.trials.values() if t.status in SCORED and finite(t.score) is not None
    ]
    specs = {s.get("name"): s for s in space_of(record)}
    raws: list[tuple[str, str, float, int]] = []
    for name in searchable_names(record):
        pairs = [(t.hyperparameters.get(name), finite(t.score)) for t in trials]
        pairs = [(v, s) for v, s in pairs if v is not None]
        if len(pairs) < min_trials:
            continue
        values = [v for v, _ in pairs]
        score_ranks = rank(np.array([s for _, s in pairs], dtype=float))
        kind = kind_of(specs.get(name), values)
        if kind in ("choice", "boolean"):
            distinct = {value_key(v) for v in values}
            if len(distinct) < 2 or len(pairs) < len(distinct) + 1:
                continue
            raws.append((name, "eta2", eta_squared(values, score_ranks), len(pairs)))
        else:
            x = np.array([finite(v) if finite(v) is not None else np.nan for v in values])
            keep = ~np.isnan(x)
            if keep.sum() < min_trials or len(set(x[keep].tolist())) < 2:
                continue
            rho = spearman(x[keep], score_ranks[keep])
            raws.append((name, "spearman", rho * rho, int(keep.sum())))
    total = sum(r for _, _, r, _ in raws)
    out = [Importance(n, m, r, (r / total) if total > 0 else 0.0, k) for n, m, r, k in raws]
    out.sort(key=lambda i: (-i.share, i.name))
    return out


def importance(record: SearchRecord) -> dict[str, float]:
    """``{hyperparameter: share}``, most important first; shares sum to 1 (or are all 0)."""
    return {i.name: i.share for i in importance_details(record)}
