"""The live panel: one ipywidgets VBox over a search's event stream.

The panel subscribes to the search with ``replay=True``, so a panel made late,
or a second one, or one over a finished search, folds the same events into the
same picture. The subscriber only appends to a buffer (it runs on the search
thread); a daemon flusher thread folds what arrived every ``interval`` seconds
into the panel's own :class:`~automl_nb.record.SearchRecord` (a view of the
events, never read from the search thread) and pushes to the browser only
what changed. Under a flood of events each part refreshes at most at its own
cadence and within a budget of comm messages (:mod:`automl_nb.panel._cadence`).
The charts are built from the chart registry (:mod:`automl_nb.panel.registry`): each
registered chart's renderer, laid out where it says, refreshed on its events.

Every control has a Python path (``panel.pause_button.click()``,
``panel.table.click("prune", "0003")``) and ``panel.flush()`` folds pending
events synchronously, so tests never wait on the timer.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..events import EpochEnded, Event
from ..record import SearchRecord
from ..status import FINAL_STATES, SearchState, TrialStatus
from ..view import SearchView
from . import _html
from ._cadence import RARE, Cadence, parts
from ._data import (
    best_trial_ids,
    header_info,
    main_hyperparameters,
    space_of,
    status_info,
    status_text,
    table_row,
)
from ._messages import MessageBoard
from ._widgets import assign, close_tree, sentence
from .best import BestBox
from .controls import Controls
from .figures import CHART_GRID
from .form import EnqueueForm
from .registry import ChartKind, ChartOptions, chart_kinds
from .sections import Section
from .table import TrialTable
from .teaching_tab import TeachingViews

log = logging.getLogger("automl_nb")

__all__ = ["PARTS", "Panel", "ViewRecord"]

#: The parts of a panel with the charts registered when this module was imported (each panel
#: takes the registry as it is when it is made): (seconds, messages) a part, the live parts
#: in refresh order, the summary parts.
PARTS, LIVE, SUMMARY = parts(chart_kinds())
#: Parts that a trial's end or a new search makes stale, besides the charts (theirs: registry)
_SUMMARY_OWN = ("cards", "teaching")


class ViewRecord(SearchRecord):
    """The panel's fold of the events: a SearchRecord that keeps each epoch's metrics
    by reference to its (frozen) event rather than as a copy, which halves what a
    second fold of a long search costs."""

    def apply(self, event: Event) -> None:
        super().apply(event)
        if isinstance(event, EpochEnded):
            trial = self.trials.get(event.trial_id)
            if trial is not None and trial.curve and trial.curve[-1][0] == event.epoch:
                trial.curve[-1] = (event.epoch, event.metrics)


class Panel(widgets.VBox):
    """The live panel of a search (``Search.panel()``).

    At first sight (one 1366 x 768 screen): ``header``; the controls (``pause_button``
    (Pause/Resume), ``step_button``, ``stop_button``, ``add_trials_input``,
    ``add_trials_button``, ``add_time_button``); ``progress``, ``status_line`` and
    ``status_message`` (the one latest sentence, :mod:`automl_nb.panel._messages`); the
    best model (``best_html``, ``export_path``, ``export_format``, ``export_button``,
    ``final_fit_button``, ``final_fit_status``); the registered charts placed "charts",
    ``objective_chart`` and ``curves_chart`` (renderers; their ``.widget`` is the
    :class:`~automl_nb.panel.chart.Chart`; every chart's is in ``chart_renderers``); ``table``
    (:class:`TrialTable`), and ``details`` (``details_html``, ``details_export_button``,
    ``details_close_button``) when a trial's are open. The rest in collapsible
    ``sections`` (name -> :class:`~automl_nb.panel.sections.Section`, closed at first):
    "hyperparameters" (its charts: ``parallel_chart``, ``importance_chart``), "teaching" (``teaching``,
    how the oracle decides) and "enqueue" (``enqueue_inputs``, ``enqueue_button``).
    ``record`` is the panel's own fold of the events; ``flush()`` folds and pushes now.

    Args:
        search: a Search (or anything with its interface, such as
            :class:`~automl_nb.testing.panel.FakeSearch`).
        interval: seconds between two rounds of the flusher thread.
        max_curves: traces of the learning-curves chart (trials beyond it show
            the running ones, the ``keep_best`` best and the most recent).
        autostart: start the flusher (tests pass False and call ``flush()``);
            a search that has already ended never starts one.
        clock: the monotonic clock the cadences and the message budget use.
    """

    def __init__(
        self,
        search: SearchView,
        *,
        interval: float = 0.25,
        max_curves: int = 40,
        keep_best: int = 5,
        autostart: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.search = search
        self.interval = interval
        self.max_curves = max_curves
        self.keep_best = keep_best
        self._clock = clock
        self.chart_kinds: tuple[ChartKind, ...] = chart_kinds()
        self.chart_options = ChartOptions(max_curves=max_curves, keep_best=keep_best)
        self.parts, self._live, self._summary = parts(self.chart_kinds)
        self._cadence = Cadence(clock, self.parts)
        self.record: SearchRecord = ViewRecord()
        self.rounds = 0  #: flushes that sent something to the browser
        self._events: collections.deque[Event] = collections.deque()
        self._lock = threading.RLock()  # folding and pushing
        self._thread_lock = threading.Lock()  # starting and stopping the flusher
        self._running = False
        self._closed = False
        self._auto = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._dirty: set[str] = {"status"}  # a search not started yet says so
        self._rows: dict[str, dict[str, Any]] = {}
        self._board = MessageBoard()
        self._heard = -1  #: the last event's seq the subscriber was handed
        self.details_trial: str | None = None
        self._build()
        super().__init__(
            children=[
                self.header,
                self.controls,
                self.status_box,
                self.best_box,
                self.charts,
                self.table,
                self.details,
                self.more,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.add_class("amnb-panel")
        self._unsubscribe = search.subscribe(self._on_event, replay=True)
        self.flush()
        self._auto = autostart
        if autostart and not self.settled:
            self._start_flusher()

    # -- building ---------------------------------------------------------------------
    def _build(self) -> None:
        self.header = widgets.HTML(_html.header_html(header_info(self.record)))
        self.header.add_class("amnb-header")
        self.controls = Controls(
            self.search, command=self._command, say=self._say, state=lambda: self.record.state
        )
        for name in ("pause_button", "step_button", "stop_button", "add_trials_input",
                     "add_trials_button", "add_time_button"):
            setattr(self, name, getattr(self.controls, name))
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="180px", flex="0 0 auto")
        )
        self.status_line = widgets.HTML("")
        self.status_line.add_class("amnb-status")
        self.status_message = widgets.Label("", layout=widgets.Layout(margin="0 0 0 12px"))
        self.status_message.add_class("amnb-message")
        self.status_box = widgets.HBox(
            [self.progress, self.status_line, self.status_message],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.best_box = BestBox(
            self.search, command=self._command, say=self._say, record=lambda: self.record
        )
        for name in ("best_html", "export_path", "export_format", "export_button",
                     "final_fit_button", "final_fit_status"):
            setattr(self, name, getattr(self.best_box, name))

        grid = {"grid_template_columns": CHART_GRID, "width": "100%", "grid_gap": "4px 12px"}
        #: name -> renderer, one a registered chart (also ``panel.<name>_chart``)
        self.chart_renderers: dict[str, Any] = {}
        placed: dict[str, list[widgets.Widget]] = {}
        for kind in self.chart_kinds:
            renderer = self.chart_renderers[kind.name] = kind.renderer(self.chart_options)
            setattr(self, kind.attribute, renderer)
            placed.setdefault(kind.place, []).append(renderer.widget)
        self.charts = widgets.GridBox(placed.get("charts", []), layout=widgets.Layout(**grid))
        self.table = TrialTable(on_action=self._row_action)

        self.details_html = widgets.HTML("")
        self.details_export_button = widgets.Button(
            description="Export this trial", icon="download"
        )
        self.details_close_button = widgets.Button(description="Close", icon="times")
        self.details_export_button.on_click(lambda _b: self._export_trial())
        self.details_close_button.on_click(lambda _b: self.hide_details())
        self.details = widgets.VBox(
            [
                self.details_html,
                widgets.HBox([self.details_export_button, self.details_close_button]),
            ],
            layout=widgets.Layout(
                display="none", border="1px solid var(--jp-border-color2, #ddd)", padding="6px"
            ),
        )

        self.teaching = TeachingViews(self.search, lock=self._lock, on_details=self.show_details)
        self.enqueue_form = EnqueueForm()
        self.enqueue_button = self.enqueue_form.button
        self.enqueue_button.on_click(lambda _b: self._enqueue())
        hyperparameters = widgets.GridBox(
            placed.get("hyperparameters", []), layout=widgets.Layout(**grid)
        )
        self.sections = {
            s.name: s
            for s in (
                Section("hyperparameters", "Hyperparameters: parallel coordinates and importance",
                        hyperparameters),
                Section("teaching", "How the oracle decides", self.teaching),
                Section("enqueue", "Try these next: run values of your own", self.enqueue_form),
            )
        }
        self.more = widgets.VBox(list(self.sections.values()), layout=widgets.Layout(width="100%"))

    def open_section(self, name: str) -> None:
        """Open one of the collapsible ``sections`` ("hyperparameters", "teaching", "enqueue")."""
        if name not in self.sections:
            raise ValueError(f"name must be one of {', '.join(self.sections)}; got {name!r}")
        self.sections[name].expand()

    @property
    def enqueue_inputs(self) -> dict[str, widgets.Widget]:
        """The enqueue form's inputs, by hyperparameter name."""
        return self.enqueue_form.inputs

    # -- events in, updates out ---------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        """Runs on the publishing (search) thread: buffer it, nothing else."""
        self._heard = max(self._heard, event.seq)
        self._events.append(event)
        if self._auto and not self._running and not self._closed:
            self._start_flusher()

    @property
    def finished(self) -> bool:
        """The search has ended and every event so far is folded."""
        record = self.record
        return record.state in FINAL_STATES and record.ended_at is not None and not self._events

    @property
    def settled(self) -> bool:
        """Finished, and every part shows everything (the flusher may stop)."""
        return self.finished and not self._dirty

    @property
    def live(self) -> bool:
        """Whether the flusher thread is running."""
        return self._running

    def flush(self, force: bool = True) -> bool:
        """Fold pending events and push what changed; True if anything was sent.

        ``force`` (the default, what tests use) pushes every changed part now; the
        flusher passes False to keep to each part's cadence and the message budget
        (:data:`PARTS`, :data:`MESSAGE_BUDGET`).
        """
        with self._lock:
            if self._closed:
                return False
            ended = False
            while self._events:
                event = self._events.popleft()
                self.record.apply(event)
                self._note(event)
                ended = ended or event.kind == "search_ended"
            # the end goes out whole, in one round: never "done" over a row still "running"
            sent = self._push(force or ended, self._clock())
            if sent:
                self.rounds += 1
            return sent

    def _note(self, event: Event) -> None:
        kind = event.kind
        tid = getattr(event, "trial_id", None)
        dirty = self._dirty
        if self._board.hear(event):
            dirty.add("command")
        for chart in self.chart_kinds:
            if kind in chart.refresh.events:
                dirty.add(chart.name)
        if kind == "epoch_ended":
            dirty.update(("status", "live"))
            if tid == self.details_trial:
                dirty.add("details")
        elif kind in ("trial_started", "trial_ended"):
            self._rows.pop(tid, None)
            dirty.update(("status", "rows", "live"))
            dirty.add("teaching")
            if kind == "trial_ended":
                dirty.update(_SUMMARY_OWN)
            if tid == self.details_trial:
                dirty.add("details")
        elif kind in ("search_started", "space_defined"):
            dirty.update(("status", "header", "controls", "form", "rows", *_SUMMARY_OWN))
        elif kind in ("state_changed", "search_ended"):
            dirty.update(("status", "controls", "cards", "teaching"))
        elif kind == "budget_changed":
            dirty.update(("status", "header", "cards"))

    def _pending(self, part: str, now: float) -> bool:
        dirty = self._dirty
        if part == "status":
            return "status" in dirty or self._clock_due(now)
        if part == "table":
            return bool(dirty & {"rows", "live"})
        if part == "cards":
            return bool(dirty & {"cards", "details"})
        return part in dirty

    def _push(self, force: bool, now: float) -> bool:
        """Refresh the parts with something new, within their cadence and the message budget.

        Live parts first (status, learning curves, table), then the summary parts,
        stalest first. ``force`` skips the cadence and the budget.
        """
        sent = 0
        cadence = self._cadence
        if self._dirty & RARE:
            n = self._push_rare()
            cadence.spend(n)
            sent += n
        for part in (*self._live, *cadence.stalest_first(self._summary)):
            if not self._pending(part, now):
                continue
            if not force and not cadence.allows(part, now):
                continue
            n = self._refresh(part)
            cadence.last[part] = now
            cadence.spend(n)
            sent += n
        return sent > 0

    def _refresh(self, part: str) -> int:
        """Push one part; returns the comm messages it sent (at most ``self.parts[part][1]``)."""
        dirty = self._dirty
        if part == "status":
            dirty.discard("status")
            return self._push_status()
        if part == "table":
            return self._push_table()
        if part == "cards":
            return self._push_cards()
        dirty.discard(part)
        renderer = self.chart_renderers.get(part)
        if renderer is not None:
            kind = next(k for k in self.chart_kinds if k.name == part)
            return renderer.draw(kind.data(self.record, self.chart_options))
        if part == "teaching":
            return self.teaching.update(self.record)
        raise ValueError(f"unknown panel part {part!r}")

    def _clock_due(self, now: float) -> bool:
        """The elapsed time moves on its own while the search runs."""
        return self.record.state == SearchState.RUNNING and self._cadence.clock_due(now)

    def _push_rare(self) -> int:
        """Header, buttons, form, the last command's sentence; returns messages sent."""
        dirty = self._dirty
        sent = 0
        if "header" in dirty:
            sent += assign(self.header, "value", _html.header_html(header_info(self.record)))
        if "controls" in dirty:
            sent += self.controls.update(self.record.state)
        if "form" in dirty and self.enqueue_form.build(space_of(self.record)):
            sent += 1
        if "command" in dirty:
            sent += assign(self.status_message, "value", self._board.text)
        if self.record.config is not None:
            with self.table.hold_sync():
                changed = assign(self.table, "objective", self.record.objective or "score")
                changed += assign(self.table, "direction", self.record.direction)
            sent += min(changed, 1)
        dirty.difference_update(RARE)
        return sent

    def _push_status(self) -> int:
        """The status line and the progress bar (which moves with every epoch)."""
        info = status_info(self.record, time.time())
        sent = assign(self.status_line, "value", _html.status_html(status_text(info), info.state))
        with self.progress.hold_sync():
            changed = assign(self.progress, "value", round(info.progress, 3))
            style = "success" if info.state == SearchState.DONE else ""
            changed += assign(self.progress, "bar_style", style)
        return sent + min(changed, 1)

    def _row(self, order: int, trial: Any) -> dict[str, Any]:
        if trial.status == TrialStatus.RUNNING:
            return table_row(self.record, trial, order)
        row = self._rows.get(trial.trial_id)
        if row is None:
            row = self._rows[trial.trial_id] = table_row(self.record, trial, order)
        return row

    def _push_table(self) -> int:
        dirty = self._dirty
        trials = list(self.record.trials.values())
        with self.table.hold_sync():
            if "rows" in dirty:
                self.table.columns = main_hyperparameters(self.record)
                self.table.rows = [self._row(i, t) for i, t in enumerate(trials, start=1)]
                best = best_trial_ids(self.record, 1)
                self.table.best = best[0] if best else ""
            live = {}
            for i in range(len(trials), 0, -1):  # the running trials are the latest ones
                trial = trials[i - 1]
                if trial.status == TrialStatus.RUNNING:
                    live[trial.trial_id] = self._row(i, trial)
                elif len(trials) - i > 8:
                    break
            self.table.live = live
        dirty.difference_update(("rows", "live"))
        return 1  # one message however many traits changed (hold_sync)

    def _push_cards(self) -> int:
        """The best-model row and an open trial's details."""
        sent = 0
        if "cards" in self._dirty:
            sent += self.best_box.update(self.record)
        if self.details_trial is not None and "details" in self._dirty:
            html = _html.details_html(self.record, self.details_trial)
            sent += assign(self.details_html, "value", html)
        self._dirty.difference_update(("cards", "details"))
        return sent

    def enqueue_values(self) -> dict[str, Any]:
        """The form's values, typed as the space says (fixed ones are left out)."""
        return self.enqueue_form.values()

    # -- commands -------------------------------------------------------------------------
    def _say(self, text: str, trial: str | None = None) -> None:
        """Show a sentence of the panel's own: the latest wins (see :class:`MessageBoard`)."""
        with self._lock:
            self._board.say(text, self._heard + 0.5, trial=trial)
            if not self._closed:
                self.status_message.value = self._board.text

    def _command(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a Search command; show its sentence, or what it raised, never raise."""
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # a button must not raise into the front end
            if not isinstance(exc, ValueError | RuntimeError | OSError | KeyError):
                log.exception("a panel command failed")
            self._say(sentence(exc))
            return None
        prune = getattr(result, "command", None) == "prune" and bool(result) and args
        self._say(str(result), trial=str(args[0]) if prune else None)
        return result

    def _row_action(self, action: str, trial_id: str, epochs: int | None) -> Any:
        if action == "prune":
            return self._command(self.search.prune, trial_id)
        if action == "promote":
            return self._command(
                self.search.promote, trial_id, epochs=epochs or self.table.default_epochs
            )
        if action == "details":
            return self.show_details(trial_id)
        return None

    def _enqueue(self) -> Any:
        if not self.enqueue_inputs:
            self._say(
                "the hyperparameter space is not known yet; try again once the first trial starts"
            )
            return None
        return self._command(self.search.enqueue, self.enqueue_values())

    def show_details(self, trial_id: str) -> None:
        """Open the details of one trial: every hyperparameter, its curve, an export button."""
        with self._lock:
            self.details_trial = trial_id
            self.table.selected = trial_id
            self.details_html.value = _html.details_html(self.record, trial_id)
            self.details_export_button.disabled = trial_id not in self.record.trials
            self.details.layout.display = "flex"

    def hide_details(self) -> None:
        with self._lock:
            self.details_trial = None
            self.table.selected = ""
            self.details.layout.display = "none"

    def _export_trial(self) -> Any:
        tid = self.details_trial
        if tid is None:
            return None
        path = self.search.directory / f"trial-{tid}.keras"
        result = self._command(self.search.export, path=path, trial_id=tid)
        if result is not None:
            self._say(f"exported trial {tid} to {result}")
        return result

    # -- the flusher ------------------------------------------------------------------------
    def _start_flusher(self) -> None:
        with self._thread_lock:
            if self._running or self._closed:
                return
            self._running = True
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._flusher, name="automl_nb-panel", daemon=True
            )
            self._thread.start()

    def _flusher(self) -> None:
        while True:
            if self._stop.wait(self.interval):
                with self._thread_lock:
                    self._running = False
                return
            try:
                self.flush(force=False)
            except Exception:
                log.exception("the panel could not refresh; it tries again")
            if not self.settled:
                continue
            with self._thread_lock:
                self._running = False
            if self._events:  # an event slipped in after the check: carry on
                with self._thread_lock:
                    if self._running or self._closed:
                        return
                    self._running = True
                continue
            return

    def close(self) -> None:
        """Stop the flusher, unsubscribe, and close every widget the panel made."""
        if not hasattr(self, "_thread_lock"):  # a constructor that failed half-way
            super().close()
            return
        with self._thread_lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2)
        with self._lock:
            self.best_box.closed = True
            close_tree(self, close_root=False)
        super().close()
