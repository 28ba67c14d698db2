"""The "Points tried so far" view: a scatter of every trial over two hyperparameters.

:class:`PointsView` draws :func:`automl_nb.teaching.sampled_points` (two Dropdowns choose
the axes); the teaching tabs hold one for every search ("What random search tried" for a
random search).
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from ..record import SearchRecord
from ..teaching import axis_names, sampled_points
from ._cadence import FIGURE_MESSAGES
from ._html import escape
from .figures import TEACHING_LAYOUT, chart_layout

TITLE = "Points tried so far"
RANDOM_TITLE = "What random search tried"


class PointsView(widgets.VBox):
    """Two Dropdowns (x, y) and a scatter of every trial's values, coloured by score."""

    def __init__(self, title: str = TITLE):
        self.title = title
        self.x_dropdown = widgets.Dropdown(description="x", layout=widgets.Layout(width="240px"))
        self.y_dropdown = widgets.Dropdown(description="y", layout=widgets.Layout(width="240px"))
        self.text = widgets.HTML("")
        self.widget = go.FigureWidget(
            data=[
                go.Scatter(
                    x=[],
                    y=[],
                    mode="markers",
                    name="trials",
                    marker={
                        "size": 10,
                        "color": [],
                        "colorscale": "Viridis",
                        "showscale": True,
                        "colorbar": {"title": {"text": "score"}, "thickness": 12},
                        "line": {"width": 0},
                    },
                    hovertemplate="%{text}<extra></extra>",
                    text=[],
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="markers",
                    name="running or failed",
                    marker={
                        "size": 9,
                        "color": "rgba(0,0,0,0)",
                        "line": {"width": 1.5, "color": "#888"},
                    },
                    hovertemplate="%{text}<extra></extra>",
                    text=[],
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="markers",
                    name="best",
                    marker={
                        "size": 18,
                        "color": "rgba(0,0,0,0)",
                        "line": {"width": 2.5, "color": "#d62728"},
                    },
                    hoverinfo="skip",
                ),
            ],
            layout=chart_layout(title, "", "", **TEACHING_LAYOUT),
        )
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

        ax, ay = data["x"] or {}, data["y"] or {}

        def axis(a: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"title": {"text": a.get("name") or ""}}
            if a.get("categorical"):
                out.update(
                    type="category", categoryorder="array", categoryarray=a.get("categories") or []
                )
            else:
                out["type"] = "log" if a.get("log") else "linear"
            return out

        with self.widget.batch_update():
            t0, t1, t2 = self.widget.data
            t0.x, t0.y = [p["x"] for p in scored], [p["y"] for p in scored]
            t0.marker.color = [p["score"] for p in scored]
            t0.text = [label(p) for p in scored]
            t1.x, t1.y = [p["x"] for p in other], [p["y"] for p in other]
            t1.text = [label(p) for p in other]
            t2.x, t2.y = [p["x"] for p in best], [p["y"] for p in best]
            self.widget.layout.xaxis = axis(ax)
            self.widget.layout.yaxis = axis(ay)
        self.text.value = f"<div style='margin:2px 4px'>{escape(data['text'])}</div>"
        return FIGURE_MESSAGES + 1

    def close(self) -> None:
        self.widget.close()
        super().close()
