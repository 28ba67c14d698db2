"""automl-nb: a steerable KerasTuner search with a live panel in the notebook.

``import automl_nb`` is cheap: TensorFlow is imported on a search's own thread,
and the panel's widgets only when a panel is shown.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__ as __version__

__all__ = [
    "CommandResult",
    "Search",
    "SearchState",
    "TrialStatus",
    "attach",
    "compare",
    "load",
    "load_ipython_extension",
    "open",
    "replay",
    "search",
]

# The core is light (NumPy, no TensorFlow); compare() imports plotly only when called. No
# function here shares its name with a module of the package.
from ._entry import open_search as open
from ._entry import search
from ._search import Search
from .attached import attach
from .comparison import compare
from .control import CommandResult, SearchState, TrialStatus
from .replays import replay

_LAZY: dict[str, tuple[str, str]] = {"load": ("predictor", "load")}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'automl_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext automl_nb``: registers %automl and %%automl (TensorFlow is not imported)."""
    from .ui.magics import load_ipython_extension as _load

    _load(ipython)
