"""The live panel of a search: ipywidgets, anywidget and Plotly, over the event stream.

Nothing outside this package imports it; ``Search.panel()`` does, lazily.
Chart data lives in :mod:`automl_nb.panel._data` (pure functions, no plotly).
"""

from __future__ import annotations

from .panel import Panel

__all__ = ["Panel"]
