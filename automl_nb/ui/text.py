"""Text views of a search: a line per trial, its budget and status, the leaderboard, live progress.

The command line prints them (:mod:`automl_nb.ui.cli`), and so do ``%automl --no-panel``
and ``%automl status`` (:mod:`automl_nb.ui.magics`). Each is a plain function of a
:class:`~automl_nb.Search` (or, for :class:`Progress`, a subscriber to its events) that
returns or writes text; none imports IPython or TensorFlow.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import IO, Any

from .._util import format_duration, plural
from ..events import EpochEnded, Event, PlanMade, SearchEnded, TrialEnded, TrialStarted
from ..status import SearchState, TrialStatus
from ..view import SearchReport

__all__ = [
    "Progress", "budget_text", "leaderboard", "owner_text", "searches_table", "status_text",
    "trial_line",
]


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def trial_line(event: TrialEnded, search: SearchReport) -> str:
    """One line for a finished trial: id, status, score, epochs, time and its hyperparameters."""
    record = search.record
    trial = record.trials.get(event.trial_id)
    objective = record.objective or search.objective
    score = "-" if event.score is None else f"{event.score:.4f}"
    parts = [
        f"trial {event.trial_id} {event.status:<9}",
        f"{objective} {score}",
        plural(event.epochs, "epoch"),
        format_duration(event.duration_s),
    ]
    if trial is not None:
        if trial.parent_id:
            parts.append(f"from {trial.parent_id}")
        if trial.info.get("worker"):
            host = f"@{trial.info['host']}" if trial.info.get("host") else ""
            parts.append(f"on {trial.info['worker']}{host}")
        values = " ".join(f"{k}={_number(v)}" for k, v in trial.hyperparameters.items())
        if values:
            parts.append(values)
    best = record.best()
    line = "  ".join(parts)
    if best is not None and best.trial_id == event.trial_id:
        line += "  (best so far)"
    if event.reason and event.status != TrialStatus.COMPLETED:
        line += f"  [{event.reason}]"
    return line


def budget_text(search: SearchReport) -> str:
    """``"6 trials, 5 epochs a trial, at most 10m"``: the budget now (extend() raises it)."""
    budget = search.budget
    parts = [plural(budget.trials, "trial") if budget.trials else "no trial limit"]
    parts.append(plural(budget.epochs, "epoch") + " a trial")
    if budget.time_budget_s:
        parts.append(f"at most {format_duration(budget.time_budget_s)}")
    return ", ".join(parts)


def status_text(search: SearchReport) -> str:
    """A sentence or two: where a search is, its trials, its best score and where it lives."""
    with search.lock:
        record = search.record
        trials = list(record.trials.values())
        best = record.best()
        running = [t for t in trials if t.status == TrialStatus.RUNNING]
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    shown = ", ".join(f"{n} {status}" for status, n in counts.items())
    state = search.state.value
    # "search 'x' failed", "... has not started", else "... is paused" and the like
    verbs = {SearchState.FAILED: str(SearchState.FAILED), SearchState.IDLE: "has not started"}
    verb = verbs.get(state, f"is {state}")
    text = f"search '{search.name}' {verb}: {plural(len(trials), 'trial')}"
    if shown:
        text += f" ({shown})"
    budget = record.budget.trials if record.budget else None
    if budget is not None:
        text += f" of {budget}"
    if best is not None:
        text += f"; best {search.objective} {best.score:.4f} (trial {best.trial_id})"
    if len(running) == 1:
        text += f"; trial {running[0].trial_id} is at epoch {running[0].epochs}"
    elif running:
        text += "; running: " + ", ".join(
            f"trial {t.trial_id} on {t.info.get('worker', '?')} at epoch {t.epochs}" for t in running
        )
    if search.error:
        text += f"; reason: {search.error}"
    return text + f"\ndirectory: {search.directory}"


def referee_text(search: SearchReport) -> str | None:
    """Where the best network stands against a table's yardstick (:mod:`automl_nb.referee`)."""
    from ..referee import standing

    with search.lock:
        record = search.record
        best = record.best()
        return standing(record.referee, record.objective, best.score if best else None)


