"""The one table of what ``%automl``, ``%%automl`` and ``python -m automl_nb`` accept.

Every option lives once in :data:`OPTIONS` (its flags, help, default, the check of its
value and where it applies) and every steering command once in :data:`COMMANDS`. The
parsers, the magic's ``%automl?`` usage and the command line's help
(:mod:`automl_nb.ui.args`) are all built from these tables, so help texts and defaults
cannot drift apart. An option that is a keyword of :func:`automl_nb.search` says so
(``to_search``), and :func:`search_kwargs` hands it on under that name.

A value check (:mod:`automl_nb.ui.checks`) is a ``type=`` callable for argparse: it raises
a ``BadValue`` (an ``argparse.ArgumentTypeError``) that carries the sentence's fields, read
back by the parser when it turns argparse's error into :class:`automl_nb.errors.ArgumentError`.

This module imports neither IPython nor TensorFlow.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from .. import oracles
from .checks import choice, duration, oracle_name, whole_number

#: Data sets that ship with the package (``automl_nb.data`` loads them).
BUNDLED_DATASETS: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer")
#: The oracles' names, from their registry (:func:`automl_nb.oracles.oracle_names`).
ORACLES: tuple[str, ...] = oracles.oracle_names()
TASKS: tuple[str, ...] = ("classification", "regression")
#: Export formats (``automl_nb.export.FORMATS``).
FORMATS: tuple[str, ...] = ("keras", "savedmodel", "tflite")
#: TFLite quantization modes (``automl_nb.export.QUANTIZE``).
QUANTIZE_MODES: tuple[str, ...] = ("dynamic", "float16", "int8")

#: Where an option applies: the line magic, the cell magic, the command line.
LINE, CELL, CLI = "line", "cell", "cli"
NOTEBOOK = frozenset({LINE, CELL})
EVERYWHERE = frozenset({LINE, CELL, CLI})


# -- the tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option: argparse's keywords, where it applies, and whether it is a keyword of
    :func:`automl_nb.search` (``to_search``: passed on as ``dest``)."""

    flags: tuple[str, ...]
    help: str
    where: frozenset[str] = EVERYWHERE
    kwargs: dict[str, Any] = field(default_factory=dict)
    to_search: bool = False

    @property
    def dest(self) -> str:
        return self.kwargs.get("dest") or self.flags[0].lstrip("-").replace("-", "_")

    @property
    def is_flag(self) -> bool:
        """Whether it is given as ``--name`` (not a positional word such as ``ID``)."""
        return self.flags[0].startswith("-")

    @property
    def default(self) -> Any:
        if self.kwargs.get("action") == "store_true":
            return self.kwargs.get("default", False)
        return self.kwargs.get("default")

    @property
    def metavar(self) -> str:
        metavar = self.kwargs.get("metavar") or self.dest.upper()
        return metavar if isinstance(metavar, str) else " ".join(metavar)


def _opt(
    *flags: str,
    help: str,
    where: frozenset[str] = EVERYWHERE,
    to_search: bool = False,
    **kwargs: Any,
) -> Option:
    return Option(flags=flags, help=help, where=where, kwargs=kwargs, to_search=to_search)


