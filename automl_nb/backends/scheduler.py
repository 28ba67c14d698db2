"""What runs next: the one scheduler every trainer calls, and what it and the tuner need.

:class:`Scheduler` answers the oracle's question "what is trial N?" for all three trainers:
the local tuner and the workers' chief install :meth:`Scheduler.next` as the oracle's
scheduler (``oracles.steer``), and the scripted trainer calls it in its own loop with a
sampler for a proposal. The order is the engine's (:meth:`Engine.next_request
<automl_nb.backends.engine.Engine.next_request>`: the user's requests, a planned promotion,
the warm start's portfolio, then the oracle's turn, within the budgets); this module adds what
every trainer did by hand before: completing a queued trial's values against the space
(skipping a portfolio entry the space refuses), giving a queued trial Hyperband's next
first-round place, checking the oracle's proposal against the time left, counting it against
the trials budget, and, with trials side by side (workers), answering "idle" instead of
starting one while paused or while a late promotion may still come.

The two :class:`~typing.Protocol` classes say what is asked of the engine: :class:`TrialEngine`
by a trial's tuner and callback (the engine here, a worker's link to the chief's engine
there), :class:`SchedulingEngine` by the scheduler. ``tests/test_house.py`` checks that the
Engine satisfies both and that ``tuner.py`` and this module ask for nothing else.

No TensorFlow or KerasTuner here: the scripted trainer runs this very code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ..control import Action, Request
from ..errors import InputError
from ..status import OracleStatus
from .engine import Stop, TrialPlan, Verdict

log = logging.getLogger("automl_nb")

#: The oracle's answer to "what is trial N?" (KerasTuner's ``populate_space`` shape):
#: ``{"status": "RUNNING", "values": {...}}``, ``"STOPPED"`` (no more trials) or ``"IDLE"``
#: (ask again soon).
Response = dict[str, Any]
STOPPED: Response = {"status": OracleStatus.STOPPED, "values": None}
IDLE: Response = {"status": OracleStatus.IDLE, "values": None}


@runtime_checkable
class TrialEngine(Protocol):
    """What a trial's callback and the worker's tuner call: the Engine, or a worker's link."""

    def plan_for(self, trial_id: str, values: dict[str, Any]) -> TrialPlan: ...

    def begin_trial(self, plan: TrialPlan, values: dict[str, Any],
                    info: dict[str, Any] | None = None) -> None: ...

    def batch_end(self, trial_id: str, loss: float | None = None) -> Action | None: ...

    def epoch_end(self, trial_id: str, epoch_index: int, metrics: dict[str, Any],
                  can_slow: bool = False) -> Verdict: ...

    def fail(self, trial_id: str, reason: str) -> None: ...


@runtime_checkable
class TunerEngine(TrialEngine, Protocol):
    """What ``AutoMLTuner`` asks of the engine in one process (or the chief): a trial's life."""

    def outcome(self, trial_id: str) -> tuple[str, str | None] | None: ...

    def end_trial(self, trial_id: str, score: float | None = None) -> str: ...


@runtime_checkable
class SchedulingEngine(Protocol):
    """What the :class:`Scheduler` asks of the engine: the queue's order, the budgets, plans."""

    def next_request(self) -> Request | None: ...

    def plan_request(self, trial_id: str, request: Request) -> TrialPlan: ...

    def plan_placed(self, trial_id: str, request: Request, values: dict[str, Any]) -> TrialPlan: ...

    def check_proposal(self, values: dict[str, Any]) -> None: ...

    def note_oracle_trial(self, trial_id: str) -> None: ...

    def requeue(self, request: Request) -> None: ...

    def hold_while_paused(self) -> None: ...

    def paused(self) -> bool: ...

    def stop_reason(self) -> str | None: ...


