"""Small helpers every layer shares: one of each, so a sentence reads the same everywhere.

- :func:`did_you_mean`: the closest known name, as the end of an error sentence;
- :func:`parse_time` and :func:`format_duration`: durations in and out (``"90s"``,
  ``"10m"``, ``"1h30m"``; ``75.0`` -> ``"1m 15s"``);
- :func:`to_float`: a metric or a setting as a float, or None;
- :func:`short_list`, :func:`plural`, :func:`slug`: words for lists, counts and file names.

Nothing here imports anything beyond the standard library.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "did_you_mean",
    "format_duration",
    "parse_time",
    "plural",
    "short_list",
    "slug",
    "to_float",
]


def did_you_mean(word: str, choices: Iterable[str], *, quote: str = "'") -> str:
    """``"; did you mean 'X_train'?"`` for the closest of ``choices``, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {quote}{close[0]}{quote}?" if close else ""


# -- durations ----------------------------------------------------------------------------

TIME_HINT = "write seconds (90) or a number with s, m or h (90s, 10m, 1h)"
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_TIME_PART = re.compile(rf"\s*({_NUMBER})\s*([smh])", re.IGNORECASE)
_TIME_WHOLE = re.compile(rf"(?:\s*{_NUMBER}\s*[smh])+\s*", re.IGNORECASE)


class DurationError(ValueError):
    """A value that is not a duration: ``problem`` reads after the argument's name
    ("'5x' is not a duration"), ``hint`` says what would work."""

    def __init__(self, problem: str, hint: str = TIME_HINT):
        self.problem = problem
        self.hint = hint
        super().__init__(f"{problem}; {hint}")


def parse_time(value: str | float | None) -> float | None:
    """Seconds from a duration: ``90``, ``"90"``, ``"90s"``, ``"10m"``, ``"1h30m"``, ``"2.5m"``.

    ``None`` stays ``None`` (no time budget).

    Raises:
        DurationError: for anything that is not a duration of more than zero seconds; its
            ``problem`` reads after the argument's name ("'5x' is not a duration") and its
            ``hint`` says what would work.
    """
    if value is None:
        return None
    shown = repr(value) if isinstance(value, str) else str(value)
    seconds: float
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration")
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
                float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in _TIME_PART.findall(text)
            )
        else:
            raise DurationError(f"{shown} is not a duration")
    else:
        raise DurationError(f"is a {type(value).__name__}, not a duration")
    if not math.isfinite(seconds):
        raise DurationError(f"{shown} is not a duration")
    if seconds <= 0:
        raise DurationError(f"{shown} must be more than zero seconds")
    return seconds


def format_duration(seconds: float | None, missing: str = "-") -> str:
    """``2.345`` -> ``"2.3s"``, ``42`` -> ``"42s"``, ``75`` -> ``"1m 15s"``, ``300`` -> ``"5m"``,
    ``3725`` -> ``"1h 02m"``; ``missing`` for None or a value that is not finite."""
    if seconds is None or not math.isfinite(seconds):
        return missing
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        minutes, secs = divmod(total, 60)
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(total // 60, 60)
    return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"


# -- numbers and words -----------------------------------------------------------------------


def to_float(value: Any, *, finite: bool = False) -> float | None:
    """``value`` as a float; None when it is missing or not a number (a bool is not one).

    With ``finite=True`` NaN and infinities are None too (what JSON and the views want).
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    if finite and not math.isfinite(out):
        return None
    return out


def short_list(items: Iterable[Any], limit: int = 10) -> str:
    """``"a, b, c"``; a long list keeps its first five and last three: ``"a, ..., z (40 in all)"``."""
    names = [str(i) for i in items]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:5]) + ", ..., " + ", ".join(names[-3:]) + f" ({len(names)} in all)"


def plural(n: int, word: str) -> str:
    """``plural(1, "trial")`` -> ``"1 trial"``, ``plural(3, "epoch")`` -> ``"3 epochs"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def slug(text: str, fallback: str = "data") -> str:
    """A name safe for a folder: letters, digits, ``_``, ``.`` and ``-`` only."""
    out = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-._")
    return out or fallback


def write_json_atomically(path: str, obj: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it over ``path``: a reader,
    or a process killed meanwhile, sees the old file or the new one, never half of one."""
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "w") as fh:
        json.dump(obj, fh)
    os.replace(tmp, path)


#: What TensorFlow's C++ logging shows when the user has not said: errors only (its start-up
#: INFO and WARNING lines about CPU instructions and oneDNN are noise in a notebook).
TF_LOG_LEVEL = "2"


def quiet_tensorflow_startup(level: str = TF_LOG_LEVEL) -> None:
    """Call before TensorFlow may be imported: its C++ log level is ``level``, unless the user
    set ``TF_CPP_MIN_LOG_LEVEL`` already (theirs is kept). The one place automl-nb sets it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", level)
