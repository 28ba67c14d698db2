"""The renderers of the panel's four charts, which draw the data of :mod:`automl_nb.panel._data`.

Each renderer owns a :class:`~automl_nb.panel.chart.Chart` built once with every trace it
will ever need (the learning-curves chart keeps a fixed pool of trace slots that trials
take in turn), so an update never adds or deletes traces. ``draw(data)`` takes what its
chart's data function returned (the pairs are registered in
:mod:`automl_nb.panel.registry`) and hands the chart the properties; the chart sends only
those that changed, in one message. A chart with nothing to show says so in a sentence.

The best trial is marked the same way everywhere (:data:`BEST`: a gold star, a gold
line), the running trial stands out, finished ones are muted, whole-number axes have
whole-number ticks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..status import SCORED, TrialStatus
from ._colours import BEST, MUTED, RUNNING, SCORE_COLOURS, STATUS_COLOURS
from ._data import (
    IMPORTANCE_METHOD,
    Curve,
    CurvesChart,
    Importance,
    ObjectiveChart,
    ParallelChart,
    curve_style,
)
from ._data.axes import axis_label, integer_dtick, tick_text
from .chart import Chart

SYMBOLS = {TrialStatus.COMPLETED: "circle", TrialStatus.PRUNED: "diamond",
           TrialStatus.STOPPED: "square"}
HEIGHT = 250
#: Two charts side by side where there is room, one under the other where there is not.
CHART_GRID = "repeat(auto-fit, minmax(360px, 1fr))"
#: SCORE_COLOURS up to TOP, then the best itself in :data:`BEST`'s gold (nothing else is).
SCORE_SCALE = (
    (0.0, SCORE_COLOURS[0][1]),
    (0.5, SCORE_COLOURS[1][1]),
    (0.97, SCORE_COLOURS[2][1]),
    (0.975, SCORE_COLOURS[2][1]),
    (0.99, BEST["color"]),
    (1.0, BEST["color"]),
)
TOP = 0.97  #: where the best score but one can reach on SCORE_SCALE


def chart_layout(x: str = "", y: str = "", **extra: Any) -> dict[str, Any]:
    """Every chart's layout: axis titles and margins; ``extra`` over it (dotted keys not
    allowed here). Colours, width and height come from the page (``widgets/chart.js``)."""
    layout: dict[str, Any] = {
        "margin": {"l": 56, "r": 12, "t": 28, "b": 40},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "uirevision": "keep",  # zoom and pan survive updates
    }
    layout.update(extra)
    return layout


def whole_numbers(hi: float) -> dict[str, Any]:
    """A whole-number axis over 1..hi: ticks 1, 2, 5, 10, ... apart, never 1.5."""
    return {"tickformat": "d", "tick0": 0, "dtick": integer_dtick(hi)}


class _Renderer:
    """One chart of the panel: its :class:`Chart` (``widget``), and ``draw`` from its data."""

    chart: Chart

    @property
    def widget(self) -> Chart:
        """The widget to put in a layout (the Chart itself)."""
        return self.chart

    @property
    def updates(self) -> int:
        return self.chart.updates

    def close(self) -> None:
        self.chart.close()


class ObjectiveFigure(_Renderer):
    """(a) The objective per trial (x = trial order), markers by status, best-so-far line,
    the best trial a gold star."""

    STATUSES = SCORED
    EMPTY = "Scores appear here as trials finish: one point a trial, and the best so far."

    def __init__(self, height: int = HEIGHT) -> None:
        traces: list[dict[str, Any]] = [
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "markers",
                "name": str(status),
                "marker": {"color": STATUS_COLOURS[status], "size": 8, "symbol": SYMBOLS[status]},
                "customdata": [],
                "hovertemplate": "trial %{customdata}<br>%{y:.4f}<extra>" + status + "</extra>",
            }
            for status in self.STATUSES
        ]
        traces.append(
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "lines",
                "name": "best so far",
                "line": {"color": MUTED, "shape": "hv", "width": 1.5},
                "hovertemplate": "best so far %{y:.4f}<extra></extra>",
            }
        )
        traces.append(best_marker_trace())
        self.chart = Chart(
            "objective",
            traces,
            chart_layout("trial", "score"),
            title="score per trial",
            empty=self.EMPTY,
            height=height,
        )

    def draw(self, data: ObjectiveChart) -> int:
        """Draw the scores (:func:`~automl_nb.panel._data.objective_chart`); returns the comm
        messages sent."""
        points = data.points
        traces: dict[int, dict[str, Any]] = {}
        for i, status in enumerate(self.STATUSES):
            mine = [p for p in points if p.status == status]
            traces[i] = {
                "x": [p.order for p in mine],
                "y": [p.score for p in mine],
                "customdata": [p.trial_id for p in mine],
            }
        traces[len(self.STATUSES)] = {
            "x": [p.order for p in points],
            "y": [p.best_so_far for p in points],
        }
        star = [p for p in points if data.best_id is not None and p.trial_id == data.best_id]
        traces[len(self.STATUSES) + 1] = {
            "x": [p.order for p in star],
            "y": [p.score for p in star],
            "customdata": [p.trial_id for p in star],
        }
        objective = data.objective
        better = "higher" if data.direction == "max" else "lower"
        layout = {"yaxis.title.text": objective, **_prefixed("xaxis", whole_numbers(data.trials))}
        chart = self.chart
        sent = chart.push(traces, layout)
        sent += _assign_title(chart, f"{objective} per trial ({better} is better)")
        sent += chart.say("" if points else self.EMPTY)
        return sent

    def data(self) -> dict[str, tuple[Any, ...]]:
        """What the chart holds now, per trace name (for tests and static export)."""
        return {t["name"]: (tuple(t.get("x") or ()), tuple(t.get("y") or ())) for t in self.chart.data}


class CurvesFigure(_Renderer):
    """(b) Learning curves: the validation objective per absolute epoch, one trace a trial.

    The chart has ``slots`` traces made up front; the trials of
    :func:`~automl_nb.panel._data.curves_chart` (its ``limit`` is ``slots``) take them, so a
    search with more trials shows the running ones, the best ones and the most recent. The running
    trials and the best one are named in the legend (the best in gold, a star at its best
    epoch); finished trials are thin and grey; every curve names its trial on hover.
    """

    EMPTY = "Learning curves appear as the first trial trains: one line a trial, one point an epoch."

    def __init__(self, slots: int = 40, keep_best: int = 5, height: int = HEIGHT) -> None:
        self.slots = slots
        self.keep_best = keep_best
        self.slot_of: dict[str, int] = {}
        self._free = list(range(slots))
        self._best: str | None = None
        self._running: list[str] = []
        traces = [
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "lines+markers",
                "name": "",
                "meta": "",
                "showlegend": False,
                "marker": {"size": 3},
                "line": {"width": 1.5, "color": MUTED},
                "hovertemplate": "trial %{meta}<br>epoch %{x}<br>%{y:.4f}<extra></extra>",
            }
            for _ in range(slots)
        ]
        traces.append(best_marker_trace("best epoch of the best trial"))
        self.chart = Chart(
            "curves",
            traces,
            chart_layout("epoch", "validation objective"),
            title="learning curves",
            empty=self.EMPTY,
            height=height,
        )

    def draw(self, data: CurvesChart) -> int:
        """Draw the curves (:func:`~automl_nb.panel._data.curves_chart`): a trial that left
        gives its slot back, a new one takes a free slot; only what changed is sent. Returns
        the comm messages sent."""
        traces: dict[int, dict[str, Any]] = {}
        wanted = {c.trial_id for c in data.curves}
        for tid in [t for t in self.slot_of if t not in wanted]:
            slot = self.slot_of.pop(tid)
            self._free.append(slot)
            traces[slot] = {"x": [], "y": [], "name": "", "meta": "", "showlegend": False}
        self._free.sort()
        for curve in data.curves:
            if curve.trial_id not in self.slot_of and self._free:
                self.slot_of[curve.trial_id] = self._free.pop(0)
        self._best, self._running = data.best_id, list(data.running)
        for curve in data.curves:
            slot = self.slot_of.get(curve.trial_id)
            if slot is not None:
                traces[slot] = self._trace(curve)
        traces[self.slots] = self._best_point(data)
        objective = data.objective
        layout = {"yaxis.title.text": objective, **_prefixed("xaxis", whole_numbers(data.longest))}
        chart = self.chart
        sent = chart.push(traces, layout)
        sent += _assign_title(chart, f"learning curves: {objective} per epoch")
        drawn = any(chart.data[s].get("x") for s in self.slot_of.values())
        sent += chart.say("" if drawn else self.EMPTY)
        return sent

    def _trace(self, curve: Curve) -> dict[str, Any]:
        tid = curve.trial_id
        style = curve_style(curve.status, is_best=tid == self._best)
        if style.role == TrialStatus.RUNNING:
            order = self._running.index(tid) if tid in self._running else 0
            colour, name = RUNNING[order % len(RUNNING)], f"trial {tid} · running"
        elif style.role == "best":
            colour, name = BEST["color"], f"★ trial {tid} · best"
        else:
            colour, name = MUTED, f"trial {tid} · {curve.status}"
        return {
            "x": list(curve.epochs),
            "y": list(curve.values),
            "name": name,
            "meta": tid,
            "showlegend": style.role != "finished",
            "legendrank": 1 if style.role == "best" else 2,
            "line.width": style.width,
            "line.dash": style.dash,
            "line.color": colour,
            "marker.color": colour,
            "opacity": style.opacity,
        }

    def _best_point(self, data: CurvesChart) -> dict[str, Any]:
        """The best trial's best epoch, a gold star on its curve."""
        tid = self._best
        curve = next((c for c in data.curves if c.trial_id == tid), None)
        if curve is None or not curve.values:
            return {"x": [], "y": [], "customdata": []}
        pick = max if data.direction == "max" else min
        value = pick(curve.values)
        epoch = curve.epochs[curve.values.index(value)]
        return {"x": [epoch], "y": [value], "customdata": [tid]}

    def data(self) -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...], float, str]]:
        """``{trial_id: (epochs, values, line width, dash)}`` of the traces drawn now."""
        out = {}
        for tid, slot in self.slot_of.items():
            t = self.chart.data[slot]
            line = t.get("line") or {}
            out[tid] = (tuple(t.get("x") or ()), tuple(t.get("y") or ()), line.get("width"), line.get("dash"))
        return out


