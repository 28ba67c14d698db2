"""Live Plotly ``FigureWidget`` renderers of the chart data in :mod:`automl_nb.panel._data`.

Each renderer builds its figure once, with every trace it will ever need (the
learning-curves chart keeps a fixed pool of trace slots that trials take in turn),
so an update never adds or deletes traces. ``update`` recomputes only what the
new events touch, compares it with what was last sent, and assigns just the
changed properties inside one ``batch_update()``: one restyle message a figure a
flush, carrying only the changed traces' changed properties.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..record import SearchRecord
from ._data import (
    IMPORTANCE_METHOD,
    best_trial_ids,
    curve_style,
    importance_details,
    objective_history,
    parallel_coordinates_data,
    trial_curve,
    visible_curve_ids,
)

PALETTE = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#ff7f0e",
    "#d62728",
)
STATUS_COLOURS = {
    "completed": "#2ca02c",
    "pruned": "#ff7f0e",
    "stopped": "#8c6d31",
    "failed": "#d62728",
    "running": "#1f77b4",
}
HEIGHT = 300
# Plotly's FigureWidget does not follow its container's width in JupyterLab or Notebook 7: it
# draws at the layout's width (700 px by default) and a narrower place cuts its right part off.
# Every chart is drawn WIDTH px wide, in grid cells at least that wide (see CHART_GRID).
WIDTH = 470
CHART_GRID = f"repeat(auto-fill, minmax({WIDTH + 10}px, 1fr))"


#: What the teaching tabs' charts add to :func:`chart_layout`: taller, a legend below.
TEACHING_LAYOUT: dict[str, Any] = {
    "height": 340,
    "margin": {"l": 60, "r": 15, "t": 40, "b": 45},
    "legend": {"orientation": "h", "y": -0.25},
}


def chart_layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    """Every chart's layout: a small title on the left, axis titles, ``extra`` over it all."""
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "height": HEIGHT,
        "width": WIDTH,
        "margin": {"l": 50, "r": 15, "t": 40, "b": 40},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "template": "plotly_white",
        "uirevision": "keep",  # zoom and pan survive updates
    }
    layout.update(extra)
    return layout


class _Renderer:
    """A FigureWidget and a memory of what each trace property was last set to."""

    widget: go.FigureWidget

    def __init__(self) -> None:
        self._sent: dict[tuple[int, str], Any] = {}
        self._layout_sent: dict[str, Any] = {}
        self.updates = 0  #: batch updates that sent something

    def _push(
        self, traces: dict[int, dict[str, Any]], layout: dict[str, Any] | None = None
    ) -> bool:
        """Assign the changed properties only, in one batch update; True if any changed."""
        todo: list[tuple[int, str, Any]] = []
        for index, props in traces.items():
            for prop, value in props.items():
                if self._sent.get((index, prop), _MISSING) != value:
                    todo.append((index, prop, value))
        relayout = {
            k: v for k, v in (layout or {}).items() if self._layout_sent.get(k, _MISSING) != v
        }
        if not todo and not relayout:
            return False
        with self.widget.batch_update():
            for index, prop, value in todo:
                self.widget.data[index][prop] = value
                self._sent[(index, prop)] = value
            if relayout:
                for key, value in relayout.items():
                    self.widget.layout[key] = value
                self._layout_sent.update(relayout)
        self.updates += 1
        return True

    def close(self) -> None:
        self.widget.close()


_MISSING = object()