#: The options that start a search, in the order help shows them.
OPTIONS: tuple[Option, ...] = (
    _opt(
        "--data",
        help="DATA as an option (for a variable named like a command word: --data stop)",
        where=NOTEBOOK,
        nargs="+",
        metavar=("X", "y"),
        dest="data_option",
    ),
    _opt(
        "--target", help="the label column of a DataFrame or CSV file", metavar="COL",
        to_search=True,
    ),
    _opt(
        "--validation",
        help=(
            "validation data: two variables X y, a DataFrame, a CSV file or an image "
            "folder (default: a seeded 20%% of the data is held out)"
        ),
        nargs="+",
        metavar=("X", "y"),
    ),
    _opt(
        "--oracle",
        help=(
            f"how to choose the next trial: {', '.join(ORACLES)} "
            f"(default: {oracles.DEFAULT_ORACLE})"
        ),
        type=oracle_name,
        default=oracles.DEFAULT_ORACLE,
        metavar="NAME",
        to_search=True,
    ),
    _opt(
        "--trials",
        help="how many trials to run at most (default: auto: 20, or no limit when --time is given)",
        type=whole_number("--trials", 1, auto=True),
        default="auto",
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--epochs",
        "--max-epochs",
        help="epochs a trial trains; with hyperband, the most epochs a trial reaches (default: 10)",
        type=whole_number("--epochs", 1),
        default=10,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--time",
        help="time budget, such as 90s, 10m or 1h30m: no trial starts after it (default: none)",
        type=duration,
        default=None,
        metavar="DURATION",
        to_search=True,
    ),
    _opt(
        "--task",
        help=(
            "classification or regression (default: from the target; an integer target with "
            "many values for its rows is a regression)"
        ),
        type=choice("--task", TASKS, "a task"),
        default=None,
        metavar="TASK",
        to_search=True,
    ),
    _opt(
        "--objective",
        help="the metric to optimise, such as val_accuracy or val_loss (default: from the data)",
        metavar="NAME",
        to_search=True,
    ),
    _opt(
        "--seed",
        help="random seed: the same seed gives the same trials on the same machine",
        type=whole_number("--seed", 0),
        default=None,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--deterministic",
        help=(
            "bit-identical scores for the same --seed: TensorFlow's op determinism is on "
            "while this search runs (slower)"
        ),
        action="store_true",
        to_search=True,
    ),
    _opt(
        "--patience",
        help=(
            "epochs without a better objective after which a trial stops, keeping its best "
            "epoch; 0 trains every epoch (default: 3)"
        ),
        type=whole_number("--patience", 0),
        default=3,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--no-warm-start",
        help=(
            "let the oracle choose from the first trial (default: the space's defaults and a "
            "portfolio of configurations known to work come first)"
        ),
        action="store_false",
        dest="warm_start",
        default=True,
        to_search=True,
    ),
    _opt(
        "--no-ensemble",
        help=(
            "hand back the best trial's model alone (default: when the search ends, an average "
            "of its best trials when that predicts the validation data better)"
        ),
        action="store_false",
        dest="ensemble",
        default=True,
        to_search=True,
    ),
    _opt(
        "--no-referee",
        help=(
            "no yardstick for a table (default: gradient-boosted trees fitted on the same rows "
            "first, to say where the network stands against them)"
        ),
        action="store_false",
        dest="referee",
        default=True,
        to_search=True,
    ),
    _opt(
        "--dir",
        help="where the search keeps its journal and checkpoints (default: automl_runs/NAME)",
        dest="directory",
        metavar="PATH",
        to_search=True,
    ),
    _opt(
        "--overwrite",
        help="start afresh in --dir instead of continuing the search saved there",
        action="store_true",
        to_search=True,
    ),
    _opt(
        "--batch-size",
        help="training batch size (default: a hyperparameter of the built-in spaces, else 32)",
        type=whole_number("--batch-size", 1),
        default=None,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--max-params",
        help=(
            "a parameter budget: a trial whose model has more parameters ends at once, before "
            "it trains, as a failed trial; the best model is the best within it (default: none)"
        ),
        type=whole_number("--max-params", 1),
        default=None,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--workers",
        help="trials run at once, each in its own worker process (default: 1, in this process)",
        type=whole_number("--workers", 1),
        default=1,
        metavar="N",
        to_search=True,
    ),
    _opt(
        "--listen",
        help=(
            "with --workers: also accept workers from other machines on HOST[:PORT], such as "
            "0.0.0.0 (they need the search's token and the same filesystem)"
        ),
        default=None,
        metavar="HOST",
        to_search=True,
    ),
    _opt(
        "--build",
        help="the cell's function that builds a model from hp (default: build)",
        where=frozenset({CELL}),
        default="build",
        metavar="NAME",
    ),
    _opt(
        "--name",
        help="also bind the search to this variable in the notebook",
        where=NOTEBOOK,
        metavar="VAR",
    ),
    _opt(
        "--wait",
        help="block until the search ends, still showing progress (for nbclient, papermill, CI)",
        where=NOTEBOOK,
        action="store_true",
    ),
    _opt(
        "--no-panel",
        help="show compact text progress instead of the live panel",
        where=NOTEBOOK,
        action="store_true",
        dest="no_panel",
    ),
)


def search_kwargs(args: Any) -> dict[str, Any]:
    """The keyword arguments of :func:`automl_nb.search` that parsed options give (both fronts).

    DATA, ``--validation`` and the cell's build function are resolved differently by the
    magic and the command line, so they are not here.
    """
    return {o.dest: getattr(args, o.dest) for o in OPTIONS if o.to_search}


