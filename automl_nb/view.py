"""What a view needs from a search, as ``typing.Protocol`` classes.

The panel (:mod:`automl_nb.panel`), the teaching views and ``compare()``
(:mod:`automl_nb.teaching`) and the text views (:mod:`automl_nb.ui.text`) read a search
through these members only, so anything that has them can be shown:

- :class:`SearchView`: what the panel and the teaching views read, and the commands the
  panel's buttons call. A :class:`~automl_nb.Search`, a :class:`~automl_nb.replays.Replay`
  (whose commands all answer that a replay cannot be steered) and the panel tests'
  :class:`~automl_nb.testing.panel.FakeSearch` are each one.
- :class:`SearchReport`: a :class:`SearchView` that also says its objective, settings,
  results and error, as the text views print them (the command line and the magics show a
  Search).
- Capabilities a view asks for with ``getattr`` and does without: :class:`Steppable` (step
  mode's Step button), :class:`HasOracle` (the live oracle the Bayesian view fits) and
  :class:`RecordedSurrogates` (a replay's recorded Gaussian-process snapshots).

``tests/test_view.py`` checks that the three imitations have every member, each of the
right kind, and that the views use no member of a search that is not listed here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .control import CommandResult, SearchState
from .events import Event, EventBus
from .record import SearchRecord

if TYPE_CHECKING:
    import pandas

__all__ = ["FoldedJournal", "HasOracle", "RecordedSurrogates", "SearchReport", "SearchView",
           "Steppable", "panel_mimebundle"]

log = logging.getLogger("automl_nb")


@runtime_checkable
class SearchView(Protocol):
    """A search as the panel and the teaching views see it."""

    @property
    def name(self) -> str:
        """The search's name (the panel's header, ``compare()``'s labels)."""
        ...

    @property
    def directory(self) -> Path:
        """Its folder (where the panel's exports go by default)."""
        ...

    @property
    def record(self) -> SearchRecord:
        """The fold of its events so far; read it under :attr:`lock`."""
        ...

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """The lock its events are published under."""
        ...

    @property
    def state(self) -> SearchState:
        """Running, paused, done...: which buttons the panel enables."""
        ...

    def subscribe(self, fn: Callable[[Event], Any], replay: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` on every new event (after those so far, if ``replay``); returns
        the unsubscribe."""
        ...

    # -- the commands the panel's buttons call: each answers with a sentence ------------------
    def pause(self) -> CommandResult: ...

    def resume(self) -> CommandResult: ...

    def stop(self) -> CommandResult: ...

    def prune(self, trial_id: str) -> CommandResult: ...

    def promote(self, trial_id: str, epochs: int = 5) -> CommandResult: ...

    def enqueue(self, hyperparameters: dict[str, Any]) -> CommandResult: ...

    def extend(self, trials: int | None = None, time: float | str | None = None) -> CommandResult:
        ...

    def export(self, path: str | os.PathLike[str] | None = None, trial_id: str | None = None
               ) -> Any:
        """Write a model; a search whose ``export`` also takes ``format=`` gets the panel's
        format choice (``panel.best.takes_format``)."""
        ...

    def final_fit(self, trial_id: str | None = None, epochs: int | None = None) -> Any: ...


@runtime_checkable
class SearchReport(SearchView, Protocol):
    """A search as the text views print it (trial lines, status, leaderboard, progress)."""

    @property
    def objective(self) -> str: ...

    @property
    def direction(self) -> str: ...

    @property
    def budget(self) -> Any:
        """The budget now (:class:`~automl_nb.settings.Budget`; ``extend()`` raises it)."""
        ...

    @property
    def results(self) -> pandas.DataFrame: ...

    @property
    def error(self) -> str | None:
        """Why the search broke off, or None."""
        ...


@runtime_checkable
class Steppable(Protocol):
    """A search with step mode (the panel's Step button)."""

    def step(self) -> CommandResult: ...


@runtime_checkable
class HasOracle(Protocol):
    """A live search: its KerasTuner oracle once its thread has built it (else None)."""

    @property
    def oracle(self) -> Any: ...


@runtime_checkable
class RecordedSurrogates(Protocol):
    """A replay whose recording carries the Bayesian oracle's snapshots."""

    def surrogate_names(self) -> list[str]: ...

    def surrogate(self, hp_name: str) -> dict[str, Any] | None: ...


def panel_mimebundle(owner: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """What Jupyter shows for a search (or a replay): its panel, with its repr as the text form."""
    try:
        widget = owner.panel()
    except Exception:  # no widget front end: the text form
        log.debug("panel unavailable", exc_info=True)
        return {"text/plain": repr(owner)}
    bundle = widget._repr_mimebundle_(include=include, exclude=exclude)
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    bundle = dict(bundle or {})
    bundle["text/plain"] = repr(owner)
    return bundle


class FoldedJournal:
    """What a view of a journal that some other thread folds shares: the record, the state,
    the events, the results and the panel, read from ``self._record`` (a
    :class:`~automl_nb.record.SearchRecord`) fed by ``self._bus`` (an
    :class:`~automl_nb.events.EventBus`) under ``self.lock``.

    :class:`~automl_nb.replays.Replay` (a recording played back) and
    :class:`~automl_nb.attached.AttachedSearch` (another process's search, followed) are
    each one; each says how its journal arrives and what its commands do.
    """

    _record: SearchRecord
    _bus: EventBus

    @property
    def lock(self) -> AbstractContextManager[Any]:
        return self._bus.lock

    @property
    def record(self) -> SearchRecord:
        """The fold of the events so far. Read it under ``lock``."""
        return self._record

    @property
    def state(self) -> SearchState:
        try:
            return SearchState(self._record.state)
        except ValueError:
            return SearchState.IDLE

    @property
    def space(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._record.space)

    def subscribe(self, fn: Callable[[Event], Any], replay: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` on every event from now on (after those so far if ``replay``)."""
        return self._bus.subscribe(fn, replay=replay)

    def events(self) -> list[Event]:
        """The events so far."""
        return self._bus.history

    @property
    def results(self) -> pandas.DataFrame:
        """One row a trial so far, as ``Search.results``."""
        with self.lock:
            return self._record.results()

    def best_hyperparameters(self) -> dict[str, Any]:
        """The best trial's hyperparameter values so far (a RuntimeError before any has a score)."""
        with self.lock:
            return self._record.best_hyperparameters()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return panel_mimebundle(self, include, exclude)
