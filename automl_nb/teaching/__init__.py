"""What the teaching views show, as pure data: plain dicts, lists and tuples, no UI.

- :func:`hyperband_diagram`: Hyperband's brackets and rounds, each trial a mark with
  its epoch budget and its fate (advanced, dropped, ...), plus sentences written from
  the actual numbers. It reads a :class:`~automl_nb.record.SearchRecord` only, so it
  works for live, reopened and replayed searches without TensorFlow.
- :func:`bayesian_surrogate`: the Bayesian oracle's Gaussian process along one
  hyperparameter, its acquisition function and the point it will try next, computed
  from KerasTuner's own oracle state (its ``_vectorize_trials``, a clone of its
  ``gpr``, its own ``populate_space`` run on a snapshot) and never mutating it.
- :func:`sampled_points`: the points a search tried over two hyperparameters.
- :func:`best_so_far`: the best score so far against running time and trial count.

The panel's views (:mod:`automl_nb.panel.teaching_tab`), :func:`automl_nb.compare` and any
static export draw these; tests assert on them without drawing anything.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

from .. import _kt_compat
from ..events import jsonable
from ..record import SCORED, SearchRecord, TrialRecord, better, finite

__all__ = [
    "BayesianState",
    "BestPoint",
    "axis_names",
    "bayesian_state",
    "bayesian_surrogate",
    "best_so_far",
    "hyperband_brackets",
    "hyperband_diagram",
    "hyperband_epochs",
    "hyperband_size",
    "is_bayesian",
    "oracle_kind",
    "sampled_points",
]

def _epochs_word(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _trials_word(n: int) -> str:
    return f"{n} trial" if n == 1 else f"{n} trials"


def _record_of(source: Any) -> SearchRecord:
    """A SearchRecord, or the record of a Search, Replay or anything with ``.record``."""
    if isinstance(source, SearchRecord):
        return source
    record = getattr(source, "record", None)
    if isinstance(record, SearchRecord):
        return record
    raise TypeError(
        "record must be a SearchRecord or a search (automl_nb.search, open or replay); "
        f"got {type(source).__name__}"
    )


def _oracle_of(source: Any) -> Any:
    """The oracle itself, or a live Search's oracle (once its thread has built it)."""
    if hasattr(source, "populate_space"):
        return source
    if hasattr(source, "record") and hasattr(source, "state"):
        oracle = getattr(source, "oracle", None)
        if oracle is None:
            raise RuntimeError(
                "this search has no oracle yet: it builds one when it starts (a reopened "
                "search after start(), a replay never; a replay's recording may carry snapshots: "
                "replay.surrogate(name))"
            )
        return oracle
    return source


def oracle_kind(name: str | None) -> str:
    """The kind of an oracle name or class name: "hyperband", "bayesian", "random" or "other"."""
    text = (name or "").lower()
    for kind in ("hyperband", "bayesian", "random"):
        if kind in text:
            return kind
    return "other"


# ==========================================================================================
# Hyperband
# ==========================================================================================
# KerasTuner's formulas (keras_tuner/src/tuners/hyperband.py: _get_size, _get_epochs,
# _get_num_brackets), copied so that a replay needs no TensorFlow; the tests check them
# against HyperbandOracle itself, quirks included (math.log(27, 3) is 3.0000000000000004).


def hyperband_size(bracket: int, round_: int, max_epochs: int, factor: int = 3) -> int:
    """How many trials round ``round_`` of bracket ``bracket`` trains (``_get_size``)."""
    bracket0_end_size = math.ceil(1 + math.log(max_epochs, factor))
    bracket_end_size = bracket0_end_size / (bracket + 1)
    return math.ceil(bracket_end_size * factor ** (bracket - round_))


def hyperband_epochs(bracket: int, round_: int, max_epochs: int, factor: int = 3) -> int:
    """The epoch a trial of that round trains up to (``_get_epochs``)."""
    return math.ceil(max_epochs / factor ** (bracket - round_))


def hyperband_brackets(max_epochs: int, factor: int = 3) -> int:
    """How many brackets one Hyperband iteration plays (``_get_num_brackets``)."""
    epochs: float = max_epochs
    brackets = 0
    while epochs >= 1:
        epochs = epochs / factor
        brackets += 1
    return brackets


def _check_hyperband_args(max_epochs: Any, factor: Any) -> tuple[int, int]:
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a whole number of at least 1; got {max_epochs!r}")
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2:
        raise ValueError(f"factor must be a whole number of at least 2; got {factor!r}")
    return max_epochs, factor


