"""The "Points tried so far" view: a scatter of every trial over two hyperparameters.

:class:`PointsView` draws :func:`automl_nb.teaching.sampled_points` (two Dropdowns choose
the axes); the teaching tabs hold one for every search ("What random search tried" for a
random search).
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets

from ..record import SearchRecord
from ..teaching import axis_names, sampled_points
from ._colours import MUTED, SCORE_COLOURS
from ._data.axes import integer_dtick, log_ticks
from ._html import escape
from ._widgets import assign
from .chart import Chart
from .figures import best_marker_trace, chart_layout

TITLE = "Points tried so far"
RANDOM_TITLE = "What random search tried"
EMPTY = "Points appear as trials start: one dot a trial, at the values it tried."


class PointsView(widgets.VBox):
    """Two Dropdowns (x, y) and a scatter of every trial's values, coloured by score."""

    def __init__(self, title: str = TITLE):
        self.title = title
        self.x_dropdown = widgets.Dropdown(description="x", layout=widgets.Layout(width="240px"))
        self.y_dropdown = widgets.Dropdown(description="y", layout=widgets.Layout(width="240px"))
        self.text = widgets.HTML("")
        scale = [list(c) for c in SCORE_COLOURS]
        traces = [
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "markers",
                "name": "trials",
                "marker": {
                    "size": 10,
                    "color": [],
                    "colorscale": scale,
                    "showscale": True,
                    "colorbar": {"title": {"text": "score"}, "thickness": 10},
                    "line": {"width": 0},
                },
                "hovertemplate": "%{text}<extra></extra>",
                "text": [],
            },
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "markers",
                "name": "running or failed",
                "marker": {"size": 9, "color": "rgba(0,0,0,0)", "line": {"width": 1.5, "color": MUTED}},
                "hovertemplate": "%{text}<extra></extra>",
                "text": [],
            },
            best_marker_trace(),
        ]
        self.chart = Chart(
            "points",
            traces,
            chart_layout(legend={"orientation": "h", "x": 0, "y": -0.25, "yanchor": "top"},
                         margin={"l": 60, "r": 12, "t": 12, "b": 60}),
            title=title,
            empty=EMPTY,
            height=320,
        )
        self.widget = self.chart
        self._record: SearchRecord | None = None
        self._names: list[str] = []
        self._sent: Any = None
        self._lock: Any = None
        self.x_dropdown.observe(self._on_choice, names="value")
        self.y_dropdown.observe(self._on_choice, names="value")
        super().__init__(
            [widgets.HBox([self.x_dropdown, self.y_dropdown]), self.text, self.widget],
            layout=widgets.Layout(width="100%"),
        )

    def _on_choice(self, _change: Any) -> None:
        if self._record is None or self._updating:
            return
        lock = self._lock or threading.RLock()
        with lock:
            self._push(self._record)

    _updating = False

    def update(self, record: SearchRecord, lock: Any = None) -> int:
        self._record, self._lock = record, lock
        names = axis_names(record)
        if names != self._names:
            self._updating = True
            try:
                keep_x, keep_y = self.x_dropdown.value, self.y_dropdown.value
                self.x_dropdown.options = names
                self.y_dropdown.options = names
                self.x_dropdown.value = keep_x if keep_x in names else (names[0] if names else None)
                fallback = next((n for n in names if n != self.x_dropdown.value), None)
                self.y_dropdown.value = keep_y if keep_y in names else fallback
            finally:
                self._updating = False
            self._names = names
        return self._push(record)

    def data(self, record: SearchRecord) -> dict[str, Any]:
        return sampled_points(record, self.x_dropdown.value, self.y_dropdown.value)

    def _push(self, record: SearchRecord) -> int:
        data = self.data(record)
        if data == self._sent:
            return 0
        self._sent = data
        scored = [p for p in data["points"] if p["score"] is not None]
        other = [p for p in data["points"] if p["score"] is None]
        best = [p for p in data["points"] if p["trial_id"] == data["best_id"]]

        def label(p: dict[str, Any]) -> str:
            score = "—" if p["score"] is None else f"{p['score']:.4f}"
            return f"trial {p['trial_id']} ({p['status']}): {score}"

        traces = {
            0: {
                "x": [p["x"] for p in scored],
                "y": [p["y"] for p in scored],
                "marker.color": [p["score"] for p in scored],
                "text": [label(p) for p in scored],
            },
            1: {"x": [p["x"] for p in other], "y": [p["y"] for p in other], "text": [label(p) for p in other]},
            2: {"x": [p["x"] for p in best], "y": [p["y"] for p in best], "customdata": [p["trial_id"] for p in best]},
        }
        layout = {"xaxis": _axis(data["x"], data["points"], "x"), "yaxis": _axis(data["y"], data["points"], "y")}
        sent = self.chart.push(traces, layout)
        sent += self.chart.say("" if data["points"] else EMPTY)
        sent += assign(self.text, "value", f"<div style='margin:2px 4px'>{escape(data['text'])}</div>")
        return sent

    def close(self) -> None:
        self.chart.close()
        super().close()


def _axis(axis: dict[str, Any] | None, points: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A scatter axis for a hyperparameter: categories, a log axis with few round ticks, or
    whole-number ticks for an int one."""
    axis = axis or {}
    out: dict[str, Any] = {"title": {"text": axis.get("name") or ""}}
    if axis.get("categorical"):
        out.update(type="category", categoryorder="array", categoryarray=axis.get("categories") or [])
        return out
    values = [p[key] for p in points if isinstance(p[key], int | float) and not isinstance(p[key], bool)]
    lo = min([v for v in (axis.get("min"), *values) if v is not None], default=None)
    hi = max([v for v in (axis.get("max"), *values) if v is not None], default=None)
    if axis.get("log") and lo is not None and hi is not None and lo > 0:
        ticks, text = log_ticks(lo, hi)
        out.update(type="log", tickvals=list(ticks), ticktext=list(text))
    else:
        out["type"] = "linear"
        if axis.get("kind") == "int" and lo is not None and hi is not None:
            out.update(tickformat="d", dtick=integer_dtick(hi, lo))
    return out
