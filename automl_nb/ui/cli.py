"""The command line: ``python -m automl_nb search DATA [options]`` and ``python -m automl_nb open DIR``.

It parses with the same specification as ``%automl`` (:mod:`automl_nb.ui.args`), calls
the library, prints a line per finished trial (and, on a terminal, a line that follows
the running trial's epochs), then the leaderboard. Bad input exits with status 2 and one
line on stderr (``automl-nb: error: ...``); a search that fails exits with status 1.

The text views here (:func:`trial_line`, :func:`leaderboard`, :func:`status_text`) also
serve ``%automl --no-panel`` and ``%automl status``.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from ..events import EpochEnded, Event, SearchEnded, TrialEnded, TrialStarted
from . import args as _args
from .args import CLI, ArgumentError, format_duration

if TYPE_CHECKING:
    from .._search import Search

PROG = "automl-nb"
SUBCOMMANDS = ("search", "open", "worker")


# -- text views of a search --------------------------------------------------------------


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def trial_line(event: TrialEnded, search: Search) -> str:
    """One line for a finished trial: id, status, score, epochs, time and its hyperparameters."""
    record = search.record
    trial = record.trials.get(event.trial_id)
    objective = record.objective or search.objective
    score = "-" if event.score is None else f"{event.score:.4f}"
    parts = [
        f"trial {event.trial_id} {event.status:<9}",
        f"{objective} {score}",
        _plural(event.epochs, "epoch"),
        format_duration(event.duration_s),
    ]
    if trial is not None:
        if trial.parent_id:
            parts.append(f"from {trial.parent_id}")
        if trial.info.get("worker"):
            parts.append(f"on {trial.info['worker']}")
        values = " ".join(f"{k}={_number(v)}" for k, v in trial.hyperparameters.items())
        if values:
            parts.append(values)
    best = record.best()
    line = "  ".join(parts)
    if best is not None and best.trial_id == event.trial_id:
        line += "  (best so far)"
    if event.reason and event.status != "completed":
        line += f"  [{event.reason}]"
    return line


def budget_text(search: Search) -> str:
    """``"6 trials, 5 epochs a trial, at most 10m"``."""
    settings = search.settings
    trials = settings.get("trials")
    parts = [_plural(trials, "trial") if trials else "no trial limit"]
    parts.append(_plural(settings["epochs"], "epoch") + " a trial")
    if settings.get("time_budget_s"):
        parts.append(f"at most {format_duration(settings['time_budget_s'])}")
    return ", ".join(parts)


def status_text(search: Search) -> str:
    """A sentence or two: where a search is, its trials, its best score and where it lives."""
    with search.lock:
        record = search.record
        trials = list(record.trials.values())
        best = record.best()
        running = [t for t in trials if t.status == "running"]
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    shown = ", ".join(f"{n} {status}" for status, n in counts.items())
    state = search.state.value
    verb = {"failed": "failed", "idle": "has not started"}.get(state, f"is {state}")
    text = f"search '{search.name}' {verb}: {_plural(len(trials), 'trial')}"
    if shown:
        text += f" ({shown})"
    budget = record.trials_budget
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


def leaderboard(search: Search, top: int = 10) -> str:
    """The best ``top`` finished trials, best first, as a text table."""
    frame = search.results
    if frame.empty:
        return "no trials yet"
    frame = frame[frame["status"] != "running"]
    if frame.empty:
        return "no trial has finished yet"
    ascending = search.direction == "min"
    frame = frame.sort_values("score", ascending=ascending, na_position="last", kind="stable")
    frame = frame.head(top).reset_index(drop=True)
    if frame["parent_id"].isna().all():
        frame = frame.drop(columns=["parent_id"])
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

    def __init__(self, search: Search, stream: IO[str] | None = None, *, live: bool | None = None):
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
            elif isinstance(event, SearchEnded):
                self._clear()

    def _clear(self) -> None:
        if self._epoch_line:
            self.stream.write("\r" + " " * 72 + "\r")
            self._epoch_line = False


# -- the command line --------------------------------------------------------------------


def _fail(message: str, status: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _search(argv: list[str]) -> int:
    parser = _args.search_parser(CLI)
    args = parser.parse(argv)
    if args.help:
        print(_args.cli_search_help())
        return 0
    if not args.data:
        raise ArgumentError(
            "search needs DATA: a bundled data set ("
            + ", ".join(_args.BUNDLED_DATASETS)
            + "), a CSV file or an image folder; for example: python -m automl_nb search digits"
        )
    if len(args.data) > 1:
        raise ArgumentError(
            f"search takes one DATA; got {len(args.data)}: {' '.join(args.data)} "
            "(arrays X y need the notebook or Python)"
        )
    if args.validation is not None and len(args.validation) > 1:
        raise ArgumentError(
            "--validation takes one CSV file or image folder on the command line; "
            f"got {len(args.validation)}: {' '.join(args.validation)}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow C++ chatter off stderr
    from .._entry import search as start_search

    try:
        search = start_search(
            args.data[0],
            validation=args.validation[0] if args.validation else None,
            start=False,
            **_args.search_kwargs(args),
        )
    except ValueError as exc:
        raise ArgumentError(_args.for_command_line(str(exc))) from None
    return _run(search)


def _run(search: Search) -> int:
    settings = search.settings
    print(
        f"searching {settings['data'].get('name', search.name)} with the {settings['oracle']} "
        f"oracle: {budget_text(search)}; objective {search.objective} ({search.direction})"
    )
    print(f"directory: {search.directory}", flush=True)
    search.subscribe(Progress(search))
    started = search.start()
    if not started:
        return _fail(str(started), 1)
    interrupted = 0
    while True:
        try:
            search.wait()
        except KeyboardInterrupt:
            pass
        if search.state.is_finished():
            break
        interrupted += 1
        if interrupted > 1:
            print("\nquitting; finished trials are saved in the directory", file=sys.stderr)
            return 130
        print(
            "\nstopping at the running trial's next batch (Ctrl-C again to quit now)",
            file=sys.stderr,
        )
        search.stop()
    print()
    print(leaderboard(search))
    print()
    print(status_text(search).splitlines()[0])
    print(f"reopen it with: python -m automl_nb open {search.directory}")
    if search.error:
        return _fail(f"the search failed: {search.error}", 1)
    return 0


def _open(argv: list[str]) -> int:
    args = _args.command_parser("open", CLI).parse(argv)
    if args.help:
        print(_args.command_parser("open", CLI).format_help())
        return 0
    from .._entry import open_search

    try:
        search = open_search(args.directory)
    except ValueError as exc:
        raise ArgumentError(_args.for_command_line(str(exc))) from None
    print(status_text(search))
    print()
    print(leaderboard(search))
    return 0


def _worker(argv: list[str]) -> int:
    parser = _args.worker_parser()
    args = parser.parse(argv)
    if args.help:
        print(parser.format_help())
        return 0
    if not args.chief:
        raise ArgumentError(
            "worker needs --chief HOST:PORT: the address of the search (search.workers.address)"
        )
    token = args.token or os.environ.get("AUTOML_NB_TOKEN")
    if not token:
        raise ArgumentError("worker needs the search's token: --token T (search.workers.token)")
    from ..backends.workers import WorkerError, run_worker

    try:
        return run_worker(args.chief, token, worker_id=args.worker_id, threads=args.threads,
                          parent_pid=args.parent_pid)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    except WorkerError as exc:
        return _fail(str(exc), 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 the search failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        if not argv:
            return _fail("name a command: search DATA [options] or open DIR (see --help)")
        print(_args.cli_usage())
        return 0
    if argv[0] == "--version":
        from .._version import __version__

        print(f"{PROG} {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command == "search":
            return _search(rest)
        if command == "open":
            return _open(rest)
        if command == "worker":
            return _worker(rest)
    except ArgumentError as exc:
        return _fail(str(exc))
    hint = _args.did_you_mean(command, SUBCOMMANDS)
    if not hint and not command.startswith("-"):
        hint = f"; to search it: python -m automl_nb search {command}"
    return _fail(f"unknown command {command!r}; commands are: search, open{hint}")


if __name__ == "__main__":
    sys.exit(main())
