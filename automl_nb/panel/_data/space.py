"""The hyperparameters as the charts see them: the space, the names worth charting, kinds.

Shared by the chart, importance and table data (:mod:`automl_nb.panel._data`).
"""

from __future__ import annotations

from typing import Any

from ...events import jsonable
from ...record import SearchRecord
from ...status import FINISHED  # noqa: F401 - read from here by the panel's data functions

plain = jsonable  # a JSON-safe copy of a hyperparameter value (numpy scalars, NaN, tuples)


def space_of(record: SearchRecord) -> list[dict[str, Any]]:
    """The hyperparameter space as the record knows it (``SpaceDefined`` or ``SearchStarted``)."""
    space = getattr(record, "space", None)
    if space:
        return list(space)
    return list(record.config.space) if record.config is not None else []


def kind_of(spec: dict[str, Any] | None, values: list[Any]) -> str:
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


def value_key(value: Any) -> tuple[str, Any]:
    """Hashable, type-aware key (so True and 1 stay different categories)."""
    return (
        type(value).__name__,
        value if isinstance(value, str | int | float | bool) else str(value),
    )
