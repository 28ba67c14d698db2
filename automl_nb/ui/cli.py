"""The command line: ``python -m automl_nb search DATA [options]``, ``open DIR`` and ``worker``;
``ls [ROOT]``, ``status DIR``, ``watch DIR`` and the steering commands (``pause DIR``,
``resume``, ``stop``, ``prune DIR ID``, ``promote DIR ID``, ``extend DIR --time 10m``), which
reach a search whatever process runs it, through its directory (:mod:`automl_nb.doors`).

It parses with the same specification as ``%automl`` (:mod:`automl_nb.ui.args`), calls
the library, prints a line per finished trial (and, on a terminal, a line that follows
the running trial's epochs) and then the leaderboard (:mod:`automl_nb.ui.text`). Bad
input exits with status 2 and one line on stderr (``automl-nb: error: ...``), the
library's errors in the command line's words (``--overwrite``, ``python -m automl_nb
open DIR``); a search that fails exits with status 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._util import did_you_mean, quiet_tensorflow_startup
from ..doors import LIVE_STATES
from ..events import CommandIssued, Event, StateChanged
from . import args as _args
from .args import ArgumentError
from .options import BUNDLED_DATASETS, CLI, search_kwargs
from .text import (
    Progress,
    budget_text,
    leaderboard,
    owner_text,
    referee_text,
    searches_table,
    status_text,
)

if TYPE_CHECKING:
    from .._search import Search

PROG = "automl-nb"
#: The commands that steer a live search through its inbox.
STEERING = ("pause", "resume", "stop", "prune", "promote", "extend")
SUBCOMMANDS = ("search", "open", "ls", "status", "watch", *STEERING, "worker")


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
            + ", ".join(BUNDLED_DATASETS)
            + "), a CSV file or an image folder",
            hint="for example: python -m automl_nb search digits",
        )
    if len(args.data) > 1:
        raise ArgumentError(
            f"search takes one DATA; got {len(args.data)}: {' '.join(args.data)} "
            "(arrays X y need the notebook or Python)",
            value=args.data,
        )
    if args.validation is not None and len(args.validation) > 1:
        raise ArgumentError(
            "takes one CSV file or image folder on the command line; "
            f"got {len(args.validation)}: {' '.join(args.validation)}",
            argument="--validation",
            value=args.validation,
        )
    quiet_tensorflow_startup("3")  # a terminal: TensorFlow C++ errors off stderr too
    from .._entry import search as start_search

    try:
        search = start_search(
            args.data[0],
            validation=args.validation[0] if args.validation else None,
            start=False,
            **search_kwargs(args),
        )
    except ValueError as exc:  # the library's errors, in the command line's words
        return _fail(_args.sentence(exc, _args.dialect(CLI)))
    return _run(search)


def _run(search: Search) -> int:
    data = search.settings.data
    print(
        f"searching {data.get('name', search.name)} with the {search.settings.oracle} "
        f"oracle: {budget_text(search)}; objective {search.objective} ({search.direction})"
    )
    if data.get("task_reason"):  # which task was inferred from the target, and why
        print(f"task: {data.get('task')}, as {data['task_reason']}")
    if data.get("description"):  # the data family's line on the data
        print(f"data: {data['description']}")
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
    yardstick = referee_text(search)
    if yardstick:
        print(f"yardstick: {yardstick}")
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
        return _fail(_args.sentence(exc, _args.dialect(CLI, "open")))
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
                          parent_pid=args.parent_pid, fingerprint=args.fingerprint)
    except ValueError as exc:
        return _fail(_args.sentence(exc, _args.dialect(CLI, "worker")))
    except WorkerError as exc:
        return _fail(str(exc), 1)


def _parse(name: str, argv: list[str]):
    parser = _args.command_parser(name, CLI)
    args = parser.parse(argv)
    if args.help:
        print(parser.format_help())
    return args


def _ls(argv: list[str]) -> int:
    args = _parse("ls", argv)
    if args.help:
        return 0
    from ..doors import summaries

    if not os.path.isdir(args.root):
        raise ArgumentError(f"'{args.root}' is not a folder", value=args.root)
    found = summaries(args.root)
    if args.json:
        for summary in found:
            print(json.dumps(summary.to_json()))
    elif found:
        print(searches_table(found))
    else:
        print(f"no searches under '{args.root}'")
    return 0


def _view(directory: str, follow: bool = False):
    """A view of the search in ``directory`` that reads its files only (any process may run it)."""
    from ..attached import AttachedSearch

    return AttachedSearch(directory, follow=follow)


def _status(argv: list[str]) -> int:
    args = _parse("status", argv)
    if args.help:
        return 0
    try:
        view = _view(args.directory)
    except ValueError as exc:
        return _fail(_args.sentence(exc, _args.dialect(CLI, "status")))
    print(status_text(view))
    print(owner_text(view.owner))
    return 0


def _steer(name: str, argv: list[str]) -> int:
    args = _parse(name, argv)
    if args.help:
        return 0
    sent = {k: getattr(args, k) for k in ("trial_id", "epochs", "trials", "time")
            if getattr(args, k, None) is not None}
    if name == "extend" and not sent:
        raise ArgumentError("extend needs more trials or more time: --trials N or --time DURATION",
                            hint="for example: python -m automl_nb extend DIR --time 10m")
    try:
        view = _view(args.directory)
    except ValueError as exc:
        return _fail(_args.sentence(exc, _args.dialect(CLI, name)))
    result = view.command(name, **sent)
    if not result:
        return _fail(str(result), 1)
    print(result)
    return 0


def _watch(argv: list[str]) -> int:
    args = _parse("watch", argv)
    if args.help:
        return 0
    try:
        view = _view(args.directory, follow=True)
    except ValueError as exc:
        return _fail(_args.sentence(exc, _args.dialect(CLI, "watch")))
    print(status_text(view).splitlines()[0], flush=True)
    view.subscribe(Progress(view))
    view.subscribe(_state_line)
    try:
        while view.state.value in LIVE_STATES:
            view.wait(1.0)
            current = view.owner
            if view.state.value in LIVE_STATES and (current is None or not current.alive):
                view.refresh()
                if view.state.value in LIVE_STATES:
                    print(owner_text(current), flush=True)
                    return 1
    except KeyboardInterrupt:
        print("\nstopped watching; the search goes on", file=sys.stderr)
        return 130
    finally:
        view.close()
    print(status_text(view).splitlines()[0])
    return 0


def _state_line(event: Event) -> None:
    if isinstance(event, StateChanged):
        print(f"{event.state}" + (f": {event.reason}" if event.reason else ""), flush=True)
    elif isinstance(event, CommandIssued) and event.source:
        print(f"from {event.source}: {event.message}", flush=True)


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
        if command == "ls":
            return _ls(rest)
        if command == "status":
            return _status(rest)
        if command == "watch":
            return _watch(rest)
        if command in STEERING:
            return _steer(command, rest)
    except ArgumentError as exc:
        return _fail(str(exc))
    hint = did_you_mean(command, SUBCOMMANDS)
    if not hint and not command.startswith("-"):
        hint = f"; to search it: python -m automl_nb search {command}"
    return _fail(f"unknown command {command!r}; commands are: {', '.join(SUBCOMMANDS[:-1])}{hint}")


if __name__ == "__main__":
    sys.exit(main())
