"""automl-nb: a steerable KerasTuner search with a live panel in the notebook.

``import automl_nb`` is cheap: TensorFlow is imported on a search's own thread,
and the panel's widgets only when a panel is shown.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "CommandResult",
    "Search",
    "SearchState",
    "TrialStatus",
    "compare",
    "load",
    "load_ipython_extension",
    "open",
    "replay",
    "search",
]

# The core is light (NumPy, no TensorFlow); importing it here also makes sure the
# names ``automl_nb.search``, ``automl_nb.replay`` and ``automl_nb.compare`` are the
# functions, not the submodules of the same names (compare imports plotly when called).
from .compare import compare
from .control import CommandResult, SearchState, TrialStatus
from .replay import replay
from .search import Search, search
from .search import open_search as open

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
    from .magics import load_ipython_extension as _load

    _load(ipython)