def _bracket_plan(bracket: int, max_epochs: int, factor: int) -> list[dict[str, Any]]:
    rounds = []
    for r in range(bracket + 1):
        size = hyperband_size(bracket, r, max_epochs, factor)
        epochs = hyperband_epochs(bracket, r, max_epochs, factor)
        start = hyperband_epochs(bracket, r - 1, max_epochs, factor) if r else 0
        keep = hyperband_size(bracket, r + 1, max_epochs, factor) if r < bracket else None
        rounds.append(
            {"round": r, "epochs": epochs, "from_epoch": start, "size": size, "keep": keep}
        )
    return rounds


def _bracket_text(bracket: int, rounds: list[dict[str, Any]], max_epochs: int) -> str:
    first = rounds[0]
    if len(rounds) == 1:
        return (
            f"Bracket {bracket}: {_trials_word(first['size'])}, each trained for all "
            f"{_epochs_word(first['epochs'])}: plain random search, nobody is dropped early."
        )
    text = (
        f"Bracket {bracket}: starts {_trials_word(first['size'])} for "
        f"{_epochs_word(first['epochs'])} each"
    )
    for i, r in enumerate(rounds[1:]):
        joiner = " and keeps" if i == 0 else ", then"
        text += f"{joiner} the best {r['size']} for {_epochs_word(r['epochs'])}"
    return text + "."


def _bracket_cost(rounds: list[dict[str, Any]]) -> int:
    """Epochs a bracket trains in all (a kept trial trains only its new epochs)."""
    return sum(r["size"] * (r["epochs"] - r["from_epoch"]) for r in rounds)


def hyperband_diagram(
    record: SearchRecord, max_epochs: int | None = None, factor: int = 3
) -> dict[str, Any]:
    """Hyperband's brackets and rounds, filled in with the record's trials.

    Args:
        record: the search's record, or the search itself (live, reopened or replayed).
        max_epochs: Hyperband's ``max_epochs`` (the search's ``epochs``); by default the
            record's ``SearchStarted.epochs``.
        factor: the reduction factor (automl-nb uses KerasTuner's 3).

    Returns a dict: ``max_epochs``, ``factor``, ``text`` (what Hyperband does, from the
    numbers), ``note`` (KerasTuner's sizing formula with these numbers), ``now`` (what runs now),
    ``planned_trials`` and ``planned_epochs`` of one iteration, ``outside`` (ids of
    promoted or enqueued trials, which belong to no bracket) and ``brackets``: one dict a
    bracket, most aggressive first, with ``bracket``, ``iteration``, ``status`` ("not
    started", "running", "done", "ended early"), ``text``, ``trials``, ``epochs`` and
    ``rounds``. A round has ``round``, ``epochs`` (the epoch its trials train up to),
    ``from_epoch`` (where they start), ``size``, ``keep`` (how many go on, None in the
    last round), ``pending`` (places not started yet) and ``trials``: dicts with
    ``trial_id``, ``status``, ``score``, ``epochs`` (reached), ``parent_id``,
    ``child_id``, ``rank`` (1 = best scored in its round) and ``fate``: "running",
    "waiting" (its round is not decided yet), "advanced", "dropped", "final" (trained
    the bracket's full budget), "failed" or "undecided" (the search ended first).
    """
    record = _record_of(record)
    if max_epochs is None:
        if record.config is None:
            raise ValueError("max_epochs is not known before the search starts; pass max_epochs=")
        max_epochs = int(record.config.epochs)
    max_epochs, factor = _check_hyperband_args(max_epochs, factor)
    n_brackets = hyperband_brackets(max_epochs, factor)
    first_epochs = {hyperband_epochs(b, 0, max_epochs, factor): b for b in range(n_brackets)}
    over = record.state in ("done", "failed")

    instances: list[dict[str, Any]] = []
    placed: dict[str, tuple[dict[str, Any], int]] = {}  # trial_id -> (instance, round)
    outside: list[str] = []
    for trial in record.trials.values():
        spot = _place(trial, placed, first_epochs, n_brackets)
        if spot is None:
            outside.append(trial.trial_id)
            continue
        bracket, round_, parent_instance = spot
        if parent_instance is not None:
            instance = parent_instance
        else:
            size0 = hyperband_size(bracket, 0, max_epochs, factor)
            last = instances[-1] if instances else None
            if last is None or last["bracket"] != bracket or len(last["rounds"][0]) >= size0:
                iteration = sum(1 for i in instances if i["bracket"] == bracket)
                last = {
                    "bracket": bracket,
                    "iteration": iteration,
                    "rounds": [[] for _ in range(bracket + 1)],
                }
                instances.append(last)
            instance = last
        if round_ >= len(instance["rounds"]):
            outside.append(trial.trial_id)
            continue
        instance["rounds"][round_].append(trial)
        placed[trial.trial_id] = (instance, round_)

    # one iteration's plan, most aggressive bracket first, then any later iterations
    plans = [{"bracket": b, "iteration": 0, "rounds": None} for b in range(n_brackets - 1, -1, -1)]
    by_key = {(p["bracket"], p["iteration"]): p for p in plans}
    for inst in instances:
        key = (inst["bracket"], inst["iteration"])
        if key in by_key:
            by_key[key]["rounds"] = inst["rounds"]
        else:
            plans.append(inst)
            by_key[key] = inst

    direction = record.direction
    brackets = [
        _bracket_data(
            p["bracket"],
            p["iteration"],
            p["rounds"],
            max_epochs,
            factor,
            direction,
            over,
            record.objective,
        )
        for p in plans
    ]
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    note = (
        f"How KerasTuner sizes them: round r of bracket b starts ceil({end_size}/(b+1) · "
        f"{factor}^(b−r)) trials ({end_size} = ceil(1 + log_{factor} {max_epochs})) and trains "
        f"them to epoch ceil({max_epochs}/{factor}^(b−r)), so every bracket costs about the same."
    )
    planned_trials = sum(b["trials"] for b in brackets[:n_brackets])
    planned_epochs = sum(b["epochs"] for b in brackets[:n_brackets])
    return {
        "max_epochs": max_epochs,
        "factor": factor,
        "objective": record.objective or "score",
        "direction": direction,
        "text": _hyperband_text(
            brackets[:n_brackets], max_epochs, factor, record.objective or "the score"
        ),
        "note": note,
        "now": _hyperband_now(record, placed, brackets),
        "planned_trials": planned_trials,
        "planned_epochs": planned_epochs,
        "outside": outside,
        "brackets": brackets,
    }


