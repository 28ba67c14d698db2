"""Where the Bayesian oracle looks next, as data: KerasTuner's own Gaussian process, read
without disturbing it.

:func:`bayesian_surrogate` (and :func:`bayesian_state`, for several slices of one fit) copy
the oracle's state under its lock through :mod:`automl_nb._kt_compat` (``snapshot_oracle``,
``nonfixed_space``, ``vectorize_trials``), fit a clone of its ``gpr`` and run the class's own
``populate_space`` on the copy, never on the oracle.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _kt_compat
from ..events import jsonable
from ..oracles import kind_of
from ..record import better
from ..status import OracleStatus
from ._common import oracle_of

__all__ = ["BayesianState", "bayesian_state", "bayesian_surrogate"]


class BayesianState:
    """The oracle's Gaussian process fitted once; :meth:`slice` reads it along any axis.

    Made by :func:`bayesian_state`. Which decision it shows:

    - a trial is running (and ``until`` is not given): the decision that chose it. The
      process is fitted on the trials started before it, exactly the data the oracle
      had, and ``next`` is the running trial's values;
    - ``until=trial_id``: the same for any trial (a recording's snapshots);
    - no trial is running: a preview. The oracle's own ``populate_space`` runs on a copy
      of its state (random state included) and returns the trial it will propose next.
      This costs what the oracle's own choice costs (about a tenth of a second, see
      ``acquisition.FastAcquisition``; an oracle subclass with its own choice may take
      longer); ``preview=False`` shows the decision that chose the last trial instead.
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

        oracle = oracle_of(oracle)
        if isinstance(oracle, str) or not kind_of(oracle).has_surrogate:
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
        completed = [t for t in box.trials.values() if t.status == OracleStatus.COMPLETED]
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
        self.next_running = chosen is not None and chosen.status == OracleStatus.RUNNING
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
                    response = {"status": OracleStatus.FAILED, "values": None}
                    self.message = self.message or f"the oracle could not preview ({exc})"
                if response.get("status") == OracleStatus.RUNNING and response.get("values"):
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
    (KerasTuner's own, reached through :mod:`automl_nb._kt_compat`) its trials, Gaussian
    process and random state are copied; outside it, a ``sklearn.base.clone`` of ``oracle.gpr`` is
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
