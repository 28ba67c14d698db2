"""Chart and table data as pure functions of a :class:`~automl_nb.record.SearchRecord`.

Each function reads a record and returns plain values (NamedTuples, dicts, tuples):
no plotly, no widgets, no clock unless one is passed in. The live FigureWidgets in
:mod:`automl_nb.panel.figures`, the trial table and any static export consume the
same data, so tests assert on what a chart shows without drawing it (the split
Optuna's ``visualization`` package makes between ``_get_*_info`` and ``_get_*_plot``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..events import jsonable
from ..record import SCORED, SearchRecord, TrialRecord, better, finite

#: Trial statuses whose score counts (a failed trial has none).
FINISHED = ("completed", "pruned", "stopped", "failed")
plain = jsonable  # a JSON-safe copy of a hyperparameter value (numpy scalars, NaN, tuples)


def space_of(record: SearchRecord) -> list[dict[str, Any]]:
    """The hyperparameter space as the record knows it (``SpaceDefined`` or ``SearchStarted``)."""
    space = getattr(record, "space", None)
    if space:
        return list(space)
    return list(record.config.space) if record.config is not None else []


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
    keep = [t.trial_id for t in record.trials.values() if t.status == "running"]
    keep += [tid for tid in best_trial_ids(record, keep_best) if tid not in keep]
    chosen = set(keep[:limit])
    for tid in reversed(ids):
        if len(chosen) >= limit:
            break
        chosen.add(tid)
    return [tid for tid in ids if tid in chosen]


class CurveStyle(NamedTuple):
    """How a curve is drawn: the running trial stands out, pruned ones are dashed."""

    width: float
    dash: str
    opacity: float


def curve_style(status: str, is_best: bool = False) -> CurveStyle:
    """The line style of a trial's curve from its status."""
    if status == "running":
        return CurveStyle(4.0, "solid", 1.0)
    if status == "pruned":
        return CurveStyle(2.5 if is_best else 1.5, "dash", 0.9 if is_best else 0.6)
    if status == "failed":
        return CurveStyle(1.0, "dot", 0.4)
    if status == "stopped":
        return CurveStyle(2.5 if is_best else 1.5, "dashdot", 0.9 if is_best else 0.6)
    return CurveStyle(3.0 if is_best else 1.5, "solid", 1.0 if is_best else 0.6)


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


def _kind_of(spec: dict[str, Any] | None, values: list[Any]) -> str:
    """int, float, choice, boolean or fixed: from the spec, else from the values seen."""
    if spec and spec.get("kind"):
        return str(spec["kind"])
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    return "choice"


def searchable_names(record: SearchRecord) -> list[str]:
    """Hyperparameter names worth charting: every name but the fixed ones."""
    specs = {s.get("name"): s for s in space_of(record)}
    names = [s["name"] for s in space_of(record) if "name" in s]
    for trial in record.trials.values():
        for name in trial.hyperparameters:
            if name not in names and not name.startswith("tuner/"):
                names.append(name)
    return [n for n in names if (specs.get(n) or {}).get("kind") != "fixed"]


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
    index = {_key(c): i for i, c in enumerate(cats)}
    values = tuple(float(index[_key(v)]) for v in column)
    text = tuple("n/a" if c is None else str(c) for c in cats)
    top = max(len(cats) - 1, 1)
    return Dimension(
        name, name, values, True, (0.0, float(top)), tuple(float(i) for i in range(len(cats))), text
    )


