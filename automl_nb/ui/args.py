"""The one argument specification of ``%automl``, ``%%automl`` and ``python -m automl_nb``.

Every option lives once in :data:`OPTIONS` (its flags, help, default and where it
applies) and every steering command once in :data:`COMMANDS`. The magic's parsers,
its ``%automl?`` usage and the command line's parsers are all built from these two
tables, so help texts and defaults cannot drift apart.

Parsers raise :class:`ArgumentError` (a ``ValueError`` with one sentence that names
the argument) instead of exiting: the magic turns it into IPython's ``UsageError``
and the command line into exit status 2 with one line on stderr.

This module imports neither IPython nor TensorFlow.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Data sets that ship with the package (``automl_nb.data`` loads them).
BUNDLED_DATASETS: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer")
ORACLES: tuple[str, ...] = ("bayesian", "hyperband", "random")

#: Where an option applies: the line magic, the cell magic, the command line.
LINE, CELL, CLI = "line", "cell", "cli"
NOTEBOOK = frozenset({LINE, CELL})
EVERYWHERE = frozenset({LINE, CELL, CLI})


class ArgumentError(ValueError):
    """A bad argument: the message is one sentence that names it."""


# -- values ----------------------------------------------------------------------------

_TIME_HINT = "write seconds (90) or a number with s, m or h (90s, 10m, 1h)"
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_TIME_PART = re.compile(rf"\s*({_NUMBER})\s*([smh])", re.IGNORECASE)
_TIME_WHOLE = re.compile(rf"(?:\s*{_NUMBER}\s*[smh])+\s*", re.IGNORECASE)


def parse_time(value: str | float | None, *, name: str = "time") -> float | None:
    """Seconds from a duration: ``90``, ``"90"``, ``"90s"``, ``"10m"``, ``"1h30m"``, ``"2.5m"``.

    ``None`` stays ``None`` (no time budget). ``name`` is the word the error message
    starts with (``"--time"`` on the command line).

    Raises:
        ValueError: for text that is not a duration, or a duration that is not more
            than zero seconds.
    """
    if value is None:
        return None
    shown = repr(value) if isinstance(value, str) else str(value)
    # ValueError even for a wrong type: callers report every bad time as one sentence
    if isinstance(value, bool):
        raise ValueError(f"{name} {value!r} is not a duration; {_TIME_HINT}")  # noqa: TRY004
    seconds: float
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        text = text[1:] if text[:1] in "+-" else text
        if re.fullmatch(_NUMBER, text):
            seconds = sign * float(text)
        elif _TIME_WHOLE.fullmatch(text):
            seconds = sign * sum(
                float(number) * _UNIT_SECONDS[unit.lower()]
                for number, unit in _TIME_PART.findall(text)
            )
        else:
            raise ValueError(f"{name} {shown} is not a duration; {_TIME_HINT}")
    else:
        raise ValueError(  # noqa: TRY004
            f"{name} is a {type(value).__name__}, not a duration; {_TIME_HINT}"
        )
    if not math.isfinite(seconds):
        raise ValueError(f"{name} {shown} is not a duration; {_TIME_HINT}")
    if seconds <= 0:
        raise ValueError(f"{name} {shown} must be more than zero seconds; {_TIME_HINT}")
    return seconds


def format_duration(seconds: float | None) -> str:
    """``75.0`` -> ``"1m15s"``, ``3600`` -> ``"1h"``, ``None`` -> ``"-"``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    if minutes:
        out += f"{minutes}m"
    if secs and not hours:
        out += f"{secs}s"
    return out


def _whole_number(flag: str, minimum: int | None) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} {text!r} is not a whole number; write for example {flag} 20"
            ) from None
        if minimum is not None and number < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be at least {minimum}; got {number}")
        return number

    convert.__name__ = "int"
    return convert


def _oracle(text: str) -> str:
    name = text.strip().lower()
    if name not in ORACLES:
        raise argparse.ArgumentTypeError(
            f"--oracle {text!r} is not an oracle; choose one of: {', '.join(ORACLES)}"
            + _did_you_mean(name, ORACLES)
        )
    return name