@dataclass(frozen=True)
class Command:
    """A steering command of the magic, or a subcommand of the command line."""

    name: str
    help: str
    arguments: tuple[Option, ...] = ()
    where: frozenset[str] = NOTEBOOK
    #: on the command line it acts on a search directory: ``python -m automl_nb pause DIR``
    directory: bool = False

    @property
    def usage(self) -> str:
        parts = [self.name]
        for arg in self.arguments:
            if arg.is_flag:
                metavar = arg.kwargs.get("metavar")
                parts.append(f"[{arg.flags[0]} {metavar}]" if metavar else f"[{arg.flags[0]}]")
            else:
                nargs = arg.kwargs.get("nargs")
                parts.append(f"{arg.metavar} ..." if nargs == "+" else
                             f"[{arg.metavar}]" if nargs == "?" else arg.metavar)
        return " ".join(parts)


#: ``--search VAR``: every steering command of the magic takes it.
SEARCH_OPTION = _opt(
    "--search",
    help="the variable holding the search to act on (default: the latest search)",
    metavar="VAR",
)
_NAME_OPTION = _opt("--name", help="also bind the search to this variable", metavar="VAR")
_NO_PANEL_OPTION = _opt(
    "--no-panel", help="print a summary instead of showing the panel", action="store_true"
)
#: Options of ``open`` that only the notebook has.
NOTEBOOK_ONLY = frozenset({"name", "no_panel"})
#: ``DIR``: the search a command line's steering command acts on (any process may run it).
DIRECTORY_ARGUMENT = _opt(
    "directory", help="the search's directory (python -m automl_nb ls lists them)", metavar="DIR"
)
#: Where a steering command applies: the magic, and the command line on a search's directory.
STEERING = EVERYWHERE

#: The steering commands of ``%automl`` (and ``open``, which the command line shares).
COMMANDS: tuple[Command, ...] = (
    Command("pause", "pause the search at the next batch; resume continues the same trial",
            where=STEERING, directory=True),
    Command("resume", "resume a paused search", where=STEERING, directory=True),
    Command("stop", "stop the search at the next batch; finished trials are kept",
            where=STEERING, directory=True),
    Command(
        "prune",
        "stop the running trial ID at its next batch; its best score so far counts",
        (_opt("trial_id", help="the trial to prune", metavar="ID"),),
        where=STEERING, directory=True,
    ),
    Command(
        "promote",
        "train trial ID on from its best checkpoint for N more epochs, as a new trial",
        (
            _opt("trial_id", help="the trial to promote", metavar="ID"),
            _opt(
                "--epochs",
                help="more epochs to train (default: 5)",
                type=whole_number("--epochs", 1),
                default=5,
                metavar="N",
            ),
        ),
        where=STEERING, directory=True,
    ),
    Command(
        "enqueue",
        "run these hyperparameters as the next trial; missing ones take defaults",
        (
            _opt(
                "values",
                help="name=value pairs, such as lr=0.001 units=64",
                nargs="+",
                metavar="NAME=VALUE",
            ),
        ),
    ),
    Command(
        "extend",
        "give the search more trials or more time (it continues if it had ended)",
        (
            _opt(
                "--trials",
                help="more trials to run",
                type=whole_number("--trials", 1),
                metavar="N",
            ),
            _opt("--time", help="more time, such as 5m", type=duration, metavar="DURATION"),
        ),
        where=STEERING, directory=True,
    ),
    Command("status", "say where the search is: its state, trials and best score",
            where=STEERING, directory=True),
    Command("results", "the results table: one row a trial (a pandas DataFrame)"),
    Command(
        "export",
        "save the best model to PATH (a .keras file; --format savedmodel or tflite for the others)",
        (
            _opt("path", help="where to save the model", metavar="PATH"),
            _opt(
                "--format",
                help="keras (a .keras file, the default), savedmodel (a folder for TensorFlow "
                "Serving) or tflite (a .tflite file for phones)",
                type=choice("--format", FORMATS, "an export format"),
                default="keras",
                metavar="FORMAT",
                dest="format",
            ),
            _opt(
                "--quantize",
                help="with --format tflite: dynamic (weights as int8), float16 (weights as "
                "float16) or int8 (weights and activations as int8, calibrated on training rows)",
                type=choice("--quantize", QUANTIZE_MODES, "a quantization mode"),
                default=None,
                metavar="MODE",
                dest="quantize",
            ),
        ),
    ),
    Command(
        "open",
        "reopen a saved search from its directory; it becomes the latest search",
        (
            _opt("directory", help="the search's directory", metavar="DIR"),
            _NAME_OPTION,
            _NO_PANEL_OPTION,
        ),
        where=EVERYWHERE,
    ),
    Command(
        "ls",
        "list the searches under ROOT (default: here): state, best score, trials, owner, time left",
        (
            _opt("root", help="the folder to look in", nargs="?", default=".", metavar="ROOT"),
            _opt("--json", help="print them as JSON, one object a search", action="store_true"),
        ),
        where=frozenset({CLI}),
    ),
    Command(
        "watch",
        "print a search's progress lines as they come, until it ends (Ctrl-C: the search goes on)",
        where=frozenset({CLI}),
        directory=True,
    ),
)