class ObjectiveFigure(_Renderer):
    """(a) The objective per trial (x = trial order), markers by status, best-so-far line."""

    STATUSES = ("completed", "pruned", "stopped")

    def __init__(self) -> None:
        super().__init__()
        traces = [
            go.Scatter(
                x=(),
                y=(),
                mode="markers",
                name=status,
                marker={
                    "color": STATUS_COLOURS[status],
                    "size": 8,
                    "symbol": "circle" if status == "completed" else "diamond",
                },
                customdata=(),
                hovertemplate="trial %{customdata}<br>%{y:.4f}<extra>" + status + "</extra>",
            )
            for status in self.STATUSES
        ]
        traces.append(
            go.Scatter(
                x=(),
                y=(),
                mode="lines",
                name="best so far",
                line={"color": "#444", "shape": "hv"},
                hovertemplate="best so far %{y:.4f}<extra></extra>",
            )
        )
        self.widget = go.FigureWidget(
            data=traces,
            layout=chart_layout(
                "objective per trial",
                "trial (start order)",
                "score",
                legend={"orientation": "h", "y": -0.25},
            ),
        )

    def update(self, record: SearchRecord) -> bool:
        points = objective_history(record)
        traces: dict[int, dict[str, Any]] = {}
        for i, status in enumerate(self.STATUSES):
            mine = [p for p in points if p.status == status]
            traces[i] = {
                "x": tuple(p.order for p in mine),
                "y": tuple(p.score for p in mine),
                "customdata": tuple(p.trial_id for p in mine),
            }
        traces[len(self.STATUSES)] = {
            "x": tuple(p.order for p in points),
            "y": tuple(p.best_so_far for p in points),
        }
        objective = record.objective or "score"
        better = "higher" if record.direction == "max" else "lower"
        layout = {
            "title.text": f"{objective} per trial ({better} is better), with the best so far",
            "yaxis.title.text": objective,
        }
        return self._push(traces, layout)

    def data(self) -> dict[str, tuple[Any, ...]]:
        """What the figure holds now, per trace name (for tests and static export)."""
        return {t.name: (tuple(t.x or ()), tuple(t.y or ())) for t in self.widget.data}


class CurvesFigure(_Renderer):
    """(b) Learning curves: the validation objective per absolute epoch, one trace a trial.

    The figure has ``slots`` traces made up front; the trials of
    :func:`~automl_nb.panel._data.visible_curve_ids` take them, so a search with
    more trials shows the running ones, the best ones and the most recent.
    """

    def __init__(self, slots: int = 40, keep_best: int = 5) -> None:
        super().__init__()
        self.slots = slots
        self.keep_best = keep_best
        self.slot_of: dict[str, int] = {}
        self._free = list(range(slots))
        self._order: dict[str, int] = {}
        self._best: str | None = None
        traces = [
            go.Scatter(
                x=(),
                y=(),
                mode="lines+markers",
                name="",
                showlegend=False,
                marker={"size": 4},
                line={"width": 1.5},
                hovertemplate="trial %{meta}<br>epoch %{x}<br>%{y:.4f}<extra></extra>",
            )
            for _ in range(slots)
        ]
        self.widget = go.FigureWidget(
            data=traces, layout=chart_layout("learning curves", "epoch", "validation objective")
        )

    def update(self, record: SearchRecord, dirty: set[str], structure: bool) -> bool:
        """Redraw the ``dirty`` trials' curves; ``structure``: trials started or ended."""
        dirty = set(dirty)
        traces: dict[int, dict[str, Any]] = {}
        if structure or not self._order:
            self._order = {tid: i for i, tid in enumerate(record.trials)}
            want = visible_curve_ids(record, self.slots, self.keep_best)
            wanted = set(want)
            for tid in [t for t in self.slot_of if t not in wanted]:
                slot = self.slot_of.pop(tid)
                self._free.append(slot)
                traces[slot] = {"x": (), "y": (), "name": "", "meta": ""}
            self._free.sort()
            for tid in want:
                if tid not in self.slot_of and self._free:
                    self.slot_of[tid] = self._free.pop(0)
                    dirty.add(tid)
            best = best_trial_ids(record, 1)
            new_best = best[0] if best else None
            if new_best != self._best:
                dirty.update(t for t in (self._best, new_best) if t is not None)
                self._best = new_best
        for tid in dirty:
            slot = self.slot_of.get(tid)
            if slot is None or tid not in record.trials:
                continue
            curve = trial_curve(record, tid)
            style = curve_style(curve.status, is_best=tid == self._best)
            traces[slot] = {
                "x": curve.epochs,
                "y": curve.values,
                "name": f"{tid} ({curve.status})",
                "meta": tid,
                "line.width": style.width,
                "line.dash": style.dash,
                "line.color": PALETTE[self._order.get(tid, 0) % len(PALETTE)],
                "opacity": style.opacity,
            }
        layout = {"yaxis.title.text": record.objective or "validation objective"}
        return self._push(traces, layout)

    def data(self) -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...], float, str]]:
        """``{trial_id: (epochs, values, line width, dash)}`` of the traces drawn now."""
        out = {}
        for tid, slot in self.slot_of.items():
            t = self.widget.data[slot]
            out[tid] = (tuple(t.x or ()), tuple(t.y or ()), t.line.width, t.line.dash)
        return out