def _duration(text: str) -> float:
    try:
        seconds = parse_time(text, name="--time")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    assert seconds is not None
    return seconds


def _did_you_mean(word: str, choices: Iterable[str], *, quote: str = "'") -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {quote}{close[0]}{quote}?" if close else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'X_train'?"`` for the closest choice, or ``""``."""
    return _did_you_mean(word, choices)


# -- the tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option: argparse's keywords plus where it applies."""

    flags: tuple[str, ...]
    help: str
    where: frozenset[str] = EVERYWHERE
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.kwargs.get("dest") or self.flags[0].lstrip("-").replace("-", "_")

    @property
    def default(self) -> Any:
        if self.kwargs.get("action") == "store_true":
            return self.kwargs.get("default", False)
        return self.kwargs.get("default")


def _opt(*flags: str, help: str, where: frozenset[str] = EVERYWHERE, **kwargs: Any) -> Option:
    return Option(flags=flags, help=help, where=where, kwargs=kwargs)


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
    _opt("--target", help="the label column of a DataFrame or CSV file", metavar="COL"),
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
        help=f"how to choose the next trial: {', '.join(ORACLES)} (default: bayesian)",
        type=_oracle,
        default="bayesian",
        metavar="NAME",
    ),
    _opt(
        "--trials",
        help="how many trials to run at most (default: 20)",
        type=_whole_number("--trials", 1),
        default=20,
        metavar="N",
    ),
    _opt(
        "--epochs",
        "--max-epochs",
        help="epochs a trial trains; with hyperband, the most epochs a trial reaches (default: 10)",
        type=_whole_number("--epochs", 1),
        default=10,
        metavar="N",
    ),
    _opt(
        "--time",
        help="time budget, such as 90s, 10m or 1h30m: no trial starts after it (default: none)",
        type=_duration,
        default=None,
        metavar="DURATION",
    ),
    _opt(
        "--objective",
        help="the metric to optimise, such as val_accuracy or val_loss (default: from the data)",
        metavar="NAME",
    ),
    _opt(
        "--seed",
        help="random seed: the same seed gives the same trials on the same machine",
        type=_whole_number("--seed", 0),
        default=None,
        metavar="N",
    ),
    _opt(
        "--dir",
        help="where the search keeps its journal and checkpoints (default: automl_runs/NAME)",
        dest="directory",
        metavar="PATH",
    ),
    _opt(
        "--overwrite",
        help="start afresh in --dir instead of continuing the search saved there",
        action="store_true",
    ),
    _opt(
        "--batch-size",
        help="training batch size (default: 32)",
        type=_whole_number("--batch-size", 1),
        default=32,
        metavar="N",
    ),
    _opt(
        "--workers",
        help="trials run at once, each in its own worker process (default: 1, in this process)",
        type=_whole_number("--workers", 1),
        default=1,
        metavar="N",
    ),
    _opt(
        "--listen",
        help=(
            "with --workers: also accept workers from other machines on HOST[:PORT], such as "
            "0.0.0.0 (they need the search's token and the same filesystem)"
        ),
        default=None,
        metavar="HOST",
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


@dataclass(frozen=True)
class Command:
    """A steering command of the magic, or a subcommand of the command line."""

    name: str
    help: str
    arguments: tuple[Option, ...] = ()
    where: frozenset[str] = NOTEBOOK

    @property
    def usage(self) -> str:
        parts = [self.name]
        for arg in self.arguments:
            if arg.flags[0].startswith("-"):
                metavar = arg.kwargs.get("metavar")
                parts.append(f"[{arg.flags[0]} {metavar}]" if metavar else f"[{arg.flags[0]}]")
            else:
                metavar = arg.kwargs.get("metavar", arg.flags[0].upper())
                parts.append(f"{metavar} ..." if arg.kwargs.get("nargs") == "+" else metavar)
        return " ".join(parts)


_SEARCH_OPTION = _opt(
    "--search",
    help="the variable holding the search to act on (default: the latest search)",
    metavar="VAR",
)
_NAME_OPTION = _opt("--name", help="also bind the search to this variable", metavar="VAR")
_NO_PANEL_OPTION = _opt(
    "--no-panel", help="print a summary instead of showing the panel", action="store_true"
)

#: The steering commands of ``%automl`` (and ``open``, which the command line shares).
COMMANDS: tuple[Command, ...] = (
    Command("pause", "pause the search at the next batch; resume continues the same trial"),
    Command("resume", "resume a paused search"),
    Command("stop", "stop the search at the next batch; finished trials are kept"),
    Command(
        "prune",
        "stop the running trial ID at its next batch; its best score so far counts",
        (_opt("trial_id", help="the trial to prune", metavar="ID"),),
    ),
    Command(
        "promote",
        "train trial ID on from its best checkpoint for N more epochs, as a new trial",
        (
            _opt("trial_id", help="the trial to promote", metavar="ID"),
            _opt(
                "--epochs",
                help="more epochs to train (default: 5)",
                type=_whole_number("--epochs", 1),
                default=5,
                metavar="N",
            ),
        ),
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
                type=_whole_number("--trials", 1),
                metavar="N",
            ),
            _opt("--time", help="more time, such as 5m", type=_duration, metavar="DURATION"),
        ),
    ),
    Command("status", "say where the search is: its state, trials and best score"),
    Command("results", "the results table: one row a trial (a pandas DataFrame)"),
    Command(
        "export",
        "save the best model to PATH (a .keras file)",
        (_opt("path", help="where to save the model", metavar="PATH"),),
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
)

