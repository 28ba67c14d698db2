"""A scripted search run by a process of its own: the owner that tests and benches steer.

``python -m automl_nb.testing.owner DIR --create --trials 4 --epochs 20 --batch-seconds 0.1``
makes a scripted search in DIR (no TensorFlow; see :func:`automl_nb.testing.scripted_search`)
and runs it in this process; without ``--create`` it reopens the search in DIR and continues
it. It prints one line, ``started: <sentence>`` or ``refused: <sentence>`` (exit status 3),
then waits for the search to end (exit status 0). Tests use it for the owner side of
:mod:`automl_nb.doors`: two of them racing for one directory, one killed mid-search, one
paused from another process; ``bench/doors.py`` measures how fast a pause holds it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._search import Search
from ..backends.scripted import ScriptedTrainer
from ..events import read_journal
from ..store import open_directory
from . import scripted_search


def open_scripted(directory: str | Path, trainer: ScriptedTrainer) -> Search:
    """The scripted search saved in ``directory``, reopened with ``trainer`` (not started)."""
    store = open_directory(directory)
    settings = store.read_settings()
    return Search(directory=store.directory, settings=settings, dataset=None, trainer=trainer,
                  history=read_journal(store.journal_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m automl_nb.testing.owner")
    parser.add_argument("directory")
    parser.add_argument("--create", action="store_true", help="make a new scripted search")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=1, help="batches an epoch")
    parser.add_argument("--batch-seconds", type=float, default=0.05)
    args = parser.parse_args(argv)
    trainer = ScriptedTrainer(batches_per_epoch=args.batches, batch_seconds=args.batch_seconds)
    if args.create:
        search = scripted_search(trainer, directory=args.directory, trials=args.trials,
                                 epochs=args.epochs, start=False)
    else:
        search = open_scripted(args.directory, trainer)
    started = search.start()
    print(f"{'started' if started else 'refused'}: {started}", flush=True)
    if not started:
        return 3
    search.wait()
    print(f"ended: {search.state.value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
