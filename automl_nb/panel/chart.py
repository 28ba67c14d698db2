"""A Plotly chart as a small anywidget that follows the cell's width and the page's theme.

Plotly's ``FigureWidget`` draws at a fixed width, in a fixed template, and ships the
whole of plotly.js with every figure. :class:`Chart` is the panel's own renderer
(``widgets/chart.js``): plotly.js comes once per kernel in :class:`PlotlyLibrary` (the
copy inside the plotly Python package: offline), the width follows the cell
(a ResizeObserver), the colours follow JupyterLab's light, dark and high-contrast themes
(its ``--jp-*`` CSS variables) and switch when the user switches, and the title is HTML
above the plot, so it wraps instead of overlapping anything.

The figure's truth lives in the synced traits ``data`` and ``plot_layout``, so a chart
displayed late or twice shows the same. :meth:`Chart.push` changes only what changed:
it updates those traits in place (nothing sent) and sends the changed properties as one
custom message, which the front end applies to the model and draws with
``Plotly.react``; a chart with nothing to draw shows its ``empty`` sentence instead.
"""

from __future__ import annotations

import copy
import threading
from importlib import resources
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from ..events import jsonable
from ._assets import asset

__all__ = ["Chart", "PlotlyLibrary", "plotly_library"]

_MISSING = object()


class PlotlyLibrary(widgets.Widget):
    """plotly.js (``plotly/package_data/plotly.min.js``), sent to the page once a kernel.

    A model without a view: every :class:`Chart` names it by model id and loads the
    library from it. :func:`plotly_library` makes it once.
    """

    source = traitlets.Unicode("").tag(sync=True)

    def __init__(self) -> None:
        text = resources.files("plotly").joinpath("package_data", "plotly.min.js")
        super().__init__(source=text.read_text(encoding="utf-8"))


_library: PlotlyLibrary | None = None
_library_lock = threading.Lock()


def plotly_library() -> PlotlyLibrary:
    """The kernel's one :class:`PlotlyLibrary` (made again if it was closed)."""
    global _library
    with _library_lock:
        if _library is None or _library.comm is None:
            _library = PlotlyLibrary()
        return _library


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """``_set_path(trace, "line.width", 3)``: set a dotted property, making dicts on the way."""
    keys = path.split(".")
    node = target
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _get_path(source: dict[str, Any], path: str) -> Any:
    node: Any = source
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


class Chart(anywidget.AnyWidget):
    """One Plotly chart: ``data`` (a list of trace dicts), ``plot_layout``, ``title``, ``empty``.

    Args:
        name: what the chart is (the element's ``data-chart``, for pages and tests).
        data: every trace it will ever need (an update never adds or removes one).
        layout: the layout, without colours or width (the front end adds them).
        title: drawn in HTML above the plot.
        empty: the sentence shown instead of axes until there is something to draw.
        height: the plot's height in px.
    """

    _esm = asset("chart.js")
    _css = asset("chart.css")

    name = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    data = traitlets.List(traitlets.Dict()).tag(sync=True)
    plot_layout = traitlets.Dict().tag(sync=True)  # (``layout`` is the widget's own CSS box)
    empty = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(280).tag(sync=True)
    library = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        name: str,
        data: list[dict[str, Any]],
        layout: dict[str, Any],
        *,
        title: str = "",
        empty: str = "",
        height: int = 280,
        **kwargs: Any,
    ):
        super().__init__(
            name=name,
            data=jsonable(data),
            plot_layout=jsonable(layout),
            title=title,
            empty=empty,
            height=height,
            library=plotly_library().model_id,
            **kwargs,
        )
        self.updates = 0  #: custom messages sent by :meth:`push`

    def push(
        self, traces: dict[int, dict[str, Any]] | None = None, layout: dict[str, Any] | None = None
    ) -> int:
        """Send the trace and layout properties that differ from what the chart holds.

        ``traces`` maps a trace's index to ``{"dotted.property": value}``; ``layout`` is
        ``{"dotted.property": value}``. Returns the comm messages sent (0 or 1).
        """
        delta_traces: dict[str, dict[str, Any]] = {}
        for index, props in (traces or {}).items():
            trace = self.data[index]
            changed = {}
            for path, value in props.items():
                value = jsonable(value)
                if _get_path(trace, path) != value:
                    _set_path(trace, path, value)
                    changed[path] = value
            if changed:
                delta_traces[str(index)] = changed
        delta_layout = {}
        for path, value in (layout or {}).items():
            value = jsonable(value)
            if _get_path(self.plot_layout, path) != value:
                _set_path(self.plot_layout, path, value)
                delta_layout[path] = value
        if not delta_traces and not delta_layout:
            return 0
        # the traits were changed in place: nothing went out for them, this message carries it
        self.send({"kind": "delta", "traces": delta_traces, "layout": delta_layout})
        self.updates += 1
        return 1

    def say(self, sentence: str) -> int:
        """Show ``sentence`` instead of the plot ("" draws the plot); 1 if it changed."""
        if self.empty == sentence:
            return 0
        self.empty = sentence
        return 1

    def trace(self, index: int) -> dict[str, Any]:
        """What trace ``index`` holds now (a copy)."""
        return copy.deepcopy(self.data[index])
