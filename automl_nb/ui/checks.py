"""The value checks of the options in :mod:`automl_nb.ui.options`: ``type=`` callables for
argparse that raise :class:`BadValue` (an ``argparse.ArgumentTypeError``) carrying the fields
of the sentence the parser shows (:mod:`automl_nb.ui.args`). A new option with a new kind of
value adds its check here.

This module imports neither IPython nor TensorFlow.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import oracles
from .._util import DurationError, did_you_mean, parse_time


class BadValue(argparse.ArgumentTypeError):
    """A value an option's check refuses: what was wrong (``problem``, read after the
    option's flag), the ``value`` given and a ``hint`` that says what would work."""

    def __init__(self, problem: str, value: str, hint: str | None = None):
        self.problem = problem
        self.value = value
        self.hint = hint
        super().__init__(f"{problem}; {hint}" if hint else problem)


def whole_number(flag: str, minimum: int | None, auto: bool = False) -> Callable[[str], Any]:
    """The check of an option that takes a whole number of at least ``minimum``.

    With ``auto`` the word "auto" passes too (it is also the option's default: argparse
    runs a string default through this check).
    """

    def convert(text: str) -> Any:
        if auto and text.strip().lower() == "auto":
            return "auto"
        try:
            number = int(text)
        except ValueError:
            raise BadValue(
                f"{text!r} is not a whole number", text, hint=f"write for example {flag} 20"
            ) from None
        if minimum is not None and number < minimum:
            raise BadValue(f"must be at least {minimum}; got {number}", text)
        return number

    convert.__name__ = "int"
    return convert


def oracle_name(text: str) -> str:
    """The check of ``--oracle``: a registered oracle's name, in any case."""
    name = text.strip().lower()
    names = oracles.oracle_names()
    if name not in names:
        raise BadValue(
            f"{text!r} is not an oracle",
            text,
            hint=f"choose one of: {', '.join(names)}{did_you_mean(name, names)}",
        )
    return name


def choice(flag: str, choices: tuple[str, ...], what: str) -> Callable[[str], str]:
    """The check of an option that takes one of ``choices`` (in any case)."""

    def convert(text: str) -> str:
        name = text.strip().lower()
        if name not in choices:
            raise BadValue(f"{text!r} is not {what}", text,
                           hint=f"choose one of: {', '.join(choices)}{did_you_mean(name, choices)}")
        return name

    convert.__name__ = flag.lstrip("-")
    return convert


def duration(text: str) -> float:
    """The check of ``--time``: seconds from ``90``, ``90s``, ``10m``, ``1h30m``."""
    try:
        seconds = parse_time(text)
    except DurationError as exc:
        raise BadValue(exc.problem, text, hint=exc.hint) from None
    assert seconds is not None
    return seconds