def _place(
    trial: TrialRecord,
    placed: dict[str, tuple[dict[str, Any], int]],
    first_epochs: dict[int, int],
    n_brackets: int,
) -> tuple[int, int, dict[str, Any] | None] | None:
    """(bracket, round, the parent's bracket instance or None) of an oracle trial, or None."""
    if trial.source != "oracle":
        return None
    info = getattr(trial, "info", None) or {}
    if trial.parent_id is None:
        if trial.initial_epoch:
            return None
        bracket = first_epochs.get(trial.planned_epochs)
        if bracket is None and isinstance(info.get("bracket"), int):
            bracket = info["bracket"] if 0 <= info["bracket"] < n_brackets else None
        return None if bracket is None else (bracket, 0, None)
    parent = placed.get(trial.parent_id)
    if parent is None:
        return None
    instance, parent_round = parent
    return instance["bracket"], parent_round + 1, instance


def _bracket_data(
    bracket: int,
    iteration: int,
    rounds_trials: list[list[TrialRecord]] | None,
    max_epochs: int,
    factor: int,
    direction: str,
    over: bool,
    objective: str | None = None,
) -> dict[str, Any]:
    plan = _bracket_plan(bracket, max_epochs, factor)
    rounds_trials = rounds_trials or [[] for _ in plan]
    rounds: list[dict[str, Any]] = []
    for r, spec in enumerate(plan):
        trials = rounds_trials[r]
        next_round = rounds_trials[r + 1] if r + 1 < len(rounds_trials) else None
        children = {t.parent_id: t.trial_id for t in next_round or ()}
        next_full = next_round is not None and len(next_round) >= (spec["keep"] or 0)
        scored = sorted(
            (t for t in trials if t.status in SCORED and finite(t.score) is not None),
            key=lambda t: float(t.score),  # type: ignore[arg-type]
            reverse=direction == "max",
        )
        ranks = {t.trial_id: i for i, t in enumerate(scored, start=1)}
        marks = []
        for t in trials:
            if t.status == "running":
                fate = "running"
            elif t.status == "failed":
                fate = "failed"
            elif r == len(plan) - 1:
                fate = "final"
            elif t.trial_id in children:
                fate = "advanced"
            elif next_full:
                fate = "dropped"
            else:
                fate = "undecided" if over else "waiting"
            marks.append(
                {
                    "trial_id": t.trial_id,
                    "status": t.status,
                    "score": finite(t.score)
                    if t.finished
                    else _running_best(t, objective, direction),
                    "epochs": t.epochs,
                    "parent_id": t.parent_id,
                    "child_id": children.get(t.trial_id),
                    "rank": ranks.get(t.trial_id),
                    "fate": fate,
                }
            )
        rounds.append({**spec, "pending": max(0, spec["size"] - len(trials)), "trials": marks})
    started = sum(len(r["trials"]) for r in rounds)
    complete = rounds[-1]["pending"] == 0 and all(
        m["status"] != "running" for m in rounds[-1]["trials"]
    )
    if started == 0:
        status = "not started"
    elif complete:
        status = "done"
    elif over:
        status = "ended early"
    else:
        status = "running"
    return {
        "bracket": bracket,
        "iteration": iteration,
        "status": status,
        "text": _bracket_text(bracket, plan, max_epochs),
        "trials": sum(r["size"] for r in plan),
        "epochs": _bracket_cost(plan),
        "rounds": rounds,
    }