class ParallelFigure(_Renderer):
    """(c) Parallel coordinates of the hyperparameters, lines coloured by score."""

    def __init__(self) -> None:
        super().__init__()
        self.widget = go.FigureWidget(
            data=[go.Parcoords(dimensions=[], line={"color": [], "colorscale": "Viridis"})],
            layout=chart_layout(
                "hyperparameters of the finished trials, coloured by score",
                "",
                "",
                margin={"l": 60, "r": 40, "t": 60, "b": 30},
            ),
        )

    def update(self, record: SearchRecord) -> bool:
        data = parallel_coordinates_data(record)
        dims = []
        for d in data.dimensions:
            dim: dict[str, Any] = {"label": d.label, "values": d.values}
            if d.range is not None:
                dim["range"] = d.range
            if d.tickvals is not None:
                dim["tickvals"] = d.tickvals
                dim["ticktext"] = d.ticktext
            dims.append(dim)
        props = {
            "dimensions": tuple(dims),
            "line.color": data.scores,
            "line.reversescale": data.direction == "min",
            "line.showscale": bool(data.scores),
            "line.colorbar.title.text": data.objective,
        }
        return self._push({0: props})

    def data(self) -> tuple[tuple[str, tuple[float, ...]], ...]:
        """``((label, values), ...)`` per axis, as drawn now."""
        return tuple((d.label, tuple(d.values)) for d in self.widget.data[0].dimensions)


class ImportanceFigure(_Renderer):
    """(d) Hyperparameter importance as horizontal bars (see ``charts.IMPORTANCE_METHOD``)."""

    def __init__(self) -> None:
        super().__init__()
        self.widget = go.FigureWidget(
            data=[
                go.Bar(
                    x=(),
                    y=(),
                    orientation="h",
                    hovertext=(),
                    hoverinfo="text",
                    marker={"color": "#1f77b4"},
                )
            ],
            layout=chart_layout(
                "hyperparameter importance: Spearman ρ² (numbers), η² (choices), normalised",
                "share of the score's rank variance explained",
                "",
                margin={"l": 110, "r": 15, "t": 40, "b": 40},
            ),
        )
        self.method = IMPORTANCE_METHOD

    def update(self, record: SearchRecord) -> bool:
        rows = list(reversed(importance_details(record)))  # most important at the top
        hover = tuple(
            f"{r.name}: {r.share:.0%} of the total<br>"
            f"{'Spearman ρ²' if r.method == 'spearman' else 'η²'} = {r.raw:.3f} over {r.n} trials"
            for r in rows
        )
        return self._push(
            {
                0: {
                    "x": tuple(r.share for r in rows),
                    "y": tuple(r.name for r in rows),
                    "hovertext": hover,
                }
            }
        )

    def data(self) -> dict[str, float]:
        bar = self.widget.data[0]
        return dict(zip(bar.y or (), bar.x or (), strict=True))