class ParallelFigure(_Renderer):
    """(c) Parallel coordinates of the hyperparameters, one line a scored trial, coloured by
    score with the best in gold; axis labels broken into short lines, the objective last."""

    EMPTY = (
        "Appears once two trials have finished: one line a trial through its "
        "hyperparameters, coloured by score."
    )

    def __init__(self, height: int = 300) -> None:
        trace = {
            "type": "parcoords",
            "dimensions": [],
            "labelangle": 0,
            "labelside": "top",
            "line": {"color": [], "colorscale": [list(s) for s in SCORE_SCALE], "cmin": 0, "cmax": 1},
        }
        self.chart = Chart(
            "parallel",
            [trace],
            chart_layout(margin={"l": 48, "r": 64, "t": 52, "b": 24}),
            title="hyperparameters of the finished trials, coloured by score",
            empty=self.EMPTY,
            height=height,
        )

    def draw(self, chart_data: ParallelChart) -> int:
        """Draw the scored trials' lines (:func:`~automl_nb.panel._data.parallel_chart`);
        returns the comm messages sent."""
        data = chart_data.coordinates
        dims = []
        for d in data.dimensions:
            dim: dict[str, Any] = {"label": axis_label(d.label.removesuffix(" (log)")), "values": list(d.values)}
            if d.range is not None:
                dim["range"] = list(d.range)
            if d.tickvals is not None:
                dim["tickvals"] = list(d.tickvals)
                dim["ticktext"] = list(d.ticktext or ())
            dims.append(dim)
        colours, ticks = _goodness(data.scores, data.direction, data.trial_ids, chart_data.best_id)
        props = {
            "dimensions": dims,
            "line.color": colours,
            "line.showscale": bool(colours),
            "line.colorbar": {
                "title": {"text": data.objective, "side": "right"},
                "tickvals": [t for t, _ in ticks],
                "ticktext": [s for _, s in ticks],
                "thickness": 10,
            },
        }
        chart = self.chart
        sent = chart.push({0: props})
        sent += chart.say("" if len(data.scores) >= 2 else self.EMPTY)
        return sent

    def data(self) -> tuple[tuple[str, tuple[float, ...]], ...]:
        """``((label, values), ...)`` per axis, as drawn now (labels without line breaks)."""
        return tuple(
            (d["label"].replace("<br>", "_"), tuple(d["values"]))
            for d in self.chart.data[0].get("dimensions", [])
        )