def _running_best(trial: TrialRecord, objective: str | None, direction: str) -> float | None:
    """A running trial's best objective value so far."""
    best = None
    for _, value in trial.objective_curve(objective or ""):
        if better(finite(value), best, direction):
            best = finite(value)
    return best


def _hyperband_text(
    brackets: list[dict[str, Any]], max_epochs: int, factor: int, objective: str
) -> str:
    if not brackets:
        return ""
    first, last = brackets[0], brackets[-1]
    text = f"max {_epochs_word(max_epochs)}, factor {factor}: "
    if len(brackets) == 1:
        return text + (
            f"one bracket only, {_trials_word(first['trials'])} trained for all "
            f"{_epochs_word(max_epochs)}: max_epochs is below the factor, so nothing is "
            "dropped early."
        )
    r0 = first["rounds"][0]
    r1 = first["rounds"][1]
    text += (
        f"the first bracket starts {_trials_word(r0['size'])} for "
        f"{_epochs_word(r0['epochs'])} and keeps the best {r1['size']} for "
        f"{_epochs_word(r1['epochs'])}"
    )
    for r in first["rounds"][2:]:
        text += f", then the best {r['size']} for {_epochs_word(r['epochs'])}"
    text += (
        f". Hyperband plays {len(brackets)} such brackets, each a little more patient than the "
        f"last, down to bracket 0: {_trials_word(last['trials'])} that all train "
        f"{_epochs_word(max_epochs)}, like random search. In every round, the best trials by "
        f"{objective} (about 1 in {factor}) go on to train {factor} times longer, from where they "
        "stopped; the rest are dropped. "
        f"Each bracket costs about the same: {', '.join(str(b['epochs']) for b in brackets)} "
        f"epochs ({sum(b['trials'] for b in brackets)} trials in all)."
    )
    return text


def _hyperband_now(
    record: SearchRecord,
    placed: dict[str, tuple[dict[str, Any], int]],
    brackets: list[dict[str, Any]],
) -> str:
    running = record.running
    if running is None:
        if record.state in ("done", "failed"):
            done = sum(1 for b in brackets if b["status"] == "done")
            return f"The search has ended: {done} of {len(brackets)} brackets played to the end."
        if not record.trials:
            return "Waiting for the first trial."
        if record.state == "paused":
            return "Paused between trials: Step runs the next one, Resume the rest."
        return "Between trials."
    spot = placed.get(running.trial_id)
    if spot is None:
        return (
            f"Now: trial {running.trial_id} ({running.source}) runs outside the brackets, "
            "because you asked for it."
        )
    instance, round_ = spot
    start = running.initial_epoch
    target = running.planned_epochs
    where = f"Now: bracket {instance['bracket']}, round {round_}: trial {running.trial_id} trains"
    where += f" epoch {target}" if target == start + 1 else f" epochs {start + 1}–{target}"
    if running.parent_id:
        return where + (
            f", going on from trial {running.parent_id}, one of the best of round {round_ - 1}."
        )
    return where + ", a new random configuration."


# ==========================================================================================
# Random search (and any search): the points tried
# ==========================================================================================


def axis_names(record: SearchRecord) -> list[str]:
    """The hyperparameters worth putting on an axis: every one but the fixed ones."""
    specs = {s.get("name"): s for s in record.space}
    names = [n for n in record.hyperparameter_names() if not n.startswith("tuner/")]
    return [n for n in names if (specs.get(n) or {}).get("kind") != "fixed"]


def _axis(record: SearchRecord, name: str, values: list[Any]) -> dict[str, Any]:
    spec = next((s for s in record.space if s.get("name") == name), None) or {}
    kind = spec.get("kind")
    present = [v for v in values if v is not None]
    if kind is None:
        if present and all(isinstance(v, bool) for v in present):
            kind = "boolean"
        elif present and all(isinstance(v, int | float) for v in present):
            kind = "float"
        else:
            kind = "choice"
    categorical = kind in ("choice", "boolean") and not (
        kind == "choice"
        and present
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
        and spec.get("ordered")
    )
    categories: list[str] | None = None
    if categorical:
        categories = [str(v) for v in (spec.get("values") or [])]
        if kind == "boolean":
            categories = ["False", "True"]
        for v in present:
            if str(v) not in categories:
                categories.append(str(v))
    return {
        "name": name,
        "kind": kind,
        "categorical": categorical,
        "log": spec.get("sampling") == "log",
        "min": finite(spec.get("min")),
        "max": finite(spec.get("max")),
        "categories": categories,
    }


