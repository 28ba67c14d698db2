"""Checks of the arguments users give ``search()``, ``open()`` and a Search's commands.

Each returns the value to use or raises :class:`~automl_nb.errors.SearchError` with the
argument's name, what was received and what would work. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Any

from ._util import DurationError, did_you_mean, parse_time
from .errors import SearchError
from .oracles import objective_direction


def positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """A whole number of at least 1 (a whole float is accepted), or None when allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SearchError(f"must be a whole number of at least 1; got {value!r}", argument=name,
                          value=value)
    if value < 1:
        raise SearchError(f"must be at least 1; got {value!r}", argument=name, value=value)
    return int(value)


def check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SearchError(f"must be a whole number of 0 or more, or None; got {seed!r}",
                          argument="seed", value=seed)
    return seed


def check_time(value: Any, name: str = "time") -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"1h"``; None for no time budget."""
    try:
        return parse_time(value)
    except DurationError as exc:
        raise SearchError(exc.problem, argument=name, value=value, hint=exc.hint) from None


def known_metrics(task: str) -> list[str]:
    """The metrics the built-in spaces log for a task, validation first."""
    base = ["loss", "accuracy"] if task == "classification" else ["loss", "mae"]
    return [f"val_{m}" for m in base] + base


def check_objective(objective: Any, task: str, custom_space: bool) -> tuple[str, str]:
    """(objective, direction): the task's default when None; a built-in space's metric names only.

    ``objective`` is a metric name, or a ``keras_tuner.Objective(name, direction)`` for a
    metric of your own whose name does not say which way is better.
    """
    if objective is None:
        objective = "val_accuracy" if task == "classification" else "val_loss"
    if isinstance(getattr(objective, "name", None), str) and hasattr(objective, "direction"):
        # a keras_tuner.Objective: the way to name a metric whose direction its name hides
        name, direction = objective.name.strip(), objective.direction
        if direction not in ("min", "max"):
            raise SearchError(f"direction must be 'min' or 'max'; got {direction!r}",
                              argument="objective", value=objective)
        if not custom_space:
            check_objective(name, task, custom_space)
        return name, direction
    if not isinstance(objective, str) or not objective.strip():
        raise SearchError(f"must be a metric name such as 'val_accuracy'; got {objective!r}",
                          argument="objective", value=objective)
    objective = objective.strip()
    if not custom_space:
        known = known_metrics(task)
        if objective not in known:
            raise SearchError(
                f"'{objective}' is not a metric of this {task} search",
                argument="objective", value=objective,
                hint=f"choose one of: {', '.join(known)}{did_you_mean(objective, known)}",
            )
    return objective, objective_direction(objective)
