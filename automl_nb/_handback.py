"""What a search hands back: the best model, a trial's model, the final fit and the export.

:class:`HandBack` turns a search's trials into Keras models; each
:class:`~automl_nb.Search` owns one and hands it its parts (record, trainer, data, settings)
explicitly, and its public model methods (``best_model``, ``final_fit``, ``export``,
``ensemble_weights``) call it. With no ``trial_id`` the model handed back is, in order: the final fit's (when one
was made), the search's ensemble of its best trials (when the search found one that predicts
the validation data better than its best trial alone; :mod:`automl_nb.ensemble`), or the
best trial's, at its best epoch. A ``trial_id`` always means that trial's own model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._checks import positive_int
from .backends.base import explain_failure
from .errors import SearchError
from .events import Event, PlanMade
from .record import SCORED
from .status import SearchState

if TYPE_CHECKING:
    from .backends.base import Trainer
    from .record import SearchRecord

log = logging.getLogger("automl_nb")


class HandBack:
    """The models of one search.

    Args:
        record: the search's record (which trials are best, the ensemble decision).
        trainer: its trainer (``load_model``, ``final_fit``, kept predictions, checkpoints).
        dataset: its data (the validation rows, the export's labels), or None.
        settings: what it was asked for (objective, seed).
        directory: its folder (the export's default path).
        lock: the search's lock, held while the record is read.
        state: the search's state now (no final fit while it runs).
        publish: publishes an event as the search's own (journal first).
        answer: answers a command as the search does (a ``CommandIssued`` event).
    """

    def __init__(self, *, record: SearchRecord, trainer: Trainer, dataset: Any, settings: Any,
                 directory: Path, lock: Any, state: Callable[[], SearchState],
                 publish: Callable[[Event], None], answer: Callable[..., Any]) -> None:
        self._record, self._trainer, self.dataset = record, trainer, dataset
        self.settings, self.directory, self.lock = settings, directory, lock
        self._state, self._publish, self._answer = state, publish, answer
        self._final_model: Any = None  # the final fit's model, once made
        self._final_trial: str | None = None
        self._final_weights: dict[str, float] = {}  # the ensemble the final fit retrained

    # -- the ensemble ---------------------------------------------------------------------------
    def weigh_ensemble(self) -> None:
        """At the end of a search: weigh its best trials on the validation data and journal the
        decision (:func:`automl_nb.ensemble.weigh`). A failure here is said, not raised: the
        best trial is handed back as before."""
        from . import ensemble

        settings = self.settings
        if not ensemble.applies(settings, self.dataset):
            return
        try:
            x_val, y_val = None, self.dataset.y_val

            def predict(trial_id: str) -> Any:  # kept when its fit ended, else from its model
                nonlocal x_val
                kept = self._trainer.kept_predictions(trial_id)
                if kept is not None and len(kept) == len(y_val):
                    return kept
                if x_val is None:
                    x_val = ensemble.validation_inputs(self.dataset, settings.seed)
                return ensemble.predict(self._trainer.load_model(trial_id), x_val)

            plan = ensemble.weigh(self._record, predict, y_val, self.dataset.task,
                                  usable=self._trainer.has_checkpoint)
        except Exception as exc:  # the search has its trials: say why, go on
            log.debug("ensemble failed", exc_info=True)
            plan = PlanMade(decision="ensemble", message=(
                f"the best model is the best trial alone: its ensemble could not be weighed "
                f"({explain_failure(exc)})"), detail={"weights": {}})
        if plan is not None:
            self._publish(plan)

    def ensemble_weights(self) -> dict[str, float]:
        """The trials the best model averages and their weights ({} when it is one trial's)."""
        from .ensemble import weights_of

        with self.lock:
            return weights_of(self._record.ensemble)

    # -- models ---------------------------------------------------------------------------------
    def resolve_trial(self, trial_id: Any) -> str:
        with self.lock:
            if trial_id is None:
                best = self._record.best()
                if best is None:
                    raise RuntimeError("no trial has finished with a score yet; wait for one first")
                return best.trial_id
            tid = normalise_trial_id(trial_id)
            trial = self._record.trials.get(tid)
            if trial is None:
                raise SearchError(f"trial_id {tid!r} is not a trial of this search")
            if trial.status not in SCORED:
                raise SearchError(f"trial {tid} is {trial.status}; choose a finished trial with a score")
            return tid

    def best_model(self, trial_id: str | None = None):
        """The best model as a Keras model: the final fit's, else the search's ensemble of its
        best trials (:meth:`ensemble_weights`), else the best trial's at its best epoch; or
        ``trial_id``'s own model at its best epoch."""
        tid = self.resolve_trial(trial_id)
        if trial_id is not None:
            return self._trainer.load_model(tid)
        if self._final_model is not None:
            return self._final_model
        weights = self.ensemble_weights()
        if not weights:
            return self._trainer.load_model(tid)
        from .ensemble import build

        return build({member: self._trainer.load_model(member) for member in weights}, weights)

    def final_fit(self, trial_id: str | None = None, epochs: int | None = None):
        """:meth:`automl_nb.Search.final_fit`: the retrained model, kept for export()."""
        state = self._state()
        if state in (SearchState.RUNNING, SearchState.PAUSED, SearchState.STOPPING):
            raise RuntimeError(
                f"the search is {state.value}; final fit runs once it is done (stop() or wait() first)"
            )
        tid = self.resolve_trial(trial_id)
        weights = self.ensemble_weights() if trial_id is None else {}
        if epochs is not None:
            epochs = positive_int("epochs", epochs)
        counts: dict[str, int] = {}
        with self.lock:
            for member in weights or [tid]:
                trial = self._record.trials[member]
                counts[member] = positive_int(
                    "epochs", epochs or trial.best_epoch or trial.epochs or self.settings.budget.epochs)
        models = {member: self._trainer.final_fit(member, n) for member, n in counts.items()}
        if weights:
            from .ensemble import build

            model = build(models, weights)
            message = (f"trials {', '.join(counts)} of the ensemble retrained on all data for "
                       f"{', '.join(str(n) for n in counts.values())} epochs, with the same weights")
        else:
            model = models[tid]
            message = f"trial {tid} retrained on all data for {counts[tid]} epochs"
        self._final_model, self._final_trial, self._final_weights = model, tid, weights
        self._answer("final_fit", True, message, trial_id=tid, epochs=counts.get(tid),
                     members=counts)
        return model

    def export(self, path: str | os.PathLike[str] | None = None, trial_id: str | None = None,
               format: str = "keras", quantize: str | None = None) -> Path:
        """:meth:`automl_nb.Search.export`: the written file's path."""
        from . import export as exporting

        fmt, target = exporting.check(format, path, self.directory)
        mode = exporting.check_quantize(quantize, fmt)
        tid = self.resolve_trial(trial_id)
        final = trial_id is None and self._final_model is not None
        if final:
            weights = self._final_weights
        else:
            weights = {} if trial_id is not None else self.ensemble_weights()
        with self.lock:
            trial = self._record.trials[tid]
        meta = exporting.metadata(trial, self.dataset, self.settings, fmt, final, self.directory)
        meta["ensemble"] = weights or None
        data = exporting.ScoringData(self.dataset, self.settings.seed) if mode else None
        report = exporting.write(self.best_model(trial_id), target, fmt, meta, mode, data)
        what = (f"the ensemble of trials {', '.join(weights)}" if weights else f"trial {tid}")
        what = f"the final fit of {what}" if final else what
        message = f"exported {what} to {target}"
        if report is not None:
            message += f", quantized {exporting.describe_quantization(report)}"
        self._answer("export", True, message, trial_id=tid, path=str(target),
                     quantization=report)
        return target


def normalise_trial_id(trial_id: Any) -> str:
    """A trial id as the search writes it: 7 and "7" are "0007"."""
    if isinstance(trial_id, int) and not isinstance(trial_id, bool):
        return f"{trial_id:04d}"
    text = str(trial_id).strip()
    return f"{int(text):04d}" if text.isdigit() and len(text) < 4 else text