class Scheduler:
    """The next trial of one run of a search, for any trainer.

    Args:
        engine: the run's engine (None for a tuner built only to load a model: it never asks).
        complete: a queued trial's values checked against the space, with the defaults for
            the ones missing; an :class:`~automl_nb.errors.InputError` skips a portfolio entry.
        bracketed: the oracle runs Hyperband's brackets: a queued trial (not a promotion)
            takes the next first-round place it proposes instead of running on its own.
        label: called with (trial_id, response) on each trial the oracle proposes (the
            tuner's Hyperband bracket label), or None.
        others_running: with trials side by side (workers), whether other trials still run;
            then a paused search answers IDLE instead of blocking, and a search whose budget is
            spent answers IDLE while others run (one of them may still be promoted).
    """

    def __init__(
        self,
        engine: SchedulingEngine | None,
        *,
        complete: Callable[[dict[str, Any]], dict[str, Any]],
        bracketed: bool = False,
        label: Callable[[str, Response], None] | None = None,
        others_running: Callable[[], bool] | None = None,
    ):
        self.engine = engine
        self.complete = complete
        self.bracketed = bracketed
        self.label = label or (lambda trial_id, response: None)
        self.others_running = others_running
        self.stop_reason: str | None = None  # why it last answered STOPPED

    def boundary(self) -> None:
        """A trial boundary (before asking for the next trial): wait while paused. Trials side
        by side never wait here: :meth:`next` answers IDLE instead."""
        if self.others_running is None:
            self.engine.hold_while_paused()

    def next(self, trial_id: str, propose: Callable[[str], Response]) -> Response:
        """The next trial: a queued request, the oracle's proposal (``propose``), or STOPPED
        (``stop_reason`` says why) or IDLE."""
        engine = self.engine
        if self.others_running is not None and engine.paused():
            return dict(IDLE)
        response = self._next(trial_id, propose)
        if (
            self.others_running is not None
            and response.get("status") == OracleStatus.STOPPED
            and self.others_running()
            and engine.stop_reason() is None
        ):
            return dict(IDLE)
        return response

    def _next(self, trial_id: str, propose: Callable[[str], Response]) -> Response:
        engine = self.engine
        while True:
            try:
                request = engine.next_request()
            except Stop as stop:
                return self._stopped(str(stop))
            if request is None or request.source == "promoted":
                break
            try:
                request.values = self.complete(request.values)
                break
            except InputError as exc:  # a portfolio entry this space cannot take
                log.info("skipping a queued trial (%s): %s", request.source, exc)
        if request is not None and (request.source == "promoted" or not self.bracketed):
            engine.plan_request(trial_id, request)
            return {"status": OracleStatus.RUNNING, "values": dict(request.values)}
        response = propose(trial_id)
        if request is not None:
            return self._place(trial_id, request, response)
        status = response.get("status")
        if status == OracleStatus.RUNNING:
            self.label(trial_id, response)
            if not self.bracketed:
                try:
                    engine.check_proposal(response.get("values") or {})
                except Stop as stop:
                    return self._stopped(str(stop))
            engine.note_oracle_trial(trial_id)
        elif status == OracleStatus.STOPPED:
            self.stop_reason = "the oracle has no more trials to propose"
        return response

    def _place(self, trial_id: str, request: Request, response: Response) -> Response:
        """Hyperband: a queued trial takes the first-round place the oracle just proposed.

        It then trains that round's epochs in that bracket, and goes on to the later rounds if
        it is among the best, as any of Hyperband's own trials. When the oracle's next trial
        is a later round, the request waits for the next first-round place; when the oracle
        has nothing to propose, it runs on its own.
        """
        engine = self.engine
        values = response.get("values") or {}
        if response.get("status") == OracleStatus.RUNNING:
            if values.get("tuner/round") == 0 and "tuner/trial_id" not in values:
                tuner_values = {k: v for k, v in values.items() if k.startswith("tuner/")}
                response = {**response, "values": {**request.values, **tuner_values}}
                self.label(trial_id, response)
                engine.plan_placed(trial_id, request, response["values"])
                return response
            engine.requeue(request)
            self.label(trial_id, response)
            engine.note_oracle_trial(trial_id)
            return response
        engine.plan_request(trial_id, request)
        return {"status": OracleStatus.RUNNING, "values": dict(request.values)}

    def _stopped(self, reason: str) -> Response:
        self.stop_reason = reason
        return dict(STOPPED)