def _goodness(
    scores: tuple[float, ...], direction: str, trial_ids: tuple[str, ...], best_id: str | None
) -> tuple[list[float], list[tuple[float, str]]]:
    """Each score on SCORE_SCALE: worst 0 .. TOP, the best trial 1 (gold); the colour bar's ticks."""
    if not scores:
        return [], []
    worst, top = (min(scores), max(scores)) if direction == "max" else (max(scores), min(scores))
    span = (top - worst) or 1.0
    colours = [
        1.0 if best_id is not None and tid == best_id else TOP * max(0.0, min(1.0, (s - worst) / span))
        for s, tid in zip(scores, trial_ids, strict=True)
    ]
    ticks = [(0.0, tick_text(round(worst, 4))), (1.0, f"★ {tick_text(round(top, 4))}")]
    if top != worst:
        ticks.insert(1, (TOP / 2, tick_text(round((worst + top) / 2, 4))))
    return colours, ticks


class ImportanceFigure(_Renderer):
    """(d) Hyperparameter importance as horizontal bars (see ``_data.IMPORTANCE_METHOD``)."""

    EMPTY = (
        "Appears once three trials have finished with different values: how much each "
        "hyperparameter goes with the score."
    )

    def __init__(self, height: int = 300) -> None:
        bar = {
            "type": "bar",
            "x": [],
            "y": [],
            "orientation": "h",
            "hovertext": [],
            "hoverinfo": "text",
            "marker": {"color": RUNNING[0]},
        }
        self.chart = Chart(
            "importance",
            [bar],
            chart_layout(
                "share of the score's rank variance explained",
                margin={"l": 110, "r": 12, "t": 12, "b": 44},
            ),
            title="hyperparameter importance: Spearman ρ² (numbers), η² (choices), normalised",
            empty=self.EMPTY,
            height=height,
        )
        self.method = IMPORTANCE_METHOD

    def draw(self, data: Sequence[Importance]) -> int:
        """Draw each hyperparameter's share (:func:`~automl_nb.panel._data.importance_details`,
        most important first); returns the comm messages sent."""
        rows = list(reversed(data))  # most important at the top
        hover = [
            f"{r.name}: {r.share:.0%} of the total<br>"
            f"{'Spearman ρ²' if r.method == 'spearman' else 'η²'} = {r.raw:.3f} over {r.n} trials"
            for r in rows
        ]
        chart = self.chart
        sent = chart.push({0: {"x": [r.share for r in rows], "y": [r.name for r in rows], "hovertext": hover}})
        sent += chart.say("" if rows else self.EMPTY)
        return sent

    def data(self) -> dict[str, float]:
        bar = self.chart.data[0]
        return dict(zip(bar.get("y") or (), bar.get("x") or (), strict=True))


def best_marker_trace(name: str = "best trial") -> dict[str, Any]:
    """A trace for the best trial's point: the gold star every chart uses."""
    return {
        "type": "scatter",
        "x": [],
        "y": [],
        "mode": "markers",
        "name": name,
        "meta": "",
        "showlegend": False,
        "marker": {
            "color": BEST["color"],
            "symbol": BEST["symbol"],
            "size": 15,
            "line": {"color": BEST["outline"], "width": 1},
        },
        "customdata": [],
        "hovertemplate": "★ best: trial %{customdata}<br>%{y:.4f}<extra></extra>",
    }


def _prefixed(prefix: str, props: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{k}": v for k, v in props.items()}


def _assign_title(chart: Chart, title: str) -> int:
    if chart.title == title:
        return 0
    chart.title = title
    return 1
