"""The Bayesian oracle's next point: where its Gaussian process's bound is best, found in batches.

KerasTuner's ``BayesianOptimizationOracle`` minimises the bound ``mu - beta * sigma`` (the
score's sign flipped when higher is better) with L-BFGS-B from 50 random starts, every
gradient by finite differences of one point a ``predict``: thousands of calls, seconds
between two trials on a small CPU once its random start is over, longer than a trial on a
small table takes. :func:`maximise_bound` asks the same process the same question in
batches: the bound at ``screen`` random points in one ``predict``, then L-BFGS-B from the
best ``refine`` of them, each step's value and forward-difference gradient from one
``predict`` of ``d + 1`` points, so it chooses the same points in a small fraction of the
time (docs/benchmarks.md has the figures); ``tests/test_kt_compat.py`` checks that its
bound is at least as good as KerasTuner's. :class:`FastAcquisition` puts it in the oracle
(:mod:`automl_nb.oracles` mixes it into KerasTuner's own Bayesian class). Importing this
module imports neither KerasTuner nor TensorFlow.
"""

from __future__ import annotations

from typing import Any

from . import _kt_compat

__all__ = ["FastAcquisition", "maximise_bound"]


class FastAcquisition:
    """Mixed into KerasTuner's ``BayesianOptimizationOracle`` (before it): its
    ``populate_space``, the random start, the fit and the values KerasTuner's, with the bound
    maximised by :func:`maximise_bound` from the oracle's own seeded random state."""

    SCREEN = 2000
    REFINE = 5

    def populate_space(self, trial_id):
        import numpy as np

        vectorize, hp_bounds, to_values, random_values, random_state = _kt_compat.bayesian_parts(self)
        completed = [t for t in self.trials.values() if t.status == "COMPLETED"]
        initial = self.num_initial_points or max(3 * len(self.hyperparameters.space), 3)
        bounds = np.asarray(hp_bounds(), dtype=float).reshape(-1, 2)
        # Nothing to tune yet, or nothing at all (the random draw says when all was tried).
        if len(completed) < initial or not len(bounds):
            return random_values()
        x, y = vectorize()
        self.gpr.fit(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(y, posinf=0, neginf=0))
        best, _ = maximise_bound(self.gpr, self.beta, bounds, random_state, screen=self.SCREEN,
                                 refine=self.REFINE)
        return {"status": "RUNNING", "values": to_values(best)}


def maximise_bound(
    gpr: Any, beta: float, bounds: Any, random_state: Any, *, screen: int, refine: int
) -> tuple[Any, float]:
    """The point in ``bounds`` (``d x 2``) where ``mu - beta * sigma`` of ``gpr`` is lowest,
    and that value: ``screen`` uniform draws, then L-BFGS-B from the best ``refine``."""
    import numpy as np
    import scipy.optimize

    low, high = bounds[:, 0], bounds[:, 1]
    d = bounds.shape[0]

    def bound(points):
        mu, sigma = gpr.predict(points, return_std=True)
        return np.ravel(mu) - beta * np.ravel(sigma)

    step = 1e-6 * np.maximum(high - low, 1e-12)

    def value_and_gradient(point):
        point = np.clip(point, low, high)
        # Step up, or down where the point sits on its upper bound.
        steps = np.where(point + step <= high, step, -step)
        values = bound(np.vstack([point, point + np.diag(steps)]))
        return values[0], (values[1:] - values[0]) / steps

    draws = random_state.uniform(low, high, size=(screen, d))
    screened = bound(draws)
    best_x, best_value = draws[int(np.argmin(screened))], float(np.min(screened))
    for start in draws[np.argsort(screened)[:refine]]:
        result = scipy.optimize.minimize(
            value_and_gradient, x0=start, jac=True, bounds=list(zip(low, high)), method="L-BFGS-B"
        )
        value = float(np.ravel(result.fun)[0])
        if value < best_value:
            best_x, best_value = np.clip(result.x, low, high), value
    return best_x, best_value
