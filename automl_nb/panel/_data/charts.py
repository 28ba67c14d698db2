"""What the panel's charts show, as pure functions of a :class:`~automl_nb.record.SearchRecord`:
(a) the objective per trial, (b) learning curves, (c) parallel coordinates.

Each returns plain values (NamedTuples, tuples): no plotly, no widgets.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ...record import SCORED, SearchRecord, TrialRecord, better, finite
from ...status import TrialStatus
from .axes import log_ticks
from .space import kind_of, searchable_names, space_of, value_key

# -- (a) the objective per trial --------------------------------------------------------


class HistoryPoint(NamedTuple):
    """One finished trial on the objective-per-trial chart."""

    order: int  #: 1-based position of the trial in start order (the x axis)
    trial_id: str
    status: str
    score: float
    best_so_far: float
    is_best: bool  #: this trial set a new best when it ended


def objective_history(record: SearchRecord) -> list[HistoryPoint]:
    """Finished trials with a score, in start order, with the best score so far."""
    out: list[HistoryPoint] = []
    best: float | None = None
    for order, trial in enumerate(record.trials.values(), start=1):
        if trial.status not in SCORED:
            continue
        score = finite(trial.score)
        if score is None:
            continue
        new = better(score, best, record.direction)
        if new:
            best = score
        assert best is not None
        out.append(HistoryPoint(order, trial.trial_id, trial.status, score, best, new))
    return out


# -- (b) learning curves -----------------------------------------------------------------


class Curve(NamedTuple):
    """The validation objective of one trial per absolute epoch."""

    trial_id: str
    status: str
    parent_id: str | None
    epochs: tuple[int, ...]
    values: tuple[float, ...]
    joined: bool  #: the first point is the parent's (a promotion or a Hyperband round)


def _anchor(parent: TrialRecord, initial_epoch: int, objective: str) -> tuple[int, float] | None:
    """The parent's point a continued curve starts from: its value at ``initial_epoch``."""
    points = [(e, v) for e, v in parent.objective_curve(objective) if finite(v) is not None]
    if not points:
        return None
    for e, v in points:
        if e == initial_epoch:
            return e, float(v)
    before = [(e, v) for e, v in points if e <= initial_epoch]
    e, v = (before or points)[-1]
    return e, float(v)


def trial_curve(record: SearchRecord, trial_id: str, objective: str | None = None) -> Curve:
    """One trial's curve; a trial that continues a parent starts at the parent's point."""
    objective = objective or record.objective or ""
    trial = record.trials[trial_id]
    xs: list[int] = []
    ys: list[float] = []
    joined = False
    for epoch, metrics in trial.curve:
        value = finite(metrics.get(objective))
        if value is not None:
            xs.append(int(epoch))
            ys.append(value)
    parent = record.trials.get(trial.parent_id) if trial.parent_id else None
    if parent is not None and objective:
        anchor = _anchor(parent, trial.initial_epoch, objective)
        if anchor is not None and (not xs or anchor[0] < xs[0]):
            xs.insert(0, anchor[0])
            ys.insert(0, anchor[1])
            joined = True
    return Curve(trial.trial_id, trial.status, trial.parent_id, tuple(xs), tuple(ys), joined)


def learning_curves(
    record: SearchRecord, objective: str | None = None, trial_ids: list[str] | None = None
) -> list[Curve]:
    """Curves of ``trial_ids`` (every trial by default), in start order."""
    ids = list(record.trials) if trial_ids is None else trial_ids
    return [trial_curve(record, tid, objective) for tid in ids if tid in record.trials]


def best_trial_ids(record: SearchRecord, k: int) -> list[str]:
    """The ``k`` best scored trials, best first (ties keep start order)."""
    scored = [
        (finite(t.score), i, t.trial_id)
        for i, t in enumerate(record.trials.values())
        if t.status in SCORED and finite(t.score) is not None
    ]
    sign = -1.0 if record.direction == "max" else 1.0
    scored.sort(key=lambda s: (sign * s[0], s[1]))  # type: ignore[operator]
    return [tid for _, _, tid in scored[:k]]


