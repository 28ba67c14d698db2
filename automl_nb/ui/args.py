"""The parsers and help texts of ``%automl``, ``%%automl`` and ``python -m automl_nb``.

They are built from the one table in :mod:`automl_nb.ui.options`. A parser never exits
and never prints: every mistake is an :class:`automl_nb.errors.ArgumentError` whose
fields say which flag, what value and what would work. Argparse is used through its
documented hooks only (``exit_on_error=False``, ``type=`` checks, ``Action`` classes);
its English is never read or rewritten:

- a value an option's check refuses carries its sentence's fields (:class:`BadValue`);
- an option given no value, or a flag given one, is said by its own :class:`Value` or
  :class:`Flag` action;
- a missing ``ID``/``DIR``, an unknown option (with the closest known one) and a stray
  word are this module's own checks of what argparse leaves over.

:func:`dialect` gives the words a door uses for the library's own errors: their
arguments read as flags (``--target 'lable' is not a column ...``), ``overwrite=True``
as ``--overwrite``, ``automl_nb.open('DIR')`` as ``%automl open DIR`` or
``python -m automl_nb open DIR``.

This module imports neither IPython nor TensorFlow.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from .._util import did_you_mean
from ..errors import ArgumentError, Dialect, InputError, flag_dialect
from .checks import BadValue
from .options import (
    CELL,
    CLI,
    COMMAND_NAMES,
    COMMANDS,
    DATA_HELP_CLI,
    DATA_HELP_NOTEBOOK,
    DIRECTORY_ARGUMENT,
    EXAMPLES_CLI,
    EXAMPLES_NOTEBOOK,
    LINE,
    NOTEBOOK,
    NOTEBOOK_ONLY,
    OPTIONS,
    SEARCH_OPTION,
    WORKER_OPTIONS,
    Command,
    Option,
)

__all__ = [
    "ArgumentError",
    "ArgumentParser",
    "cli_search_help",
    "cli_usage",
    "command_by_name",
    "command_parser",
    "dialect",
    "magic_usage",
    "search_parser",
    "sentence",
    "worker_parser",
]


# -- actions that say what is wrong with them ------------------------------------------------


def _given(argv: Sequence[str], flags: Sequence[str]) -> list[tuple[int, str | None]]:
    """Where each of ``flags`` stands in ``argv``, with its ``=value`` where written so."""
    found = []
    for i, word in enumerate(argv):
        name, sep, value = word.partition("=")
        if name in flags and word.startswith("-"):
            found.append((i, value if sep else None))
    return found


class Flag(argparse.Action):
    """An option that takes no value (``--overwrite``): present means True."""

    def __init__(self, option_strings: Sequence[str], dest: str, default: Any = False,
                 required: bool = False, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, const=True, default=default,
                         required=required, help=help)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, True)

    def complaint(self, argv: Sequence[str]) -> ArgumentError:
        """Argparse refused this flag: the only way is a value given to it (``--overwrite=yes``)."""
        value = next((v for _, v in _given(argv, self.option_strings) if v is not None), None)
        return ArgumentError(f"takes no value; got {value!r}", argument=self.option_strings[0],
                             value=value)


class Value(argparse.Action):
    """An option that takes a value (or, with ``nargs="+"``, values)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)

    def complaint(self, argv: Sequence[str]) -> ArgumentError:
        """Argparse refused this option: it was given no value.

        A word after it that starts with a minus sign (``--time -5s``) looks like an option
        to argparse; when it is a negative number, the option's own check says what is
        wrong with it.
        """
        flag = self.option_strings[0]
        metavar = self.metavar if isinstance(self.metavar, str) else " ".join(self.metavar or ())
        after = [argv[i + 1] if i + 1 < len(argv) else "" for i, v in _given(argv, self.option_strings)
                 if v is None]
        # the one argparse refused: the last word, or one followed by a word with a minus sign
        following = next((word for word in after if word[:1] in ("", "-")), "")
        negative = following[:1] == "-" and (following[1:2].isdigit() or following[1:2] == ".")
        if negative and self.type is not None:
            try:
                self.type(following)
            except BadValue as bad:
                return ArgumentError(bad.problem, argument=flag, value=bad.value, hint=bad.hint)
        if self.nargs == "+":
            return ArgumentError(f"needs at least one value: {flag} {metavar}", argument=flag)
        return ArgumentError(f"needs a value: {flag} {metavar}", argument=flag)