COMMAND_NAMES: tuple[str, ...] = tuple(c.name for c in COMMANDS)

#: ``python -m automl_nb worker``: a worker process of a search with workers (command line only).
WORKER_OPTIONS: tuple[Option, ...] = (
    _opt("--chief", help="the search's chief, HOST:PORT (search.workers.address)", metavar="HOST:PORT"),
    _opt("--token", help="the search's token (search.workers.token; default: $AUTOML_NB_TOKEN)",
         metavar="T"),
    _opt("--threads", help="TensorFlow threads for this worker (default: all cores)",
         type=_whole_number("--threads", 1), metavar="N"),
    _opt("--worker-id", help=argparse.SUPPRESS, dest="worker_id"),
    _opt("--parent-pid", help=argparse.SUPPRESS, type=int, dest="parent_pid"),
)

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
  python -m automl_nb open automl_runs/digits-bayesian"""

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


# -- parsers -----------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`ArgumentError` instead of exiting.

    Argparse's messages are rewritten into sentences that name the argument, and an
    unknown option suggests the closest known one.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise ArgumentError(self._sentence(message))

    def exit(self, status: int = 0, message: str | None = None) -> Any:  # type: ignore[override]
        raise ArgumentError(message.strip() if message else f"{self.prog} exited")

    def _sentence(self, message: str) -> str:
        match = re.match(r"argument ([^:]+): (.*)$", message, re.DOTALL)
        if match:
            names, rest = match.groups()
            flag = names.split("/")[0]
            if rest.startswith(("-", "time ", flag)):
                return rest
            if rest.startswith("expected one argument"):
                return f"{flag} needs a value: {flag} {self._metavar(flag)}"
            if rest.startswith("expected at least one argument"):
                return f"{flag} needs at least one value: {flag} {self._metavar(flag)}"
            if rest.startswith("ignored explicit argument"):
                value = rest.split("argument", 1)[1].strip()
                return f"{flag} takes no value; got {value}"
            return f"{flag}: {rest}"
        match = re.match(r"the following arguments are required: (.*)$", message)
        if match:
            missing = match.group(1).split(", ")[0]
            return f"{self.prog} needs {missing}; {self.format_usage().strip()}"
        return message

    def _metavar(self, flag: str) -> str:
        for action in self._actions:
            if flag in action.option_strings:
                metavar = action.metavar or action.dest.upper()
                return metavar if isinstance(metavar, str) else " ".join(metavar)
        return "VALUE"

    def parse(self, argv: Sequence[str]) -> argparse.Namespace:
        """Parse ``argv``; unknown options and stray words raise :class:`ArgumentError`."""
        namespace, extra = self.parse_known_intermixed_args(self._attach_dash_values(argv))
        if extra:
            self._reject(extra)
        return namespace

    def _attach_dash_values(self, argv: Sequence[str]) -> list[str]:
        """``--time -5s`` -> ``--time=-5s``, so the option's own check names the value.

        Argparse takes a word such as ``-5s`` for an option and answers "--time needs a
        value"; a word after an option that takes one value is attached to it when it
        starts with a minus sign and a digit (a negative number with or without a unit).
        """
        takes_one = {
            flag for action in self._actions if action.nargs is None for flag in action.option_strings
        }
        words = list(argv)
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word in takes_one and i + 1 < len(words) and re.match(r"-\.?\d", words[i + 1]):
                out.append(f"{word}={words[i + 1]}")
                i += 2
                continue
            out.append(word)
            i += 1
        return out

    def _reject(self, extra: list[str]) -> None:
        known = [s for a in self._actions for s in a.option_strings]
        word = extra[0]
        if word.startswith("-") and not _is_number(word):
            flag = word.split("=", 1)[0]
            raise ArgumentError(f"unknown option {flag}" + _did_you_mean(flag, known, quote=""))
        raise ArgumentError(f"unexpected argument {word!r}: {self.format_usage().strip()}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, width=92, max_help_position=30)


def _add(parser: argparse.ArgumentParser, option: Option) -> None:
    kwargs = dict(option.kwargs)
    if option.flags[0].startswith("-"):
        kwargs.setdefault("dest", option.dest)
    parser.add_argument(*option.flags, help=option.help, **kwargs)


def _options_for(where: str) -> list[Option]:
    return [o for o in OPTIONS if where in o.where]


def search_parser(where: str) -> ArgumentParser:
    """The parser that starts a search: ``where`` is ``"line"``, ``"cell"`` or ``"cli"``."""
    if where == CELL:
        parser = ArgumentParser(
            prog="%%automl",
            usage="%%%%automl [DATA] [options]",
            description="A cell that defines build(hp): the search space. " + DATA_HELP_NOTEBOOK,
        )
    else:
        prog = "%automl" if where == LINE else "python -m automl_nb search"
        parser = ArgumentParser(
            prog=prog,
            usage=f"{prog} DATA [options]".replace("%", "%%"),
            description=DATA_HELP_NOTEBOOK if where == LINE else DATA_HELP_CLI,
        )
    parser.add_argument("data", nargs="*", help=argparse.SUPPRESS)
    for option in _options_for(where):
        _add(parser, option)
    if where == CLI:
        parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    return parser


def command_parser(name: str, where: str = LINE) -> ArgumentParser:
    """The parser of one steering command (``%automl prune ID``) or CLI subcommand."""
    command = command_by_name(name)
    prog = f"%automl {name}" if where != CLI else f"python -m automl_nb {name}"
    usage = f"{prog}{command.usage[len(name) :]}".replace("%", "%%")
    parser = ArgumentParser(prog=prog, usage=usage)
    for option in command.arguments:
        if where == CLI and option.dest in ("name", "no_panel"):
            continue
        _add(parser, option)
    if where == CLI:
        parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    else:
        _add(parser, _SEARCH_OPTION)
    return parser


def worker_parser() -> ArgumentParser:
    """The parser of ``python -m automl_nb worker``."""
    parser = ArgumentParser(
        prog="python -m automl_nb worker",
        usage="python -m automl_nb worker --chief HOST:PORT --token T [--threads N]",
        description=_wrap(
            "Join a running search as a worker: it runs trials that the chief (the process of "
            "automl_nb.search(..., workers=N, listen=...)) hands out. The worker must see the "
            "search's directory at the same path (a shared filesystem)."
        ),
    )
    for option in WORKER_OPTIONS:
        _add(parser, option)
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    return parser


def command_by_name(name: str) -> Command:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise ArgumentError(
        f"unknown command {name!r}; commands are: {', '.join(COMMAND_NAMES)}"
        + _did_you_mean(name, COMMAND_NAMES)
    )


def _options_help(options: Iterable[Option], width: int = 92) -> str:
    parser = ArgumentParser(prog="x", formatter_class=_formatter)
    for option in options:
        _add(parser, option)
    text = parser.format_help()
    # keep only the option lines that argparse formats (drop its usage line and heading)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    return "\n".join(lines[start:]).rstrip()


def _commands_help(commands: Iterable[Command], prefix: str) -> str:
    lines = []
    for command in commands:
        usage = f"{prefix}{command.usage}"
        lines.append(f"  {usage}")
        lines.append(f"      {command.help}")
    return "\n".join(lines)


def magic_usage() -> str:
    """The full usage of ``%automl`` / ``%%automl`` (the magic's docstring: ``%automl?``)."""
    notebook_commands = [c for c in COMMANDS if LINE in c.where or CELL in c.where]
    return "\n".join(
        [
            "Run a steerable KerasTuner search in the background, with a live panel.",
            "",
            "  %automl DATA [options]     start a search: shows its panel, returns the Search",
            "  %%automl [DATA] [options]  a cell that defines build(hp): the search space",
            "  %automl COMMAND [args]     steer the latest search, or the one --search VAR names",
            "",
            _wrap(DATA_HELP_NOTEBOOK),
            "",
            "Options:",
            _options_help(o for o in OPTIONS if o.where & NOTEBOOK),
            "",
            "Commands (each takes --search VAR to act on a search other than the latest):",
            _commands_help(notebook_commands, "%automl "),
            "",
            "Examples:",
            EXAMPLES_NOTEBOOK,
            "",
        ]
    )


def cli_usage() -> str:
    """The top-level help of ``python -m automl_nb``."""
    return f"""\
usage: python -m automl_nb search DATA [options]
       python -m automl_nb open DIR
       python -m automl_nb worker --chief HOST:PORT --token T

Run a KerasTuner search with live progress, or show a saved search's leaderboard.

Commands:
  search DATA [options]   run a search and print its leaderboard
  open DIR                print the leaderboard of a saved search
  worker --chief HOST:PORT --token T
                          join a search started with workers and listen (shared filesystem)

Run 'python -m automl_nb search --help' for the options.

Examples:
{EXAMPLES_CLI}
"""


def cli_search_help() -> str:
    """``python -m automl_nb search --help``: the same options as the magic."""
    return search_parser(CLI).format_help() + "\nExamples:\n" + EXAMPLES_CLI + "\n"


def _wrap(text: str, width: int = 92) -> str:
    import textwrap

    return textwrap.fill(text, width=width)


# -- the library's sentences, in the words of the magic and the command line ----------------

_FLAG_OF = {o.dest: o.flags[0] for o in OPTIONS if o.flags[0].startswith("-")}


def _rewrite(message: str, open_command: str) -> str:
    """Replace Python keyword advice (``overwrite=True``) with the matching option."""

    def keyword(match: re.Match[str]) -> str:
        flag = _FLAG_OF.get(match.group(1), match.group(0))
        return f"{flag} {match.group(2)}" if match.group(2) else flag

    message = re.sub(r"\boverwrite=True\b", "--overwrite", message)
    message = re.sub(r"automl_nb\.open\('([^']*)'\)", rf"{open_command} \1", message)
    names = (
        "target|validation|objective|oracle|seed|trials|epochs|time|batch_size|directory|workers|listen"
    )
    return re.sub(rf"(?<![\w.(])({names})=(?:'([^']*)')?(?![\w(])", keyword, message)


def for_notebook(message: str) -> str:
    """A library error sentence as ``%automl`` users should read it."""
    return _rewrite(message, "%automl open")


def for_command_line(message: str) -> str:
    """A library error sentence as command-line users should read it."""
    return _rewrite(message, "python -m automl_nb open")


# The options that map one to one onto automl_nb.search() keywords (DATA, --validation and
# the cell's build function are resolved differently by the magic and the command line).
SEARCH_KEYWORDS = (
    "target", "oracle", "objective", "trials", "epochs", "time", "seed", "directory",
    "overwrite", "batch_size", "workers", "listen",
)


def search_kwargs(args: Any) -> dict[str, Any]:
    """The keyword arguments for ``automl_nb.search()`` that parsed options give, for both fronts."""
    return {name: getattr(args, name) for name in SEARCH_KEYWORDS}