def visible_curve_ids(record: SearchRecord, limit: int = 40, keep_best: int = 5) -> list[str]:
    """Which trials the learning-curves chart draws, in start order.

    All of them while there are at most ``limit``; past that, the running trials,
    the ``keep_best`` best ones, and the most recent to fill up to ``limit``.
    """
    ids = list(record.trials)
    if len(ids) <= limit:
        return ids
    keep = [t.trial_id for t in record.trials.values() if t.status == TrialStatus.RUNNING]
    keep += [tid for tid in best_trial_ids(record, keep_best) if tid not in keep]
    chosen = set(keep[:limit])
    for tid in reversed(ids):
        if len(chosen) >= limit:
            break
        chosen.add(tid)
    return [tid for tid in ids if tid in chosen]


class CurveStyle(NamedTuple):
    """How a curve is drawn: the running trials and the best stand out (and are named in
    the legend), the other finished ones are thin and faint; pruned ones are dashed."""

    width: float
    dash: str
    opacity: float
    #: running (the status), "best" or "finished": its colour, whether the legend names it
    role: str


DASHES = {TrialStatus.PRUNED: "dash", TrialStatus.STOPPED: "dashdot", TrialStatus.FAILED: "dot"}


def curve_style(status: str, is_best: bool = False) -> CurveStyle:
    """The line style of a trial's curve from its status and whether it is the best."""
    dash = DASHES.get(status, "solid")
    if status == TrialStatus.RUNNING:
        return CurveStyle(3.0, "solid", 1.0, TrialStatus.RUNNING)
    if is_best:
        return CurveStyle(3.0, dash, 1.0, "best")
    if status == TrialStatus.FAILED:
        return CurveStyle(1.0, dash, 0.35, "finished")
    return CurveStyle(1.2, dash, 0.5, "finished")


# -- (c) parallel coordinates ----------------------------------------------------------


class Dimension(NamedTuple):
    """One axis of the parallel-coordinates chart."""

    name: str
    label: str
    values: tuple[float, ...]
    categorical: bool
    range: tuple[float, float] | None
    tickvals: tuple[float, ...] | None
    ticktext: tuple[str, ...] | None


class ParallelCoordinates(NamedTuple):
    """Finished, scored trials as lines through one axis a hyperparameter, then the score."""

    trial_ids: tuple[str, ...]
    scores: tuple[float, ...]
    dimensions: tuple[Dimension, ...]
    objective: str
    direction: str


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _categorical_axis(
    name: str, spec: dict[str, Any] | None, column: list[Any], kind: str
) -> Dimension:
    if kind == "boolean":
        cats: list[Any] = [False, True]
    else:
        cats = list((spec or {}).get("values") or [])
    for v in column:
        if v is not None and v not in cats:
            cats.append(v)
    if any(v is None for v in column):
        cats.append(None)
    index = {value_key(c): i for i, c in enumerate(cats)}
    values = tuple(float(index[value_key(v)]) for v in column)
    text = tuple("n/a" if c is None else str(c) for c in cats)
    top = max(len(cats) - 1, 1)
    return Dimension(
        name, name, values, True, (0.0, float(top)), tuple(float(i) for i in range(len(cats))), text
    )


def _numeric_axis(name: str, spec: dict[str, Any] | None, column: list[Any]) -> Dimension:
    log = bool(spec and spec.get("sampling") == "log")
    nums = [finite(v) for v in column]
    if log:
        nums = [math.log10(v) if v is not None and v > 0 else None for v in nums]
    present = [v for v in nums if v is not None]
    lo_spec, hi_spec = (spec or {}).get("min"), (spec or {}).get("max")
    if log and finite(lo_spec) and finite(hi_spec) and lo_spec > 0 and hi_spec > 0:
        lo, hi = math.log10(lo_spec), math.log10(hi_spec)
    elif not log and finite(lo_spec) is not None and finite(hi_spec) is not None:
        lo, hi = float(lo_spec), float(hi_spec)
    else:
        lo, hi = (min(present), max(present)) if present else (0.0, 1.0)
    lo, hi = min([lo, *present]), max([hi, *present])
    span = (hi - lo) or 1.0
    label = f"{name} (log)" if log else name
    missing = len(present) < len(nums)
    if not log and not missing:
        return Dimension(name, label, tuple(float(v) for v in present), False, (lo, hi), None, None)
    if log:  # few round values (1e-4, 1e-3, ... or 10, 20, 50), at their log10
        values, labels = log_ticks(10**lo, 10**hi)
        ticks, text = [math.log10(v) for v in values], list(labels)
    else:
        ticks = [lo, (lo + hi) / 2, hi]
        text = [_fmt(t) for t in ticks]
    na = lo - 0.12 * span
    if missing:
        ticks, text = [na, *ticks], ["n/a", *text]
    values = tuple(na if v is None else float(v) for v in nums)
    return Dimension(
        name, label, values, False, (na if missing else lo, hi), tuple(ticks), tuple(text)
    )