class Word(argparse.Action):
    """A word a command needs (``ID``, ``DIR``, ``NAME=VALUE ...``). Argparse takes it as
    optional; the parser checks it is there after parsing, so that sentence is ours too."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)


# -- the parser --------------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`ArgumentError` (with fields) instead of exiting."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("exit_on_error", False)
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)
        self.named: dict[str, argparse.Action] = {}  # argparse's name of an argument -> it

    def add(self, option: Option) -> argparse.Action:
        """Add an option of the table, with the action that can say what is wrong with it."""
        kwargs = dict(option.kwargs)
        if option.is_flag:
            kwargs.setdefault("dest", option.dest)
            if kwargs.get("action") == "store_true":
                kwargs["action"] = Flag
            else:
                kwargs.setdefault("action", Value)
        else:
            nargs = kwargs.pop("nargs", None)
            kwargs.update(action=Word, nargs="*" if nargs in ("+", "*") else "?")
        action = self.add_argument(*option.flags, help=option.help, **kwargs)
        # the name argparse.ArgumentError.argument_name gives the argument
        name = "/".join(action.option_strings) if action.option_strings else action.metavar or action.dest
        self.named[str(name)] = action
        return action

    def error(self, message: str) -> Any:  # type: ignore[override]
        # not reached by the checks above; argparse's own words, as they are, never an exit
        raise ArgumentError(message)

    def exit(self, status: int = 0, message: str | None = None) -> Any:  # type: ignore[override]
        raise ArgumentError(message.strip() if message else f"{self.prog} exited")

    def parse(self, argv: Sequence[str]) -> argparse.Namespace:
        """Parse ``argv``; every mistake raises :class:`ArgumentError`."""
        argv = list(argv)
        try:
            namespace, extra = self.parse_known_intermixed_args(argv)
        except argparse.ArgumentError as exc:
            raise self._explain(exc, argv) from None
        if extra:
            raise self._leftover(extra)
        if getattr(namespace, "help", False):
            return namespace  # --help: the caller shows the help, whatever else is missing
        for action in self.named.values():
            if isinstance(action, Word) and not getattr(namespace, action.dest):
                raise ArgumentError(f"{self.prog} needs {action.metavar}",
                                    hint=self.format_usage().strip())
        return namespace

    def _explain(self, exc: argparse.ArgumentError, argv: list[str]) -> ArgumentError:
        """Argparse's error as ours: from the refused value's fields, or from the action."""
        action = self.named.get(str(exc.argument_name))
        flag = action.option_strings[0] if action is not None and action.option_strings else None
        cause = exc.__context__  # argparse raises its error while handling the check's BadValue
        if isinstance(cause, BadValue):
            return ArgumentError(cause.problem, argument=flag or exc.argument_name,
                                 value=cause.value, hint=cause.hint)
        if isinstance(action, Flag | Value):
            return action.complaint(argv)
        return ArgumentError(exc.message, argument=exc.argument_name)  # pragma: no cover

    def _leftover(self, extra: list[str]) -> ArgumentError:
        """What argparse could not place: an unknown option, or a word too many."""
        word = extra[0]
        if word.startswith("-") and not _is_number(word):
            flag = word.split("=", 1)[0]
            known = [s for action in self.named.values() for s in action.option_strings]
            return ArgumentError(f"unknown option {flag}{did_you_mean(flag, known, quote='')}",
                                 value=word)
        return ArgumentError(f"unexpected argument {word!r}: {self.format_usage().strip()}",
                             value=word)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, width=92, max_help_position=30)


_HELP_OPTION = Option(("--help", "-h"), help="show this help and exit",
                      kwargs={"action": "store_true", "dest": "help"})


def _add_help(parser: ArgumentParser) -> None:
    parser.add(_HELP_OPTION)


def _search_options(where: str) -> list[Option]:
    return [o for o in OPTIONS if where in o.where]


def _command_options(command: Command, where: str) -> list[Option]:
    if where == CLI:
        options = [o for o in command.arguments if o.dest not in NOTEBOOK_ONLY]
        return [DIRECTORY_ARGUMENT, *options] if command.directory else options
    return [*command.arguments, SEARCH_OPTION]


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
    for option in _search_options(where):
        parser.add(option)
    if where == CLI:
        _add_help(parser)
    return parser


def command_parser(name: str, where: str = LINE) -> ArgumentParser:
    """The parser of one steering command (``%automl prune ID``) or CLI subcommand."""
    command = command_by_name(name)
    prog = f"%automl {name}" if where != CLI else f"python -m automl_nb {name}"
    options = _command_options(command, where)
    shown = Command(name, command.help, tuple(o for o in options if o is not SEARCH_OPTION))
    usage = f"{prog}{shown.usage[len(name) :]}".replace("%", "%%")
    parser = ArgumentParser(prog=prog, usage=usage)
    for option in options:
        parser.add(option)
    if where == CLI:
        _add_help(parser)
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
        parser.add(option)
    _add_help(parser)
    return parser


def command_by_name(name: str) -> Command:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise ArgumentError(
        f"unknown command {name!r}; commands are: {', '.join(COMMAND_NAMES)}"
        + did_you_mean(name, COMMAND_NAMES),
        value=name,
    )


# -- the library's errors in a door's words ----------------------------------------------------


def dialect(where: str, command: str = "search") -> Dialect:
    """How the magic (``where`` LINE or CELL) or the command line (CLI) says the library's
    keywords while running ``command``: as the flags that set them there."""
    if command == "search":
        options = _search_options(where)
    elif command == "worker":
        options = list(WORKER_OPTIONS)
    else:
        options = _command_options(command_by_name(command), where)
    flags = {o.dest: o.flags[0] for o in options if o.is_flag}
    opener = "python -m automl_nb open" if where == CLI else "%automl open"
    return flag_dialect(flags.get, opener)


def sentence(error: BaseException, words: Dialect) -> str:
    """The one sentence a door shows for ``error``: an automl-nb error in the door's words."""
    return error.sentence(words) if isinstance(error, InputError) else str(error)