#: The commands of ``%automl`` (words DATA may not be).
COMMAND_NAMES: tuple[str, ...] = tuple(c.name for c in COMMANDS if c.where & NOTEBOOK)

#: ``python -m automl_nb worker``: a worker process of a search with workers (command line only).
WORKER_OPTIONS: tuple[Option, ...] = (
    _opt("--chief", help="the search's chief, HOST:PORT (search.workers.address)", metavar="HOST:PORT"),
    _opt("--token", help="the search's token (search.workers.token; default: $AUTOML_NB_TOKEN)",
         metavar="T"),
    _opt("--fingerprint", help=("the chief's TLS certificate fingerprint, SHA256:... "
                                "(search.workers.fingerprint; a search with listen= needs it)"),
         metavar="FP"),
    _opt("--threads", help="TensorFlow threads for this worker (default: all cores)",
         type=whole_number("--threads", 1), metavar="N"),
    _opt("--worker-id", help=argparse.SUPPRESS, dest="worker_id"),
    _opt("--parent-pid", help=argparse.SUPPRESS, type=whole_number("--parent-pid", 1),
         dest="parent_pid"),
)

# -- the words around the tables ----------------------------------------------------------

EXAMPLES_NOTEBOOK = """\
  %load_ext automl_nb
  %automl digits --oracle hyperband --epochs 27 --seed 0
  %automl df --target label --trials 30 --time 10m --name s
  %automl X_train y_train --validation X_val y_val --oracle random --trials 5
  %automl data/train.csv --target label --wait --no-panel
  %automl pause
  %automl prune 0007
  %automl promote 0003 --epochs 20
  %automl enqueue lr=0.001 units=64
  %automl extend --trials 10 --time 5m --search s
  %automl results
  %automl export best.keras
  %automl open automl_runs/digits-bayesian

  %%automl --data X_train y_train --trials 20
  def build(hp):
      model = keras.Sequential([
          keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
          keras.layers.Dense(10, activation="softmax"),
      ])
      model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
      return model"""

EXAMPLES_CLI = """\
  python -m automl_nb search digits --oracle bayesian --trials 6 --epochs 5 --seed 0
  python -m automl_nb search iris --oracle random --trials 2 --epochs 1 --dir /tmp/iris
  python -m automl_nb search train.csv --target label --time 10m
  python -m automl_nb open automl_runs/digits-bayesian
  python -m automl_nb ls automl_runs
  python -m automl_nb pause automl_runs/digits-bayesian
  python -m automl_nb extend automl_runs/digits-bayesian --time 10m
  python -m automl_nb watch automl_runs/digits-bayesian"""

DATA_HELP_NOTEBOOK = (
    "DATA is a bundled data set ("
    + ", ".join(BUNDLED_DATASETS)
    + "), a variable in the notebook (an (X, y) pair, or a DataFrame with --target), "
    "two variables X y, a CSV file (with --target) or a folder of images with one "
    "sub-folder a class. DATA may not be a command word ("
    + ", ".join(COMMAND_NAMES)
    + "): give such a variable with --data."
)
DATA_HELP_CLI = (
    "DATA is a bundled data set ("
    + ", ".join(BUNDLED_DATASETS)
    + "), a CSV file (with --target) or a folder of images with one sub-folder a class."
)