def sampled_points(
    record: SearchRecord, x: str | None = None, y: str | None = None
) -> dict[str, Any]:
    """The points a search tried over two hyperparameters, each with its score.

    ``record`` is a SearchRecord or a search (live, reopened or replayed).

    ``x`` and ``y`` default to the first two of :func:`axis_names`. Returns ``x`` and
    ``y`` (axis dicts: name, kind, categorical, log, min, max, categories), ``points``
    (one dict a trial: trial_id, order, x, y, score, status, source; categorical values
    as strings), ``best_id`` and ``text``.
    """
    record = _record_of(record)
    names = axis_names(record)
    if x is None:
        x = names[0] if names else None
    if y is None:
        y = next((n for n in names if n != x), x)
    for arg, value in (("x", x), ("y", y)):
        if value is not None and names and value not in names:
            raise ValueError(
                f"{arg}={value!r} is not a hyperparameter of this search; choose one of: "
                f"{', '.join(names)}"
            )
    trials = [t for t in record.trials.values()]
    best = record.best()
    if x is None or y is None:
        return {
            "x": None,
            "y": None,
            "points": [],
            "best_id": None,
            "text": "The hyperparameters are not known yet.",
        }
    xs = [t.hyperparameters.get(x) for t in trials]
    ys = [t.hyperparameters.get(y) for t in trials]
    ax, ay = _axis(record, x, xs), _axis(record, y, ys)
    points = []
    for order, (t, vx, vy) in enumerate(zip(trials, xs, ys), start=1):
        points.append(
            {
                "trial_id": t.trial_id,
                "order": order,
                "x": str(vx) if ax["categorical"] else jsonable(vx),
                "y": str(vy) if ay["categorical"] else jsonable(vy),
                "score": finite(t.score) if t.status in SCORED else None,
                "status": t.status,
                "source": t.source,
            }
        )
    kind = oracle_kind(record.config.oracle if record.config else None)
    if kind == "random":
        text = (
            f"Random search drew {_trials_word(len(points))} independently: no trial learns from "
            "another, so the dots spread evenly over the space (on a log axis for log-sampled "
            "values). Colour is the score; a ring marks the best."
        )
    else:
        text = (
            f"{_trials_word(len(points))} tried so far. Colour is the score; a ring marks the best. "
            "Where the dots crowd together, the oracle has been looking on purpose."
        )
    return {
        "x": ax,
        "y": ay,
        "points": points,
        "best_id": best.trial_id if best else None,
        "text": text,
    }


# ==========================================================================================
# Comparison: best score so far
# ==========================================================================================

#: Gaps between trials longer than this (seconds) are pauses or closed sessions, not search time.
GAP_CAP_S = 30.0


class BestPoint(NamedTuple):
    """One finished trial on a best-so-far curve."""

    elapsed_s: float  #: seconds the search had been running when the trial ended
    trial_index: int  #: 1-based count of finished trials
    best: float  #: the best score of the trials finished so far


def best_so_far(record: SearchRecord) -> list[BestPoint]:
    """``(elapsed_s, trial_index, best)`` at the end of every finished trial, in end order.

    ``record`` is a SearchRecord (or a search: its record is read).

    ``elapsed_s`` counts the search's running time: from its start to the first trial,
    then each trial's own time and the short gaps between trials; a gap longer than
    :data:`GAP_CAP_S` (a pause, a closed kernel before ``open(...).start()``) counts as
    that cap. Points before the first scored trial are left out; a failed trial adds a
    point with the best unchanged.
    """
    record = _record_of(record)
    finished = [t for t in record.trials.values() if t.finished and t.ended_at is not None]
    finished.sort(key=lambda t: (t.ended_at, t.started_at))
    clock = 0.0
    last_end: float | None = record.started_at
    best: float | None = None
    out: list[BestPoint] = []
    for index, trial in enumerate(finished, start=1):
        start = trial.started_at or trial.ended_at
        assert trial.ended_at is not None
        if last_end is not None and start is not None:
            clock += min(max(0.0, start - last_end), GAP_CAP_S)
        clock += max(0.0, trial.ended_at - (start or trial.ended_at))
        last_end = trial.ended_at
        score = finite(trial.score) if trial.status in SCORED else None
        if better(score, best, record.direction):
            best = score
        if best is not None:
            out.append(BestPoint(round(clock, 3), index, best))
    return out


# ==========================================================================================
# Bayesian optimisation: the oracle's Gaussian process, from the oracle itself
# ==========================================================================================


def is_bayesian(oracle: Any) -> bool:
    """Whether ``oracle`` is a KerasTuner BayesianOptimizationOracle (or a subclass)."""
    import sys

    kt = sys.modules.get("keras_tuner")
    if kt is None:
        return False
    return isinstance(oracle, kt.oracles.BayesianOptimizationOracle)


