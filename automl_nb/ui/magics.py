"""``%automl`` and ``%%automl``: parse, resolve names in the notebook, call the library.

The magic is thin: the arguments come from the one specification in
:mod:`automl_nb.ui.options` (shared with ``python -m automl_nb``), names are looked up in
the notebook's namespace, and everything else is :func:`automl_nb.search` and the
:class:`~automl_nb._search.Search` it returns. Every user mistake is an IPython
``UsageError``: one sentence, no traceback, the library's own errors in the magic's words
(``--overwrite``, ``%automl open DIR``). The text views come from :mod:`automl_nb.ui.text`.

Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import ast
import inspect
import os
import queue
import shlex
import sys
import threading
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, output_can_be_silenced

from .._util import did_you_mean
from ..events import SearchEnded
from ..status import SearchState
from . import args as _args
from .args import ArgumentError
from .options import BUNDLED_DATASETS, CELL, COMMAND_NAMES, LINE, search_kwargs
from .text import Progress, budget_text, leaderboard, status_text

if TYPE_CHECKING:
    from argparse import Namespace

    from .._search import Search

_MISSING = object()


@magics_class
class AutoMLMagics(Magics):
    """``%automl`` / ``%%automl``. The latest search started or opened here is remembered."""

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self.latest: Search | None = None

    @output_can_be_silenced
    @line_cell_magic
    def automl(self, line: str = "", cell: str | None = None) -> Any:
        try:
            return self._automl(line, cell)
        except ArgumentError as exc:
            raise UsageError(str(exc)) from None

    automl.__doc__ = _args.magic_usage()

    # -- dispatch ------------------------------------------------------------------------
    def _automl(self, line: str, cell: str | None) -> Any:
        quiet = line.rstrip().endswith(";")
        argv = _split(line.rstrip().rstrip(";"))
        if "-h" in argv or "--help" in argv:
            print(_args.magic_usage())
            return None
        if cell is None:
            if not argv:
                raise UsageError(
                    "%automl needs DATA or a command; for example: %automl digits "
                    "(see %automl? for the usage)"
                )
            if argv[0] in COMMAND_NAMES:
                return self._command(argv[0], argv[1:], quiet, line)
            args = _args.search_parser(LINE).parse(argv)
            return self._start(args, None, quiet, line)
        if argv and argv[0] in COMMAND_NAMES:
            raise UsageError(
                f"%%automl starts a search from a cell that defines build(hp); "
                f"'{argv[0]}' is a command: use it on a line, %automl {argv[0]}"
            )
        args = _args.search_parser(CELL).parse(argv)
        return self._start(args, cell, quiet, line)

    # -- starting a search -------------------------------------------------------------------
    def _start(self, args: Namespace, cell: str | None, quiet: bool, line: str) -> Any:
        if args.data and args.data_option:
            raise UsageError(
                f"give DATA once: either before the options ({' '.join(args.data)}) or with "
                f"--data ({' '.join(args.data_option)})"
            )
        tokens = args.data or args.data_option
        if not tokens:
            magic = "%%automl" if cell is not None else "%automl"
            raise UsageError(
                f"{magic} needs data: {magic} --data X_train y_train, or a bundled set "
                f"({', '.join(BUNDLED_DATASETS)}), a DataFrame with --target, a CSV file or an "
                "image folder"
            )
        if args.name is not None and not args.name.isidentifier():
            raise UsageError(f"--name {args.name!r} is not a Python variable name")
        data = self._resolve_data(tokens, "DATA")
        validation = None
        if args.validation is not None:
            validation = self._resolve_data(args.validation, "--validation")
        space = None
        if cell is not None:
            space = self._run_cell_for_build(cell, args.build)
        from .._entry import search as start_search

        try:
            search = start_search(
                data,
                validation=validation,
                space=space,
                start=False,
                **search_kwargs(args),
            )
        except ValueError as exc:  # the library's errors, in the magic's words
            words = _args.dialect(CELL if cell is not None else LINE)
            raise UsageError(_args.sentence(exc, words)) from None
        return self._present(search, args, quiet, cell is not None, line)

    def _remember(self, search: Search, name: str | None) -> None:
        self.latest = search
        if name:
            self.shell.user_ns[name] = search

    def _present(
        self, search: Search, args: Namespace, quiet: bool, is_cell: bool, line: str
    ) -> Any:
        """Show the search (panel or text), start it, wait if asked, and pick the return value."""
        self._remember(search, args.name)
        shown_by_hook = not quiet and self._result_is_displayed(is_cell, line)
        progress: _TextProgress | None = None
        if args.no_panel:
            progress = _TextProgress(search, live=not args.wait, kernel=_in_kernel(self.shell))
        elif args.wait or not shown_by_hook:
            _display(search)
        ended = threading.Event()
        unsubscribe = search.subscribe(lambda event: isinstance(event, SearchEnded) and ended.set())
        try:
            started = search.start()
            if not started:
                if progress is not None:
                    progress.close()
                raise UsageError(str(started))
            if args.wait:
                self._wait(search, ended, progress)
        finally:
            unsubscribe()
        # When IPython is about to show the return value, a Search would show as a second
        # panel (or as a panel despite --no-panel): hand back nothing; --name and the latest
        # search still hold it.
        if shown_by_hook and (args.wait or args.no_panel):
            return None
        return search

    def _wait(self, search: Search, ended: threading.Event, progress: _TextProgress | None) -> None:
        """Block until the search ends; text progress is printed here, on the cell's thread.

        An interrupt (the kernel's stop button) ends the wait, not the search.
        """
        try:
            while not ended.wait(0.25):
                if progress is not None:
                    progress.drain()
                if search.state.is_finished():
                    break
        except KeyboardInterrupt:
            if progress is not None:
                progress.drain()
            print("stopped waiting; the search goes on in the background (%automl stop to stop it)")
            return
        search.wait(timeout=10)  # the search thread's last steps after its final event
        failed = search.state == SearchState.FAILED
        if progress is not None:
            progress.drain()
            progress.close()
            if not failed:
                print(status_text(search).splitlines()[0])
                print(leaderboard(search))
        if failed:
            raise UsageError(search.error or "the search failed")

    def _result_is_displayed(self, is_cell: bool, line: str) -> bool:
        """Whether IPython will show this magic's return value (the cell's last expression).

        While a cell runs, IPython's display hook holds its ``ExecutionResult``, whose
        ``info`` carries the cell's transformed source: the magic is the last expression
        when the last statement is a ``run_line_magic('automl', line)`` call with this line.
        """
        shell = self.shell
        result = getattr(getattr(shell, "displayhook", None), "exec_result", None)
        info = getattr(result, "info", None)
        if info is None or getattr(info, "silent", False):
            return False  # called from code outside a cell, or a silent run
        try:
            tree = ast.parse(info.transformed_cell or info.raw_cell or "")
        except (AttributeError, SyntaxError, TypeError, ValueError):
            return False
        interactivity = getattr(shell, "ast_node_interactivity", "last_expr")
        if interactivity == "none" or not tree.body:
            return False
        method = "run_cell_magic" if is_cell else "run_line_magic"
        nodes = tree.body if interactivity == "all" else tree.body[-1:]
        assigned = interactivity == "last_expr_or_assign"
        return any(_calls_magic(node, method, line, shell.var_expand, assigned) for node in nodes)

    # -- names in the notebook ---------------------------------------------------------------
    def _resolve_data(self, tokens: list[str], what: str) -> Any:
        """A bundled name, a path or a variable's value; two tokens are a pair ``(X, y)``."""
        if len(tokens) == 1:
            return self._value(tokens[0], what)
        if len(tokens) == 2:
            return tuple(self._variable(token, what) for token in tokens)
        raise UsageError(
            f"{what} takes one name or two (X y); got {len(tokens)}: {' '.join(tokens)}"
        )

    def _user_variables(self) -> dict[str, Any]:
        """The notebook's variables: ``user_ns`` less what IPython itself put there."""
        hidden = getattr(self.shell, "user_ns_hidden", None) or {}
        return {
            name: value
            for name, value in self.shell.user_ns.items()
            if not (name in hidden and hidden[name] is value)
        }

    def _value(self, token: str, what: str) -> Any:
        variables = self._user_variables()
        if token.isidentifier() and token in variables:
            return variables[token]  # a variable of the notebook shadows a bundled set
        if token in BUNDLED_DATASETS:
            return token
        path = os.path.expanduser(token)
        if os.path.exists(path):
            return path
        if token.isidentifier():
            hint = self._did_you_mean(token, BUNDLED_DATASETS + COMMAND_NAMES)
            if hint:
                raise UsageError(f"no variable '{token}' in the notebook{hint}")
            raise UsageError(
                f"no variable '{token}' in the notebook, and it is not a bundled data set "
                f"({', '.join(BUNDLED_DATASETS)}) or a file or folder"
            )
        raise UsageError(
            f"{what} '{token}' is not a file or folder, a variable or a bundled data set "
            f"({', '.join(BUNDLED_DATASETS)})"
        )

    def _variable(self, token: str, what: str) -> Any:
        variables = self._user_variables()
        if token.isidentifier() and token in variables:
            return variables[token]
        if not token.isidentifier():
            raise UsageError(
                f"{what} with two values takes two variables X y; '{token}' is not a variable name"
            )
        raise UsageError(f"no variable '{token}' in the notebook{self._did_you_mean(token)}")

    def _did_you_mean(self, token: str, extra: tuple[str, ...] = ()) -> str:
        names = [n for n in self._user_variables() if not n.startswith("_")] + list(extra)
        return did_you_mean(token, names)

    def _run_cell_for_build(self, cell: str, name: str) -> Any:
        """Run the cell in the notebook's namespace; return the build function it defines."""
        if not name.isidentifier():
            raise UsageError(f"--build {name!r} is not a function name")
        ns = self.shell.user_ns
        before = ns.get(name, _MISSING)
        code = self.shell.transform_cell(cell)
        try:
            filename = self.shell.compile.cache(code)
        except Exception:  # noqa: BLE001 - an older IPython: tracebacks just lack the source
            filename = "<%%automl cell>"
        # The user's code: its errors show with their own traceback, as in any cell.
        exec(compile(code, filename, "exec"), self.shell.user_global_ns, ns)  # noqa: S102
        build = ns.get(name, _MISSING)
        if build is _MISSING or build is before:
            option = "" if name == "build" else f" (--build {name})"
            raise UsageError(
                f"the cell defines no function {name}(hp){option}; define one that takes hp and "
                "returns a compiled Keras model, or name yours with --build NAME"
            )
        if not callable(build):
            raise UsageError(
                f"{name} is a {type(build).__name__}, not a function; define "
                f"def {name}(hp): ... returning a compiled Keras model"
            )
        try:
            inspect.signature(build).bind(object())
        except TypeError:
            raise UsageError(
                f"{name}(hp) must take one argument, hp; {name} is {name}{_signature(build)}"
            ) from None
        except ValueError:  # no signature (a builtin): let the library judge it
            pass
        return build

    # -- steering ----------------------------------------------------------------------------
    def _target(self, variable: str | None) -> Search:
        if variable is None:
            if self.latest is None:
                raise UsageError(
                    "there is no search yet: start one with %automl DATA, or name one with "
                    "--search VAR"
                )
            return self.latest
        variables = self._user_variables()
        if variable not in variables:
            raise UsageError(
                f"--search: no variable '{variable}' in the notebook{self._did_you_mean(variable)}"
            )
        value = variables[variable]
        if not (hasattr(value, "subscribe") and hasattr(value, "record")):
            raise UsageError(
                f"--search '{variable}' is a {type(value).__name__}, not a search; "
                "pass the variable that %automl --name or automl_nb.search() gave"
            )
        return value

    def _command(self, name: str, argv: list[str], quiet: bool, line: str) -> Any:
        args = _args.command_parser(name, LINE).parse(argv)
        if name == "open":
            return self._open(args, quiet, line)
        search = self._target(args.search)
        try:
            if name == "pause":
                return search.pause()
            if name == "resume":
                return search.resume()
            if name == "stop":
                return search.stop()
            if name == "prune":
                return search.prune(args.trial_id)
            if name == "promote":
                return search.promote(args.trial_id, epochs=args.epochs)
            if name == "enqueue":
                return search.enqueue(parse_values(args.values))
            if name == "extend":
                if args.trials is None and args.time is None:
                    raise UsageError("extend needs --trials N or --time DURATION (or both)")
                return search.extend(trials=args.trials, time=args.time)
            if name == "status":
                print(status_text(search))
                return None
            if name == "results":
                return search.results
            if name == "export":
                path = search.export(args.path, format=args.format, quantize=args.quantize)
                print(f"exported the best model to {path}")
                return path
        except ValueError as exc:
            raise UsageError(_args.sentence(exc, _args.dialect(LINE, name))) from None
        except RuntimeError as exc:  # "no trial has finished yet" and the like
            raise UsageError(str(exc)) from None
        raise AssertionError(f"unhandled command {name}")  # pragma: no cover

    def _open(self, args: Namespace, quiet: bool, line: str) -> Any:
        from .._entry import open_search

        try:
            search = open_search(os.path.expanduser(args.directory))
        except ValueError as exc:
            raise UsageError(_args.sentence(exc, _args.dialect(LINE, "open"))) from None
        self._remember(search, args.name)
        shown_by_hook = not quiet and self._result_is_displayed(False, line)
        if args.no_panel:
            print(status_text(search))
            print(leaderboard(search))
            return None if shown_by_hook else search
        if not shown_by_hook:
            _display(search)
        return search