# -- help texts --------------------------------------------------------------------------------


def _options_help(options: Iterable[Option]) -> str:
    parser = ArgumentParser(prog="x")
    for option in options:
        parser.add(option)
    text = parser.format_help()
    # keep only the option lines that argparse formats (drop its usage line and heading)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    return "\n".join(lines[start:]).rstrip()


def _commands_help(commands: Iterable[Command], prefix: str) -> str:
    lines = []
    for command in commands:
        lines.append(f"  {prefix}{command.usage}")
        lines.append(f"      {command.help}")
    return "\n".join(lines)


def magic_usage() -> str:
    """The full usage of ``%automl`` / ``%%automl`` (the magic's docstring: ``%automl?``)."""
    notebook_commands = [c for c in COMMANDS if c.where & NOTEBOOK]
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
    shell = [c for c in COMMANDS if CLI in c.where and c.name != "open"]
    steering = "\n".join(
        f"  {usage}\n      {command.help}"
        for command in shell
        for usage in [Command(command.name, "", tuple(_command_options(command, CLI))).usage]
    )
    return f"""\
usage: python -m automl_nb search DATA [options]
       python -m automl_nb open DIR
       python -m automl_nb ls [ROOT] | status DIR | pause DIR | resume DIR | stop DIR | watch DIR
       python -m automl_nb worker --chief HOST:PORT --token T

Run a KerasTuner search with live progress, or show a saved search's leaderboard.

Commands:
  search DATA [options]   run a search and print its leaderboard
  open DIR                print the leaderboard of a saved search
  worker --chief HOST:PORT --token T
                          join a search started with workers and listen (shared filesystem)

Find and steer searches that any process runs (the notebook's kernel, another shell):
{steering}

Run 'python -m automl_nb search --help' for the options.

Examples:
{EXAMPLES_CLI}
"""


def cli_search_help() -> str:
    """``python -m automl_nb search --help``: the same options as the magic."""
    return search_parser(CLI).format_help() + "\nExamples:\n" + EXAMPLES_CLI + "\n"


def _wrap(text: str, width: int = 92) -> str:
    return textwrap.fill(text, width=width)
