"""The status line, header, trial table and best card, as data of a
:class:`~automl_nb.record.SearchRecord` (the clock is passed in, never read).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..._util import format_duration
from ...ensemble import weights_of
from ...record import OWN_SOURCES, SearchRecord, TrialRecord, finite
from ...referee import standing
from ...settings import Budget
from ...status import FINAL_STATES, TrialStatus
from .space import plain, searchable_names


class RunningTrial(NamedTuple):
    """A trial that is training now, and where (with workers, several run at once)."""

    trial_id: str
    epoch: int  #: absolute epoch reached
    target: int | None  #: absolute epoch it trains to
    worker: str | None  #: the worker process that runs it (``TrialStarted.info["worker"]``)


class StatusInfo(NamedTuple):
    """What the status line says."""

    state: str
    done: int  #: finished trials of the search's own (oracle, portfolio: what the budget counts)
    extra: int  #: finished promoted or enqueued trials
    total: int | None  #: the trial budget
    running_id: str | None  #: the latest trial that started and still runs
    running_epoch: int | None  #: absolute epoch reached
    running_target: int | None  #: absolute epoch the running trial trains to
    elapsed_s: float
    eta_s: float | None
    progress: float  #: 0..1 of the budget that ends first, the running trials' epochs counted
    running: tuple[RunningTrial, ...] = ()  #: every running trial, in start order
    plan: str | None = None  #: the search's latest decision about its budget, while it runs


def status_info(record: SearchRecord, now: float) -> StatusInfo:
    """The search's progress at wall-clock time ``now`` (``time.time()``)."""
    finished = [t for t in record.trials.values() if t.finished]
    done = sum(1 for t in finished if t.source in OWN_SOURCES)
    extra = len(finished) - done
    budget = record.budget
    total = budget.trials if budget else None
    time_budget = budget.time_budget_s if budget else None
    now_running = [t for t in record.trials.values() if t.status == TrialStatus.RUNNING]
    running = now_running[-1] if now_running else None  # the latest, as record.running
    elapsed = record.elapsed(now)
    final = record.state in FINAL_STATES
    fractions: list[float] = []
    etas: list[float] = []
    if total:
        # the running trials' epochs count too: the bar moves within a trial, not only after it
        partial = sum(epoch_fraction(t) for t in now_running if t.source in OWN_SOURCES)
        fractions.append(min(1.0, (done + partial) / total))
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
    if time_budget:
        fractions.append(min(1.0, elapsed / time_budget))
        etas.append(max(0.0, time_budget - elapsed))
    if not fractions and running is not None:  # no budget: the running trial's own progress
        fractions.append(epoch_fraction(running))
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
        plan=None if final or record.last_plan is None else record.last_plan.message,
    )


def epoch_fraction(trial: TrialRecord) -> float:
    """How far a trial has come through the epochs it was to train, 0..1."""
    span = (trial.planned_epochs or 0) - trial.initial_epoch
    if span <= 0:
        return 0.0
    return min(1.0, max(0.0, (trial.epochs - trial.initial_epoch) / span))


def _worker_of(trial: TrialRecord) -> str | None:
    worker = (getattr(trial, "info", None) or {}).get("worker")
    return str(worker) if worker is not None else None


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
    parts.append(f"elapsed {format_duration(info.elapsed_s, '—')}")
    if info.eta_s is not None and info.state not in FINAL_STATES:
        parts.append(f"about {format_duration(info.eta_s, '—')} left")
    if info.plan:
        parts.append(info.plan)
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
    """The data summary in words: name, samples, the family's description (else the shape),
    classes or regression."""
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
    if data.get("description"):  # the data family's own line ("8 × 8 images, grey")
        parts.append(str(data["description"]))
    elif shape is not None:
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
        parts.append(format_duration(time_budget_s, "—"))
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
    budget = record.budget or Budget(config.trials, config.time_budget_s, config.epochs)
    seed = f" (seed {config.seed})" if config.seed is not None else ""
    workers = getattr(config, "workers", 1)
    where = f", trials in {workers} worker processes" if workers > 1 else ""
    return HeaderInfo(
        name=config.name,
        data=data_text(config.data),
        oracle=f"{config.oracle}{seed}{where}",
        objective=f"{config.objective} ({'higher' if config.direction == 'max' else 'lower'} is better)",
        budget=budget_text(budget.trials, budget.time_budget_s, budget.epochs),
    )


def main_hyperparameters(record: SearchRecord, limit: int = 6) -> list[str]:
    """The table's hyperparameter columns: the first ``limit`` searchable names."""
    return searchable_names(record)[:limit]


def table_row(record: SearchRecord, trial: TrialRecord, order: int) -> dict[str, Any]:
    """One JSON-safe table row; a running trial's score is its best epoch so far."""
    score = record.best_so_far(trial) if trial.status == TrialStatus.RUNNING else trial.score
    target = trial.planned_epochs or None
    return {
        "trial_id": trial.trial_id,
        "n": order,
        "status": str(trial.status),  # the plain word, for the front end
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
    #: The trials the handed-back model averages, with their weights, heaviest first (empty:
    #: the best trial alone), and why: its validation loss against the best trial's.
    ensemble: tuple[tuple[str, float], ...] = ()
    ensemble_note: str | None = None
    #: Where the best network stands against gradient-boosted trees on the same rows (a
    #: table search's yardstick, :func:`automl_nb.referee.standing`), or None.
    referee: str | None = None


def best_info(record: SearchRecord) -> BestInfo | None:
    """The best finished trial, or None before any trial has a score."""
    best = record.best()
    if best is None or finite(best.score) is None:
        return None
    detail = record.ensemble.detail if record.ensemble is not None else {}
    weights = weights_of(record.ensemble)
    note = None
    if weights and finite(detail.get("ensemble_loss")) is not None and finite(detail.get("best_loss")) is not None:
        note = (f"validation {detail.get('loss', 'loss')} {detail['ensemble_loss']:.4g} against "
                f"{detail['best_loss']:.4g} for trial {detail.get('best_trial', best.trial_id)} alone")
    return BestInfo(
        best.trial_id,
        float(best.score),  # type: ignore[arg-type]
        record.objective or "score",
        best.epochs,
        best.best_epoch,
        {k: plain(v) for k, v in best.hyperparameters.items()},
        tuple(sorted(weights.items(), key=lambda kv: -kv[1])),
        note,
        standing(record.referee, record.objective, best.score),
    )