class BayesianState:
    """The oracle's Gaussian process fitted once; :meth:`slice` reads it along any axis.

    Made by :func:`bayesian_state`. Which decision it shows:

    - a trial is running (and ``until`` is not given): the decision that chose it. The
      process is fitted on the trials started before it, exactly the data the oracle
      had, and ``next`` is the running trial's values;
    - ``until=trial_id``: the same for any trial (a recording's snapshots);
    - no trial is running: a preview. The oracle's own ``populate_space`` runs on a copy
      of its state (random state included) and returns the trial it will propose next.
      This costs what the oracle's own choice costs (seconds: 50 optimiser restarts);
      ``preview=False`` shows the decision that chose the last trial instead.
    """

    def __init__(
        self,
        oracle: Any,
        *,
        until: str | None = None,
        preview: bool = True,
        timeout: float = 10.0,
    ):
        import numpy as np
        from sklearn.base import clone

        oracle = _oracle_of(oracle)
        if not is_bayesian(oracle):
            raise TypeError(
                "oracle must be a KerasTuner BayesianOptimizationOracle (search with "
                f"oracle='bayesian'); got {type(oracle).__name__}"
            )
        box = _kt_compat.snapshot_oracle(oracle, timeout)
        order = list(box.trials)
        if until is None and box.ongoing_trials:
            until = max((t.trial_id for t in box.ongoing_trials.values()), key=order.index)
        elif until is None and not preview and order:
            until = order[-1]
        chosen = None
        if until is not None:
            if until not in box.trials:
                raise ValueError(
                    f"until={until!r} is not a trial of this oracle; it has: "
                    f"{', '.join(order[-8:]) or 'no trials yet'}"
                )
            chosen = box.trials[until]
            keep = order[: order.index(until)]
            box.trials = {k: box.trials[k] for k in keep}
            box.ongoing_trials = {
                k: t for k, t in box.ongoing_trials.items() if t.trial_id in box.trials
            }
        self.oracle_box = box
        self.objective = box.objective.name
        self.direction = box.objective.direction
        self.beta = float(box.beta)
        self.space = _kt_compat.nonfixed_space(box)
        self.names = [hp.name for hp in self.space]
        completed = [t for t in box.trials.values() if t.status == "COMPLETED"]
        self.completed = len(completed)
        dims = len(box.hyperparameters.space)
        self.initial_points = int(box.num_initial_points or max(3 * dims, 3))
        self.phase = "random" if self.completed < self.initial_points else "model"
        self.observed = []
        for t in completed:
            if t.score is not None:
                self.observed.append((t.trial_id, dict(t.hyperparameters.values), float(t.score)))
        best = None
        for t in completed:
            if t.score is not None and better(
                float(t.score), None if best is None else float(best.score), self.direction
            ):
                best = t
        self.best_id = best.trial_id if best is not None else None
        self.base = self._vector(best.hyperparameters if best is not None else None)

        self.gpr = None
        self.message = ""
        self.next_values: dict[str, Any] | None = None
        self.next_trial: str | None = chosen.trial_id if chosen is not None else None
        self.next_running = chosen is not None and chosen.status == "RUNNING"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning on a handful of points
            try:
                x, y = _kt_compat.vectorize_trials(box)
            except (UnboundLocalError, NameError):
                x, y = np.zeros((0, len(self.space))), np.zeros(0)
                self.message = "the oracle holds a trial it cannot score yet; try after it ends"
            if len(y) >= 2 and len(self.space):
                x = np.nan_to_num(np.asarray(x, dtype=float), posinf=0, neginf=0)
                y = np.nan_to_num(np.asarray(y, dtype=float), posinf=0, neginf=0)
                self.gpr = clone(oracle.gpr).fit(x, y)
            elif not self.message:
                self.message = (
                    "the surrogate needs at least 2 finished trials"
                    if len(self.space)
                    else "this space has no hyperparameter to tune"
                )
            if chosen is not None:
                self.next_values = {k: jsonable(v) for k, v in chosen.hyperparameters.values.items()}
            else:
                try:
                    response = type(oracle).populate_space(box, "preview")
                except Exception as exc:  # noqa: BLE001 - a preview must never break a view
                    response = {"status": "FAILED", "values": None}
                    self.message = self.message or f"the oracle could not preview ({exc})"
                if response.get("status") == "RUNNING" and response.get("values"):
                    self.next_values = {k: jsonable(v) for k, v in response["values"].items()}

    def _vector(self, hps: Any) -> list[float]:
        """A trial's point in [0, 1]^d, exactly as ``_vectorize_trials`` embeds it."""
        vector = []
        for hp in self.space:
            if hps is not None and hps.is_active(hp) and hp.name in hps.values:
                value = hps.values[hp.name]
            else:
                value = hp.default
            vector.append(float(hp.value_to_prob(value)))
        return vector

    def _values_vector(self, values: dict[str, Any]) -> list[float]:
        return [float(hp.value_to_prob(values.get(hp.name, hp.default))) for hp in self.space]

    def _predict(self, points: list[list[float]]) -> tuple[list[float], list[float], list[float]]:
        """(mean, std, acquisition) in the objective's own frame (higher is better for max)."""
        import numpy as np

        mu, sigma = self.gpr.predict(np.asarray(points, dtype=float), return_std=True)
        mu = np.asarray(mu, dtype=float).reshape(-1)
        sigma = np.asarray(sigma, dtype=float).reshape(-1)
        sign = -1.0 if self.direction == "max" else 1.0  # the oracle minimises; undo its flip
        ucb = mu - self.beta * sigma  # KerasTuner's _upper_confidence_bound
        return (
            [float(v) for v in sign * mu],
            [float(v) for v in sigma],
            [float(v) for v in sign * ucb],
        )

    def _axis_values(self, hp: Any, n: int) -> tuple[list[Any], list[float], bool]:
        """Values along one hyperparameter and their points in [0, 1]; discrete or not."""
        fine = [(i + 0.5) / max(n * 4, 200) for i in range(max(n * 4, 200))]
        distinct: list[Any] = []
        for p in fine:
            v = hp.prob_to_value(p)
            if v not in distinct:
                distinct.append(v)
        discrete = len(distinct) <= max(2, n // 2) and not (
            type(hp).__name__ == "Float" and hp.step is None
        )
        if discrete:
            return distinct, [float(hp.value_to_prob(v)) for v in distinct], True
        probs = [i / (n - 1) for i in range(n)] if n > 1 else [0.5]
        probs = [min(max(p, 1e-9), 1 - 1e-9) for p in probs]
        return [hp.prob_to_value(p) for p in probs], probs, False

    def slice(self, hp_name: str, n: int = 100) -> dict[str, Any]:
        """The surrogate along ``hp_name``; see :func:`bayesian_surrogate` for the keys."""
        if hp_name not in self.names:
            raise ValueError(
                f"hp_name {hp_name!r} is not a tuned hyperparameter of this oracle; choose one "
                f"of: {', '.join(self.names) or '(none yet)'}"
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be a whole number of at least 2; got {n!r}")
        index = self.names.index(hp_name)
        hp = self.space[index]
        kind = {"Float": "float", "Int": "int", "Choice": "choice", "Boolean": "boolean"}.get(
            type(hp).__name__, "other"
        )
        values, probs, discrete = self._axis_values(hp, n)
        categorical = kind in ("choice", "boolean") and not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )
        held = {
            name: jsonable(hp_i.prob_to_value(self.base[i]))
            for i, (name, hp_i) in enumerate(zip(self.names, self.space))
            if name != hp_name
        }
        out: dict[str, Any] = {
            "hyperparameter": hp_name,
            "kind": kind,
            "categorical": categorical,
            "discrete": discrete,
            "log": getattr(hp, "sampling", None) == "log",
            "objective": self.objective,
            "direction": self.direction,
            "beta": self.beta,
            "phase": self.phase,
            "completed": self.completed,
            "initial_points": self.initial_points,
            "held": held,
            "held_from": self.best_id,
            "x": [str(v) if categorical else jsonable(v) for v in values],
            "mean": [],
            "std": [],
            "lower": [],
            "upper": [],
            "acquisition": [],
            "observed": [
                {
                    "trial_id": tid,
                    "x": str(vals.get(hp_name, hp.default))
                    if categorical
                    else jsonable(vals.get(hp_name, hp.default)),
                    "score": score,
                }
                for tid, vals, score in self.observed
            ],
            "next": None,
            "ready": self.gpr is not None,
            "message": self.message,
            "text": "",
        }
        if self.gpr is not None:
            points = []
            for p in probs:
                v = list(self.base)
                v[index] = p
                points.append(v)
            mean, std, acq = self._predict(points)
            out.update(
                mean=mean,
                std=std,
                lower=[m - 1.96 * s for m, s in zip(mean, std)],
                upper=[m + 1.96 * s for m, s in zip(mean, std)],
                acquisition=acq,
            )
        if self.next_values is not None:
            value = self.next_values.get(hp_name, hp.default)
            nxt: dict[str, Any] = {
                "x": str(value) if categorical else jsonable(value),
                "trial_id": self.next_trial,
                "running": self.next_running,
                "values": dict(self.next_values),
                "random": self.phase == "random",
                "mean": None,
                "std": None,
                "acquisition": None,
            }
            if self.gpr is not None:
                m, s, a = self._predict([self._values_vector(self.next_values)])
                nxt.update(mean=m[0], std=s[0], acquisition=a[0])
            out["next"] = nxt
        out["text"] = _bayesian_text(out)
        return out