def leaderboard(search: SearchReport, top: int = 10) -> str:
    """The best ``top`` finished trials, best first, as a text table."""
    frame = search.results
    if frame.empty:
        return "no trials yet"
    frame = frame[frame["status"] != TrialStatus.RUNNING]
    if frame.empty:
        return "no trial has finished yet"
    ascending = search.direction == "min"
    frame = frame.sort_values("score", ascending=ascending, na_position="last", kind="stable")
    frame = frame.head(top).reset_index(drop=True)
    for column in ("parent_id", "params"):  # none promoted; no costs measured (scripted)
        if column in frame and frame[column].isna().all():
            frame = frame.drop(columns=[column])
    frame = frame.rename(columns={"score": search.objective, "duration_s": "time"})
    frame.insert(0, "rank", range(1, len(frame) + 1))
    formatters = {
        search.objective: lambda v: "-" if _missing(v) else f"{v:.4f}",
        "time": lambda v: "-" if _missing(v) else format_duration(v),
    }
    for column in frame.columns:
        formatters.setdefault(column, _number)
    return frame.to_string(index=False, formatters=formatters, na_rep="-")


class Progress:
    """Prints a search's progress: a line per finished trial, and on a terminal an epoch line.

    Subscribe an instance to a search; it is called on the search thread.
    """

    def __init__(self, search: SearchReport, stream: IO[str] | None = None, *, live: bool | None = None):
        self.search = search
        self.stream = stream if stream is not None else sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._lock = threading.Lock()
        self._planned: dict[str, int] = {}
        self._where: dict[str, str] = {}  # trial id -> " on w1" (searches with workers)
        self._epoch_line = False

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, TrialStarted):
                self._planned[event.trial_id] = event.epochs
                if event.info.get("worker"):
                    self._where[event.trial_id] = f" on {event.info['worker']}"
            elif isinstance(event, EpochEnded) and self.live:
                planned = self._planned.get(event.trial_id)
                of = f"/{planned}" if planned else ""
                score = (
                    "" if event.score is None else f"  {self.search.objective} {event.score:.4f}"
                )
                where = self._where.get(event.trial_id, "")
                text = f"  trial {event.trial_id}{where}  epoch {event.epoch}{of}{score}"
                self.stream.write("\r" + text.ljust(72))
                self.stream.flush()
                self._epoch_line = True
            elif isinstance(event, TrialEnded):
                self._clear()
                self.stream.write(trial_line(event, self.search) + "\n")
                self.stream.flush()
            elif isinstance(event, PlanMade):
                self._clear()
                self.stream.write(f"plan: {event.message}\n")
                self.stream.flush()
            elif isinstance(event, SearchEnded):
                self._clear()

    def _clear(self) -> None:
        if self._epoch_line:
            self.stream.write("\r" + " " * 72 + "\r")
            self._epoch_line = False


def owner_text(owner: Any) -> str:
    """Who runs a search: ``"run by process 1234 on host x since 15:02 (kernel)"``, or not."""
    if owner is None:
        return "no process has run it since owners were recorded"
    if owner.alive:
        return f"run by {owner.describe()} ({owner.process})"
    if owner.ended:
        return f"no process runs it now (last run by process {owner.pid} on host {owner.host})"
    return f"no process runs it now: {owner.describe()} ran it and is gone"


def searches_table(summaries: list[Any]) -> str:
    """``python -m automl_nb ls``: one line a search (a :class:`~automl_nb.doors.SearchSummary`)."""
    header = ("STATE", "BEST", "TRIALS", "OWNER", "TIME LEFT", "DIRECTORY")
    rows = [header]
    for s in summaries:
        trials = f"{s.trials}/{s.trials_budget}" if s.trials_budget else str(s.trials)
        owner = s.owner
        who = f"{owner.pid}@{owner.host} ({owner.process})" if owner is not None and owner.alive else "-"
        best = "-" if s.best_score is None else f"{s.best_score:.4f}"
        rows.append((s.state, best, trials, who, format_duration(s.time_left_s), s.path))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in rows
    )
