"""Trials in this process: KerasTuner on the search's own thread (the default trainer).

:class:`LocalTrainer` builds the search's tuner (its hypermodel from ``spaces``, its oracle
from ``oracles``, the :class:`~automl_nb.backends.tuner.AutoMLTuner` that joins them to the
engine) and keeps it between runs, so a search that ends can be continued, its trials' models
loaded, promoted or retrained. The workers' chief reuses all of this and only runs the trials
elsewhere.

TensorFlow is imported when a tuner is first built: on the search thread for a run, or on
the caller's thread for ``best_model()``/``export()`` of a reopened search.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from .. import oracles
from .._util import quiet_tensorflow_startup
from ..errors import OracleError, SearchError, SpaceError, SpaceFailure
from ..events import SpaceDefined
from .base import Trainer
from .engine import Engine


class LocalTrainer(Trainer):
    """Runs trials with KerasTuner in this process."""

    def __init__(self) -> None:
        super().__init__()
        self._tuner: Any = None
        self._lock = threading.RLock()
        self._building = False
        self._validation_x: Any = None  # the validation inputs, made once for the predictions

    # -- what the Search asks -------------------------------------------------------------
    @property
    def oracle(self) -> Any:
        tuner = self._tuner
        return None if tuner is None else tuner.oracle

    def problem(self) -> str | None:
        job = self.job
        if job.dataset is None:
            return job.data_problem or "this search's data could not be read back, so it cannot train"
        if job.settings.space == "custom" and job.space is None:
            return (
                "this search used its own build(hp); reopen it with "
                "automl_nb.open(directory, space=build) to train"
            )
        if job.oracle is None:
            return (
                "this search used its own Oracle; reopen it with "
                "automl_nb.open(directory, oracle=...) to continue"
            )
        return None

    def run(self, engine: Engine) -> str | None:
        from .. import ensemble
        from ..data.layers import fit_data

        tuner = self.tuner(engine)
        self.publish_space(tuner)
        settings = self.job.settings
        tuner.after_fit = self._keep_predictions if ensemble.applies(settings, self.job.dataset) else None
        args, kwargs = fit_data(self.job.dataset, settings.batch_size, settings.seed)
        with self._determinism():
            tuner.search(*args, verbose=0, **kwargs)
        return tuner.stop_reason

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return self.tuner().complete_values(values)

    def portfolio(self) -> list[tuple[str, dict[str, Any]]]:
        """The space's defaults, then the built-in space's portfolio for the data's family."""
        entries = super().portfolio()
        job = self.job
        if job.space is None and job.dataset is not None:
            from .. import families

            entries += [(name, dict(values)) for name, values in families.get(job.dataset.family).portfolio]
        return entries

    def has_checkpoint(self, trial_id: str) -> bool:
        return self.job.store.has_checkpoint(trial_id)

    def load_model(self, trial_id: str) -> Any:
        return self.tuner().load_trial_model(trial_id)

    def kept_predictions(self, trial_id: str) -> Any:
        return self.job.store.read_predictions(trial_id)

    def _keep_predictions(self, trial_id: str, model: Any, score: float) -> None:
        """The tuner's ``after_fit``: a trial that may join the ensemble keeps its validation
        predictions (one pass of the model in memory, a few hundredths of a second, within the
        budget), so weighing at the end loads no model (a tenth of a second or more each)."""
        from .. import ensemble

        job = self.job
        with job.lock:
            if not ensemble.could_join(job.record, score, usable=self.has_checkpoint):
                return
        if self._validation_x is None:
            self._validation_x = ensemble.validation_inputs(job.dataset, job.settings.seed)
        job.store.write_predictions(trial_id, ensemble.predict(model, self._validation_x))

    def final_fit(self, trial_id: str, epochs: int) -> Any:
        from ..data.layers import fit_data, repeat_rows

        tuner = self.tuner()
        hp = tuner.oracle.get_trial(trial_id).hyperparameters
        model = tuner.hypermodel.build(hp)
        settings = self.job.settings
        batch_size = settings.batch_size or hp.values.get("batch_size")
        args, kwargs = fit_data(self.job.dataset, batch_size, settings.seed, final=True)
        if len(args) == 2:  # an epoch as long as the trials' (a small split passed over again)
            args = repeat_rows(args[0], args[1], batch_size)[:2]
        model.fit(*args, epochs=epochs, verbose=0, **kwargs)
        return model

    # -- the tuner -------------------------------------------------------------------------
    def tuner(self, engine: Engine | None = None) -> Any:
        """The search's tuner, built once; with ``engine``, bound to that run's engine.

        Without an engine (a model operation from the user's thread) it is built if there is
        none yet; while the search thread is building it, that is one sentence.
        """
        with self._lock:
            if self._tuner is None:
                if self._building and engine is None:
                    raise SearchError(
                        "the search is still starting (importing TensorFlow and building its "
                        "first model); try again once the first trial has started"
                    )
                problem = self.problem()
                if problem:
                    raise RuntimeError(problem)
                self._building = True
        try:
            if self._tuner is None:
                tuner = self.build_tuner(engine)
                with self._lock:
                    self._tuner = tuner
        finally:
            self._building = False
        if engine is not None:
            self._tuner.engine = engine
            self._tuner.steer_oracle()  # a fresh scheduler for this run (no stop reason yet)
        return self._tuner

    def build_tuner(self, engine: Engine | None) -> Any:
        """A new AutoMLTuner for this search; a space that cannot be built is a SpaceFailure."""
        quiet_tensorflow_startup()
        from .. import spaces
        from ..builtin_spaces import BAYESIAN_RANDOM_START
        from ..data.layers import train_rows
        from .tuner import AutoMLTuner

        job = self.job
        settings = job.settings
        try:
            hypermodel = spaces.get_space(job.space, job.dataset)
            extra = {}
            named = isinstance(job.oracle, str)  # a user's own Oracle keeps its own settings
            random_start = oracles.kind_of(oracles.check_oracle(job.oracle)).random_start
            if job.space is None and named and random_start:
                extra[random_start] = BAYESIAN_RANDOM_START
            oracle = oracles.get_oracle(
                job.oracle,
                objective=settings.objective,
                direction=settings.direction,
                max_trials=None,
                epochs=settings.budget.epochs,
                seed=settings.seed,
                **extra,
            )
            return AutoMLTuner(
                oracle=oracle,
                hypermodel=hypermodel,
                engine=engine,
                directory=str(job.store.directory),
                seed=settings.seed,
                preprocessing=job.dataset.preprocessing,
                checked_space=job.checked_space,
                train_rows=train_rows(job.dataset),
                batch_size=settings.batch_size,
                max_params=settings.max_params,
            )
        except (SearchError, OracleError):
            raise
        except SpaceError as exc:  # already a sentence about build(hp)
            raise SpaceFailure(f"{exc}; fix it and start the search again") from exc
        except Exception as exc:
            raise SpaceFailure(
                f"build(hp) raised {type(exc).__name__}: {exc}; fix it and start the search again"
            ) from exc

    def publish_space(self, tuner: Any) -> None:
        """Publish the space's hyperparameters when they differ from what the journal has."""
        from ..spaces import hp_spec

        space = [hp_spec(hp) for hp in tuner.oracle.hyperparameters.space]
        space = [s for s in space if not s["name"].startswith("tuner/")]
        if space != self.job.record.space:
            self.job.bus.publish(SpaceDefined(space=space))

    def _determinism(self) -> contextlib.AbstractContextManager[None]:
        """TensorFlow's op determinism for this run, when the search asked for it."""
        settings = self.job.settings
        if not settings.deterministic:
            return contextlib.nullcontext()
        from .. import _kt_compat

        return _kt_compat.deterministic_ops(settings.seed or 0)
