"""How Hyperband decides, as data: its brackets and rounds filled in with a search's trials.

:func:`hyperband_diagram` reads a :class:`~automl_nb.record.SearchRecord` only, so it works
for live, reopened and replayed searches without TensorFlow; :func:`hyperband_size`,
:func:`hyperband_epochs` and :func:`hyperband_brackets` are KerasTuner's own sizing formulas.
"""

from __future__ import annotations

import math
from typing import Any

from .._util import plural
from ..record import SCORED, SearchRecord, TrialRecord, finite
from ..status import FINAL_STATES, SearchState, TrialStatus
from ._common import record_of

__all__ = [
    "hyperband_brackets",
    "hyperband_diagram",
    "hyperband_epochs",
    "hyperband_size",
]

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
            f"Bracket {bracket}: {plural(first['size'], 'trial')}, each trained for all "
            f"{plural(first['epochs'], 'epoch')}: plain random search, nobody is dropped early."
        )
    text = (
        f"Bracket {bracket}: starts {plural(first['size'], 'trial')} for "
        f"{plural(first['epochs'], 'epoch')} each"
    )
    for i, r in enumerate(rounds[1:]):
        joiner = " and keeps" if i == 0 else ", then"
        text += f"{joiner} the best {r['size']} for {plural(r['epochs'], 'epoch')}"
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
    promoted or enqueued trials, which belong to no bracket), ``best_id`` (the best
    trial so far, or None) and ``brackets``: one dict a
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
    record = record_of(record)
    if max_epochs is None:
        if record.config is None:
            raise ValueError("max_epochs is not known before the search starts; pass max_epochs=")
        max_epochs = int(record.config.epochs)
    max_epochs, factor = _check_hyperband_args(max_epochs, factor)
    n_brackets = hyperband_brackets(max_epochs, factor)
    first_epochs = {hyperband_epochs(b, 0, max_epochs, factor): b for b in range(n_brackets)}
    over = record.state in FINAL_STATES

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
        "best_id": best.trial_id if (best := record.best()) is not None else None,
        "brackets": brackets,
    }


def _place(
    trial: TrialRecord,
    placed: dict[str, tuple[dict[str, Any], int]],
    first_epochs: dict[int, int],
    n_brackets: int,
) -> tuple[int, int, dict[str, Any] | None] | None:
    """(bracket, round, the parent's bracket instance or None) of an oracle trial, or None."""
    info = getattr(trial, "info", None) or {}
    if trial.source != "oracle" and info.get("placed") != "hyperband":
        return None  # a queued trial runs in a bracket's place only when the oracle gave it one
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
            if t.status in (TrialStatus.RUNNING, TrialStatus.FAILED):
                fate = str(t.status)
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
        m["status"] != TrialStatus.RUNNING for m in rounds[-1]["trials"]
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
    """A running trial's best objective value so far (the record's)."""
    best = trial.best(objective, direction)
    return None if best is None else best.score


def _hyperband_text(
    brackets: list[dict[str, Any]], max_epochs: int, factor: int, objective: str
) -> str:
    if not brackets:
        return ""
    first, last = brackets[0], brackets[-1]
    text = f"max {plural(max_epochs, 'epoch')}, factor {factor}: "
    if len(brackets) == 1:
        return text + (
            f"one bracket only, {plural(first['trials'], 'trial')} trained for all "
            f"{plural(max_epochs, 'epoch')}: max_epochs is below the factor, so nothing is "
            "dropped early."
        )
    r0 = first["rounds"][0]
    r1 = first["rounds"][1]
    text += (
        f"the first bracket starts {plural(r0['size'], 'trial')} for "
        f"{plural(r0['epochs'], 'epoch')} and keeps the best {r1['size']} for "
        f"{plural(r1['epochs'], 'epoch')}"
    )
    for r in first["rounds"][2:]:
        text += f", then the best {r['size']} for {plural(r['epochs'], 'epoch')}"
    text += (
        f". Hyperband plays {len(brackets)} such brackets, each a little more patient than the "
        f"last, down to bracket 0: {plural(last['trials'], 'trial')} that all train "
        f"{plural(max_epochs, 'epoch')}, like random search. In every round, the best trials by "
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
        if record.state in FINAL_STATES:
            done = sum(1 for b in brackets if b["status"] == "done")
            return f"The search has ended: {done} of {len(brackets)} brackets played to the end."
        if not record.trials:
            return "Waiting for the first trial."
        if record.state == SearchState.PAUSED:
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