def bayesian_state(
    oracle: Any, *, until: str | None = None, preview: bool = True, timeout: float = 10.0
) -> BayesianState:
    """Fit the oracle's Gaussian process once (for several :meth:`BayesianState.slice` calls)."""
    return BayesianState(oracle, until=until, preview=preview, timeout=timeout)


def bayesian_surrogate(
    oracle: Any, hp_name: str, n: int = 100, *, until: str | None = None
) -> dict[str, Any]:
    """The Bayesian oracle's Gaussian process along one hyperparameter, as plain data.

    ``oracle`` is a KerasTuner ``BayesianOptimizationOracle``, or a running (or finished)
    Search that uses one.

    Computed from KerasTuner's own state, never mutating it: under the oracle's lock
    (``keras_tuner.src.engine.oracle.LOCKS[oracle]``) its trials, Gaussian process and
    random state are copied; outside it, a ``sklearn.base.clone`` of ``oracle.gpr`` is
    fitted on the copy's ``_vectorize_trials()`` (NaN and infinities zeroed, as the oracle
    does). While a trial runs (or for ``until=trial_id``) it shows the decision that chose
    that trial: the process fitted on the trials before it, and that trial as ``next``.
    Otherwise the class's own ``populate_space`` runs on the copy to find the point the
    oracle will try next (as slow as the oracle's own choice: seconds).

    Returns a dict with ``hyperparameter``, ``kind`` (float, int, choice, boolean),
    ``categorical``, ``discrete``, ``log``, ``objective``, ``direction``, ``beta``;
    ``x`` (``n`` values, or every value of a discrete one), and at each: ``mean``, ``std``,
    ``lower``/``upper`` (mean ± 1.96 std) and ``acquisition`` (KerasTuner's upper
    confidence bound mu - beta*sigma, turned back into the objective's frame: mean +
    beta*std when higher is better, mean - beta*std when lower is), all empty until two
    trials have finished (``ready`` False, ``message`` says why); ``held`` (the other
    hyperparameters' values along this slice: those of the best trial, ``held_from``,
    or the defaults); ``observed`` (finished trials: trial_id, x, score); ``next``
    (x, values, trial_id (the trial that ran it, None for a preview), running, random,
    mean, std, acquisition; or None); ``phase`` ("random" while the
    oracle still samples its first ``initial_points`` trials at random, then "model");
    ``completed``; and ``text``, which says all this in words.
    """
    return BayesianState(oracle, until=until).slice(hp_name, n)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
            return f"{value:.2e}"
        return f"{value:.3g}"
    return str(value)