# -- helpers ------------------------------------------------------------------------------


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"%automl could not read its arguments: {exc}") from None


def _calls_magic(
    node: ast.stmt, method: str, line: str, expand: Any, assigned: bool = False
) -> bool:
    """Whether ``node`` is ``get_ipython().<method>('automl', <line>, ...)`` (or, with
    ``assigned``, ``x = ...`` of it) for this very line."""
    value = node.value if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) else None
    if isinstance(node, ast.Assign | ast.AnnAssign) and not assigned:
        return False
    if not isinstance(value, ast.Call):
        return False
    func, args = value.func, value.args
    if not (isinstance(func, ast.Attribute) and func.attr == method and len(args) >= 2):
        return False
    if not all(isinstance(arg, ast.Constant) for arg in args[:2]):
        return False
    name, raw = args[0].value, args[1].value
    if name != "automl" or not isinstance(raw, str):
        return False
    if raw.strip() == line.strip():
        return True
    try:
        return expand(raw).strip() == line.strip()
    except Exception:  # noqa: BLE001 - an expansion that fails here only means "no"
        return False


def _signature(fn: Any) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def parse_values(pairs: list[str]) -> dict[str, Any]:
    """``["lr=0.001", "units=64", "act=relu"]`` -> ``{"lr": 0.001, "units": 64, "act": "relu"}``.

    Values are Python literals where they parse as one (numbers, True/False/None, quoted
    strings, lists); ``true``/``false`` are booleans; anything else is a string.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() and not _hp_name(name):
            raise UsageError(
                f"enqueue takes name=value pairs such as lr=0.001 units=64; got {pair!r}"
            )
        values[name] = _literal(text.strip())
    return values


def _hp_name(name: str) -> bool:
    return bool(name) and all(ch.isalnum() or ch in "_-/." for ch in name)


def _literal(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _in_kernel(shell: Any) -> bool:
    return getattr(shell, "kernel", None) is not None


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


class _TextProgress:
    """``--no-panel``: a line per finished trial.

    With ``--wait`` the lines are printed by the cell's own thread (:meth:`drain`), so
    they land in the cell's output under any front end. Without it, in a kernel, they
    go into one display that the search thread updates (``update_display_data``
    reaches the cell that started the search, whichever cell runs now); in a terminal
    they are printed as they come.
    """

    def __init__(self, search: Search, *, live: bool, kernel: bool):
        self.search = search
        self._queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lines: list[str] = []
        self._handle: Any = None
        self._lock = threading.Lock()
        self._mode = "queue" if not live else ("display" if kernel else "print")
        if self._mode == "display":
            from IPython.display import display

            self._handle = display(_Text(self._header()), display_id=True)
        else:
            self._emit(self._header())
        self._progress = Progress(search, _Writer(self._emit), live=False)
        self._unsubscribe = search.subscribe(self._progress, replay=True)

    def _header(self) -> str:
        return (
            f"search '{self.search.name}' with the {self.search.settings.oracle} oracle: "
            f"{budget_text(self.search)}; objective {self.search.objective}"
        )

    def _emit(self, line: str) -> None:
        if self._mode == "queue":
            self._queue.put(line)
        elif self._mode == "print":
            print(line, flush=True)
        else:
            with self._lock:
                self._lines.append(line)
                text = "\n".join(self._lines)
            if self._handle is not None:
                self._handle.update(_Text(text))

    def drain(self) -> None:
        """Print the lines that came since the last call (``--wait``: on the cell's thread)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            print(line)
        sys.stdout.flush()

    def close(self) -> None:
        self._unsubscribe()


class _Writer:
    """A file-like ``write`` that hands whole lines to a function."""

    def __init__(self, emit: Any):
        self._emit = emit
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self._emit(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _Text:
    """Plain text for a display that is updated in place."""

    def __init__(self, text: str):
        self.text = text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)

    def __repr__(self) -> str:
        return self.text


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%automl`` and ``%%automl`` (``automl_nb.load_ipython_extension`` calls this)."""
    ipython.register_magics(AutoMLMagics)