def _key(value: Any) -> tuple[str, Any]:
    """Hashable, type-aware key (so True and 1 stay different categories)."""
    return (
        type(value).__name__,
        value if isinstance(value, str | int | float | bool) else str(value),
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
    ticks = [lo, (lo + hi) / 2, hi] if not log else _decades(lo, hi)
    text = [_fmt(10**t if log else t) for t in ticks]
    na = lo - 0.12 * span
    if missing:
        ticks, text = [na, *ticks], ["n/a", *text]
    values = tuple(na if v is None else float(v) for v in nums)
    return Dimension(
        name, label, values, False, (na if missing else lo, hi), tuple(ticks), tuple(text)
    )


def _decades(lo: float, hi: float) -> list[float]:
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    ticks = [float(d) for d in range(first, last + 1)]
    if len(ticks) < 2:
        ticks = sorted({lo, hi, *ticks})
    return ticks


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
        kind = _kind_of(spec, column)
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


# -- (d) hyperparameter importance --------------------------------------------------------

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
    keys = [_key(g) for g in groups]
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
        kind = _kind_of(specs.get(name), values)
        if kind in ("choice", "boolean"):
            distinct = {_key(v) for v in values}
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


# -- status line, header, table, best card ---------------------------------------------


class RunningTrial(NamedTuple):
    """A trial that is training now, and where (with workers, several run at once)."""

    trial_id: str
    epoch: int  #: absolute epoch reached
    target: int | None  #: absolute epoch it trains to
    worker: str | None  #: the worker process that runs it (``TrialStarted.info["worker"]``)


class StatusInfo(NamedTuple):
    """What the status line says."""

    state: str
    done: int  #: finished trials the oracle proposed (what the trial budget counts)
    extra: int  #: finished promoted or enqueued trials
    total: int | None  #: the trial budget
    running_id: str | None  #: the latest trial that started and still runs
    running_epoch: int | None  #: absolute epoch reached
    running_target: int | None  #: absolute epoch the running trial trains to
    elapsed_s: float
    eta_s: float | None
    progress: float  #: 0..1 of the budget that ends first
    running: tuple[RunningTrial, ...] = ()  #: every running trial, in start order


def status_info(record: SearchRecord, now: float) -> StatusInfo:
    """The search's progress at wall-clock time ``now`` (``time.time()``)."""
    finished = [t for t in record.trials.values() if t.finished]
    done = sum(1 for t in finished if t.source == "oracle")
    extra = len(finished) - done
    total = record.trials_budget
    now_running = [t for t in record.trials.values() if t.status == "running"]
    running = now_running[-1] if now_running else None  # the latest, as record.running
    elapsed = record.elapsed(now)
    final = record.state in ("done", "failed")
    fractions: list[float] = []
    etas: list[float] = []
    if total:
        fractions.append(min(1.0, done / total))
        durations = [t.duration_s for t in finished if t.duration_s]
        remaining = max(0, total - done)
        per_trial: float | None = sum(durations) / len(durations) if durations else None
        trial_age = max(0.0, now - running.started_at) if running is not None else 0.0
        if per_trial is None and running is not None:
            span = (running.planned_epochs or 0) - running.initial_epoch
            got = running.epochs - running.initial_epoch
            if span > 0 and got > 0:
                per_trial = trial_age * span / got
        if per_trial is not None:
            # trials that run side by side (workers) share what is left
            spent = sum(min(max(0.0, now - t.started_at), per_trial) for t in now_running)
            etas.append(max(0.0, remaining * per_trial - spent) / max(1, len(now_running)))
    if record.time_budget_s:
        fractions.append(min(1.0, elapsed / record.time_budget_s))
        etas.append(max(0.0, record.time_budget_s - elapsed))
    eta = min(etas) if etas else None
    progress = max(fractions) if fractions else 0.0
    if final:
        eta, progress = 0.0, 1.0
    return StatusInfo(
        state=record.state,
        done=done,
        extra=extra,
        total=total,
        running_id=running.trial_id if running is not None else None,
        running_epoch=running.epochs if running is not None else None,
        running_target=(running.planned_epochs or None) if running is not None else None,
        elapsed_s=elapsed,
        eta_s=eta,
        progress=progress,
        running=tuple(
            RunningTrial(t.trial_id, t.epochs, t.planned_epochs or None, _worker_of(t))
            for t in now_running
        ),
    )


def _worker_of(trial: TrialRecord) -> str | None:
    worker = (getattr(trial, "info", None) or {}).get("worker")
    return str(worker) if worker is not None else None


def duration_text(seconds: float | None) -> str:
    """``"1h 02m"``, ``"3m 05s"``, ``"12s"``; an em dash for None."""
    if seconds is None:
        return "—"
    s = round(max(0.0, seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def status_text(info: StatusInfo) -> str:
    """One line: state · trials done of total · running trial and epoch · elapsed · time left."""
    parts = [info.state]
    trials = f"{info.done} of {info.total} trials" if info.total else f"{info.done} trials"
    if info.extra:
        trials += f" (+{info.extra} promoted or queued)"
    parts.append(trials)
    if info.running:
        parts.append(", ".join(_running_text(t) for t in info.running))
    elif info.running_id is not None:
        parts.append(_running_text(RunningTrial(info.running_id, info.running_epoch or 0,
                                                info.running_target, None)))
    parts.append(f"elapsed {duration_text(info.elapsed_s)}")
    if info.eta_s is not None and info.state not in ("done", "failed"):
        parts.append(f"about {duration_text(info.eta_s)} left")
    return " · ".join(parts)


def _running_text(trial: RunningTrial) -> str:
    """``"trial 0004 at epoch 2/5"``, with workers ``"trial 0004 on w1 at epoch 2/5"``."""
    epoch = f"epoch {trial.epoch}" + (f"/{trial.target}" if trial.target else "")
    where = f" on {trial.worker}" if trial.worker else ""
    return f"trial {trial.trial_id}{where} at {epoch}"


class HeaderInfo(NamedTuple):
    """The panel's header: what is searched, how, for what, within what."""

    name: str
    data: str
    oracle: str
    objective: str
    budget: str


def data_text(data: dict[str, Any] | None) -> str:
    """The data summary in words: name, samples, shape, classes or regression."""
    if not data:
        return "data not described yet"
    parts: list[str] = []
    if data.get("name"):
        parts.append(str(data["name"]))
    n_train = data.get("n_train", data.get("samples"))
    n_val = data.get("n_val")
    if n_train is not None:
        parts.append(
            f"{n_train:,} training + {n_val:,} validation samples"
            if isinstance(n_train, int) and isinstance(n_val, int)
            else f"{n_train} samples"
        )
    shape = data.get("input_shape", data.get("shape"))
    if shape is not None:
        dims = tuple(shape) if isinstance(shape, list | tuple) else (shape,)
        parts.append("shape " + " × ".join(str(d) for d in dims))
    task = data.get("task")
    classes = data.get("n_classes", data.get("classes"))
    why = f" ({data['task_reason']})" if data.get("task_reason") else ""  # how the task was inferred
    if task == "regression" or (task is None and classes is None and parts):
        parts.append("regression" + why)
    elif classes is not None:
        count = len(classes) if isinstance(classes, list | tuple) else classes
        parts.append(f"{count} classes{why}")
    return " · ".join(parts) if parts else ", ".join(f"{k}={v}" for k, v in data.items())


def budget_text(trials: int | None, time_budget_s: float | None, epochs: int | None) -> str:
    """``"30 trials or 10m 00s, whichever comes first · up to 27 epochs a trial"``."""
    parts = []
    if trials:
        parts.append(f"{trials} trials")
    if time_budget_s:
        parts.append(duration_text(time_budget_s))
    text = " or ".join(parts) + (", whichever comes first" if len(parts) == 2 else "")
    text = text or "no budget: runs until stopped"
    if epochs:
        text += f" · up to {epochs} epochs a trial"
    return text


def header_info(record: SearchRecord) -> HeaderInfo:
    """The header's facts, from ``SearchStarted`` and later budget changes."""
    config = record.config
    if config is None:
        return HeaderInfo("", "waiting for the search to start", "—", "—", "—")
    seed = f" (seed {config.seed})" if config.seed is not None else ""
    workers = getattr(config, "workers", 1)
    where = f", trials in {workers} worker processes" if workers > 1 else ""
    return HeaderInfo(
        name=config.name,
        data=data_text(config.data),
        oracle=f"{config.oracle}{seed}{where}",
        objective=f"{config.objective} ({'higher' if config.direction == 'max' else 'lower'} is better)",
        budget=budget_text(record.trials_budget, record.time_budget_s, config.epochs),
    )


def main_hyperparameters(record: SearchRecord, limit: int = 6) -> list[str]:
    """The table's hyperparameter columns: the first ``limit`` searchable names."""
    return searchable_names(record)[:limit]


def table_row(record: SearchRecord, trial: TrialRecord, order: int) -> dict[str, Any]:
    """One JSON-safe table row; a running trial's score is its best epoch so far."""
    score = trial.score
    if trial.status == "running" and record.objective:
        best = None
        for _, value in trial.objective_curve(record.objective):
            if better(finite(value), best, record.direction):
                best = finite(value)
        score = best
    target = trial.planned_epochs or None
    return {
        "trial_id": trial.trial_id,
        "n": order,
        "status": trial.status,
        "score": finite(score),
        "epochs": trial.epochs,
        "target": target,
        "duration_s": finite(trial.duration_s),
        "parent_id": trial.parent_id,
        "source": trial.source,
        "reason": trial.reason,
        "info": plain(dict(getattr(trial, "info", None) or {})),
        "hp": {k: plain(v) for k, v in trial.hyperparameters.items()},
    }


def table_rows(record: SearchRecord) -> list[dict[str, Any]]:
    """Every trial's row, in start order."""
    return [table_row(record, t, i) for i, t in enumerate(record.trials.values(), start=1)]


class BestInfo(NamedTuple):
    """The best-model card."""

    trial_id: str
    score: float
    objective: str
    epochs: int
    best_epoch: int | None
    hyperparameters: dict[str, Any]


def best_info(record: SearchRecord) -> BestInfo | None:
    """The best finished trial, or None before any trial has a score."""
    best = record.best()
    if best is None or finite(best.score) is None:
        return None
    return BestInfo(
        best.trial_id,
        float(best.score),  # type: ignore[arg-type]
        record.objective or "score",
        best.epochs,
        best.best_epoch,
        {k: plain(v) for k, v in best.hyperparameters.items()},
    )