def _bayesian_text(data: dict[str, Any]) -> str:
    hp, objective, beta = data["hyperparameter"], data["objective"], data["beta"]
    maximise = data["direction"] == "max"
    held = (
        f"the other hyperparameters held at trial {data['held_from']}'s values (the best so far)"
        if data["held_from"]
        else "the other hyperparameters held at their defaults"
    )
    parts: list[str] = []
    if not data["ready"]:
        parts.append(
            f"The oracle has {data['completed']} finished trial(s); "
            f"{data['message'] or 'the surrogate needs at least 2'}."
        )
    else:
        bound = (
            f"mean + {beta:g}·σ (the upper confidence bound)"
            if maximise
            else f"mean − {beta:g}·σ (KerasTuner's confidence bound, lower is better here)"
        )
        parts.append(
            f"From {data['completed']} finished trials, a Gaussian process guesses {objective} "
            f"along {hp}, with {held}: the line is its mean, the band its uncertainty "
            f"(±2σ, widest far from any trial). The acquisition curve is {bound}: "
            f"high where the guess is good or the uncertainty is large."
        )
    nxt = data["next"]
    chosen = nxt["trial_id"] if nxt is not None and nxt.get("trial_id") else None
    now = " (running now)" if nxt is not None and nxt.get("running") else ""
    if data["phase"] == "random":
        which = f"trial {chosen}{now}" if chosen else "the next trial"
        parts.append(
            f"For its first {data['initial_points']} trials the oracle samples at random "
            f"(num_initial_points), so {which} is random"
            + (f": {hp} = {_fmt(nxt['x'])}." if nxt else ".")
        )
    elif nxt is not None:
        best_word = "highest" if maximise else "lowest"
        guess = (
            f", where it {'guessed' if chosen else 'guesses'} {_fmt(nxt['mean'])} ± "
            f"{_fmt(nxt['std'])}"
            if nxt.get("mean") is not None
            else ""
        )
        lead = (
            f"It chose trial {chosen}{now} where"
            if chosen
            else "Next, the oracle tries the point where"
        )
        parts.append(
            f"{lead} that bound is {best_word} over all hyperparameters at once: "
            f"{hp} = {_fmt(nxt['x'])}{guess}. It may sit off this slice's own peak, because "
            "the other hyperparameters move too."
        )
    return " ".join(parts)
