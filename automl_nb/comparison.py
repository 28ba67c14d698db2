"""``automl_nb.compare([s1, s2, s3])``: several searches' best score so far, in one chart.

Two panels side by side: the best score against the search's running time, and
against the number of finished trials. Any mix of live searches, reopened ones and
replays works. The data is :func:`automl_nb.teaching.comparison_data` (each search read
through its record, under its lock, with :func:`~automl_nb.teaching.best_so_far`; no
plotly); :func:`compare` draws it and imports plotly when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .oracles import kind_of
from .teaching import comparison_data

__all__ = ["compare", "comparison_data"]

#: Lines after the first of each oracle's kind (the first takes its kind's ``colour``).
PALETTE = ("#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22")


def compare(searches: Sequence[Any], labels: Sequence[str] | None = None, *, height: int = 360):
    """A Plotly figure of each search's best score so far: against time, and against trials.

    Call it again for a fresher picture of live searches; it reads each one as it is now.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = comparison_data(searches, labels)
    objective = next((d["objective"] for d in data if d["objective"]), "score")
    direction = next((d["direction"] for d in data if d["objective"]), "max")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("against running time", "against trials finished"),
        shared_yaxes=True,
        horizontal_spacing=0.06,
    )
    used: dict[str, int] = {}
    for d in data:
        kind = kind_of(d["oracle"])
        colour = kind.colour if used.get(kind.name, 0) == 0 else None
        if colour is None:
            colour = PALETTE[sum(used.values()) % len(PALETTE)]
        used[kind.name] = used.get(kind.name, 0) + 1
        pts = d["points"]
        common = {
            "mode": "lines+markers",
            "line": {"shape": "hv", "color": colour, "width": 2},
            "marker": {"size": 5, "color": colour},
            "name": d["label"],
            "legendgroup": d["label"],
        }
        fig.add_trace(
            go.Scatter(
                x=[p.elapsed_s for p in pts],
                y=[p.best for p in pts],
                hovertemplate="%{x:.0f}s: best %{y:.4f}<extra>" + d["label"] + "</extra>",
                **common,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[p.trial_index for p in pts],
                y=[p.best for p in pts],
                showlegend=False,
                hovertemplate="trial %{x}: best %{y:.4f}<extra>" + d["label"] + "</extra>",
                **common,
            ),
            row=1,
            col=2,
        )
    better = "higher" if direction == "max" else "lower"
    fig.update_layout(
        title={"text": f"Best {objective} so far ({better} is better)", "x": 0.01},
        height=height,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(title_text="seconds of searching", row=1, col=1)
    fig.update_xaxes(title_text="trials finished", row=1, col=2)
    fig.update_yaxes(title_text=f"best {objective}", row=1, col=1)
    return fig
