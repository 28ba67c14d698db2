"""Every exception automl-nb raises on purpose, with the fields its message is built from.

Bad input is an :class:`InputError` (a ``ValueError``): it knows the ``argument`` it is
about, the ``value`` it got, the ``problem`` and a ``hint`` that says what would work.
Its message is one sentence built from those fields, and the same error reads right from
every door: ``str(error)`` speaks Python (``overwrite=True``, ``automl_nb.open('runs/a')``),
``error.sentence(dialect)`` speaks the magic's or the command line's words (``--overwrite``,
``%automl open runs/a``). Callers decide by type and by field, never by reading the text.

Nothing here imports anything heavy; every module of the package may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "PYTHON",
    "ArgumentError",
    "AutoMLError",
    "DataError",
    "Dialect",
    "InputError",
    "JournalError",
    "Keyword",
    "OracleError",
    "Reopen",
    "SearchError",
    "SpaceError",
    "SpaceFailure",
    "TrialFailure",
    "WorkerError",
]

_UNSET: Any = object()


# --------------------------------------------------------------------------------------
# the parts of a sentence that each door says in its own words
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Keyword:
    """A keyword argument the user could pass: ``overwrite=True`` / ``--overwrite``.

    Without a value it names the argument as a setting (``target=`` / ``--target``).
    """

    name: str
    value: Any = _UNSET


@dataclass(frozen=True)
class Reopen:
    """The call that reopens a search's directory: ``automl_nb.open('DIR')`` / ``%automl open DIR``."""

    path: str


Part = str | Keyword | Reopen
Text = str | tuple[Part, ...]


class Dialect(NamedTuple):
    """How one door (Python, the magic, the command line) says keywords and calls."""

    keyword: Callable[[Keyword], str]
    reopen: Callable[[Reopen], str]
    subject: Callable[[str], str] = str  # the argument as the sentence's first word

    def render(self, text: Text | None) -> str:
        if text is None:
            return ""
        if isinstance(text, str):
            return text
        out = []
        for part in text:
            if isinstance(part, Keyword):
                out.append(self.keyword(part))
            elif isinstance(part, Reopen):
                out.append(self.reopen(part))
            else:
                out.append(str(part))
        return "".join(out)


def _python_keyword(kw: Keyword) -> str:
    if kw.value is _UNSET:
        return f"{kw.name}="
    return f"{kw.name}={kw.value!r}"


#: How the Python API words its errors (``str(error)``).
PYTHON = Dialect(keyword=_python_keyword, reopen=lambda r: f"automl_nb.open({r.path!r})")


def flag_dialect(flag_of: Callable[[str], str | None], open_command: str) -> Dialect:
    """A dialect for option-style doors: ``flag_of("batch_size")`` gives ``"--batch-size"``.

    An error's argument reads as its flag too (``--target 'lable' is not a column ...``).
    A name the door has no flag for (``flag_of`` gives None) keeps its Python spelling.
    """

    def keyword(kw: Keyword) -> str:
        flag = flag_of(kw.name)
        if flag is None:
            return _python_keyword(kw)
        if kw.value is _UNSET or kw.value is True:
            return flag
        return f"{flag} {kw.value}"

    def subject(argument: str) -> str:
        return flag_of(argument) or argument

    return Dialect(keyword=keyword, reopen=lambda r: f"{open_command} {r.path}", subject=subject)


# --------------------------------------------------------------------------------------
# the exceptions
# --------------------------------------------------------------------------------------
class AutoMLError(Exception):
    """The base of every error automl-nb raises on purpose."""


class InputError(AutoMLError, ValueError):
    """Bad input: one sentence that names the argument, what was wrong and what would work.

    Attributes:
        argument: the keyword or option it is about ("trials", "data", "directory"), or None.
        value: the value received (``InputError.NO_VALUE`` when none is recorded).
        problem: what was wrong, the rest of the sentence after the argument's name.
        hint: what would work (after a semicolon), or None.
    """

    NO_VALUE: Any = _UNSET

    def __init__(
        self,
        problem: Text,
        *,
        argument: str | None = None,
        value: Any = _UNSET,
        hint: Text | None = None,
    ):
        self.argument = argument
        self.value = value
        self.problem = problem
        self.hint = hint
        super().__init__(self.sentence())

    @classmethod
    def like(cls, other: InputError) -> InputError:
        """The same sentence and fields as ``other``, raised as this type."""
        return cls(other.problem, argument=other.argument, value=other.value, hint=other.hint)

    def sentence(self, dialect: Dialect = PYTHON) -> str:
        """The message, in the words of ``dialect`` (Python by default)."""
        problem = dialect.render(self.problem)
        if self.argument:
            subject = dialect.subject(self.argument)
            joiner = "" if problem[:1] in (":", ",", ";") else " "
            text = f"{subject}{joiner}{problem}" if problem else subject
        else:
            text = problem
        hint = dialect.render(self.hint)
        return f"{text}; {hint}" if hint else text

    def __reduce__(self):  # pickles (worker processes) with its fields
        return (_rebuild, (type(self), self.problem, self.argument, self.value, self.hint))


def _rebuild(cls: type[InputError], problem: Text, argument: str | None, value: Any, hint: Text | None):
    return cls(problem, argument=argument, value=value, hint=hint)


class SearchError(InputError):
    """A bad argument to :func:`automl_nb.search`, :func:`automl_nb.open` or a Search method."""


class DataError(InputError):
    """Bad input data."""


class SpaceError(InputError):
    """A search space, or values given for one, that cannot be used."""


class OracleError(InputError):
    """An oracle, objective or oracle argument that cannot be used."""


class ArgumentError(InputError):
    """A bad option or word given to ``%automl`` or ``python -m automl_nb``."""


class SpaceFailure(AutoMLError, RuntimeError):
    """The search space could not be built at all: the search ends failed with this sentence."""


class TrialFailure(AutoMLError):
    """A trial cannot go on (a NaN loss, say); the message is the reason the user sees."""


class WorkerError(AutoMLError, RuntimeError):
    """The worker processes cannot run the search (they keep dying, or cannot start)."""


class JournalError(AutoMLError, OSError):
    """The journal cannot be written (disk full, read-only): the search stops, nothing is lost."""
