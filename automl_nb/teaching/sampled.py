"""What a search tried and how fast it got good, as data: points over two hyperparameters
and the best score so far.

- :func:`sampled_points`: the points a search tried over two hyperparameters, with scores;
- :func:`best_so_far`: the best score so far against running time and trial count;
- :func:`comparison_data`: :func:`best_so_far` for several searches that share an
  objective (what :func:`automl_nb.compare` draws).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .._util import plural
from ..events import jsonable
from ..oracles import OTHER, kind_of
from ..record import SCORED, SearchRecord, better, finite
from ._common import record_of

__all__ = [
    "GAP_CAP_S",
    "BestPoint",
    "axis_names",
    "best_so_far",
    "comparison_data",
    "sampled_points",
]

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
    record = record_of(record)
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
    if kind_of(record.config.oracle if record.config else None).independent:
        text = (
            f"Random search drew {plural(len(points), 'trial')} independently: no trial learns from "
            "another, so the dots spread evenly over the space (on a log axis for log-sampled "
            "values). Colour is the score; a gold star marks the best."
        )
    else:
        text = (
            f"{plural(len(points), 'trial')} tried so far. Colour is the score; a gold star marks the best. "
            "Where the dots crowd together, the oracle has been looking on purpose."
        )
    return {
        "x": ax,
        "y": ay,
        "points": points,
        "best_id": best.trial_id if best else None,
        "text": text,
    }


# -- best score so far ----------------------------------------------------------------------

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
    record = record_of(record)
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


# -- several searches side by side --------------------------------------------------------


def _label(search: Any) -> str:
    record = search.record
    oracle = record.config.oracle if record.config is not None else None
    name = getattr(search, "name", None) or "search"
    kind = kind_of(oracle).name
    extra = "" if kind == OTHER.name or kind in str(name).lower() else f" ({kind})"
    replayed = " [replay]" if type(search).__name__ == "Replay" else ""
    return f"{name}{extra}{replayed}"


def comparison_data(
    searches: Sequence[Any], labels: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """One dict a search: label, oracle, objective, direction, points (BestPoint tuples), state.

    Raises ValueError when the searches optimise different objectives (their scores
    could not share an axis) or when ``labels`` does not match ``searches``.
    """
    searches = list(searches)
    if not searches:
        raise ValueError("compare() needs at least one search, replay or reopened search")
    if labels is not None and len(labels) != len(searches):
        raise ValueError(
            f"labels has {len(labels)} names for {len(searches)} searches; give one a search"
        )
    out = []
    for i, search in enumerate(searches):
        record = getattr(search, "record", None)
        if record is None or not hasattr(search, "lock"):
            raise TypeError(
                "compare() takes searches (automl_nb.search, automl_nb.open or automl_nb.replay); "
                f"item {i} is {type(search).__name__}"
            )
        with search.lock:
            points = best_so_far(record)
            objective = record.objective
            direction = record.direction
            oracle = record.config.oracle if record.config is not None else None
            state = record.state
            label = labels[i] if labels is not None else _label(search)
        out.append(
            {
                "label": label,
                "oracle": oracle,
                "objective": objective,
                "direction": direction,
                "state": state,
                "points": points,
            }
        )
    objectives = sorted({d["objective"] for d in out if d["objective"]})
    if len(objectives) > 1:
        raise ValueError(
            "these searches optimise different objectives (" + ", ".join(objectives) + "); "
            "compare searches that share one"
        )
    return out