def parallel_coordinates_data(record: SearchRecord) -> ParallelCoordinates:
    """One line a scored trial through its hyperparameters, coloured by score.

    Choices and booleans become category axes; log-sampled numbers a log10 axis
    labelled in real values; a value a trial lacks (a conditional hyperparameter)
    sits on an "n/a" tick below the axis.
    """
    trials = [
        t for t in record.trials.values() if t.status in SCORED and finite(t.score) is not None
    ]
    specs = {s.get("name"): s for s in space_of(record)}
    dims: list[Dimension] = []
    for name in searchable_names(record):
        column = [t.hyperparameters.get(name) for t in trials]
        spec = specs.get(name)
        kind = kind_of(spec, column)
        if kind in ("choice", "boolean"):
            dims.append(_categorical_axis(name, spec, column, kind))
        else:
            dims.append(_numeric_axis(name, spec, column))
    scores = tuple(float(finite(t.score)) for t in trials)  # type: ignore[arg-type]
    objective = record.objective or "score"
    if scores:
        dims.append(
            Dimension("__score__", objective, scores, False, (min(scores), max(scores)), None, None)
        )
    return ParallelCoordinates(
        tuple(t.trial_id for t in trials), scores, tuple(dims), objective, record.direction
    )


# -- what each chart draws, whole ------------------------------------------------------------
# (the data functions of the panel's chart registry, automl_nb/panel/registry.py)


class ObjectiveChart(NamedTuple):
    """What the objective-per-trial chart draws."""

    points: tuple[HistoryPoint, ...]
    best_id: str | None
    objective: str  #: the axis title ("score" until the search says)
    direction: str
    trials: int  #: trials so far: the x axis reaches this far


def objective_chart(record: SearchRecord) -> ObjectiveChart:
    """The scored trials with the best so far, and the best trial (its gold star)."""
    best = best_trial_ids(record, 1)
    return ObjectiveChart(
        tuple(objective_history(record)),
        best[0] if best else None,
        record.objective or "score",
        record.direction,
        len(record.trials),
    )


class CurvesChart(NamedTuple):
    """What the learning-curves chart draws: the visible trials' curves, in start order."""

    curves: tuple[Curve, ...]
    best_id: str | None
    running: tuple[str, ...]  #: the running trials, in start order (their colours)
    objective: str  #: the y axis title
    direction: str
    longest: int  #: the most epochs a trial has trained: the x axis reaches this far


def curves_chart(record: SearchRecord, limit: int = 40, keep_best: int = 5) -> CurvesChart:
    """The curves of :func:`visible_curve_ids`, with the best and the running trials."""
    best = best_trial_ids(record, 1)
    return CurvesChart(
        tuple(learning_curves(record, trial_ids=visible_curve_ids(record, limit, keep_best))),
        best[0] if best else None,
        tuple(t.trial_id for t in record.trials.values() if t.status == TrialStatus.RUNNING),
        record.objective or "validation objective",
        record.direction,
        max((t.epochs for t in record.trials.values()), default=1),
    )


class ParallelChart(NamedTuple):
    """What the parallel-coordinates chart draws, and the best trial (its gold line)."""

    coordinates: ParallelCoordinates
    best_id: str | None


def parallel_chart(record: SearchRecord) -> ParallelChart:
    best = best_trial_ids(record, 1)
    return ParallelChart(parallel_coordinates_data(record), best[0] if best else None)
