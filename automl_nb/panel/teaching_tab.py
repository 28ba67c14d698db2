"""The panel's teaching tabs: how the oracle decides, drawn live from the search.

- "How Hyperband decides": :class:`HyperbandDiagram`, an anywidget
  (``widgets/hyperband.js``) fed by :func:`automl_nb.teaching.hyperband_diagram`.
- "Where the Bayesian oracle looks next": :class:`BayesianView`, a Dropdown and a
  Plotly chart of :func:`automl_nb.teaching.bayesian_surrogate`, computed from the
  live oracle on a worker thread (a replay shows the snapshots it recorded).
- "Points tried so far" ("What random search tried" for a random search):
  :class:`PointsView`, two Dropdowns and a Plotly scatter of
  :func:`automl_nb.teaching.sampled_points`.

:class:`TeachingViews` (a Tab) holds the tabs that fit the search's oracle; the
panel calls :meth:`TeachingViews.update` from its flusher with its own record and
counts the messages it returns against its budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as widgets
import plotly.graph_objects as go
import traitlets

from ..record import SearchRecord
from ..teaching import (
    axis_names,
    bayesian_state,
    hyperband_diagram,
    is_bayesian,
    oracle_kind,
    sampled_points,
)
from .figures import WIDTH
from .table import asset

log = logging.getLogger("automl_nb")

#: A FigureWidget update costs about this many comm messages (see panel.FIGURE_MESSAGES).
FIGURE_MESSAGES = 4
HEIGHT = 340
TITLES = {
    "hyperband": "How Hyperband decides",
    "bayesian": "Where the Bayesian oracle looks next",
    "points": "Points tried so far",
    "random": "What random search tried",
}


def _escape(text: str) -> str:
    from html import escape

    return escape(str(text), quote=False)


def _layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "height": HEIGHT,
        "width": WIDTH,
        "margin": {"l": 60, "r": 15, "t": 40, "b": 45},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "template": "plotly_white",
        "uirevision": "keep",
        "legend": {"orientation": "h", "y": -0.25},
    }
    layout.update(extra)
    return layout


# -- Hyperband -------------------------------------------------------------------------------


class HyperbandDiagram(anywidget.AnyWidget):
    """Brackets and rounds, a mark a trial; ``diagram`` is ``hyperband_diagram``'s dict."""

    _esm = asset("hyperband.js")
    _css = asset("hyperband.css")

    diagram = traitlets.Dict().tag(sync=True)

    def __init__(self, on_details: Callable[[str], Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.on_details = on_details
        self.on_msg(self._from_browser)

    def _from_browser(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("action") == "details":
            self.click(str(content.get("trial_id", "")))

    def click(self, trial_id: str) -> Any:
        """What clicking a trial's mark does: open its details in the panel."""
        if self.on_details is None:
            return None
        return self.on_details(trial_id)

    def update(self, record: SearchRecord) -> int:
        """Recompute from the record; 1 if the browser got a new diagram, else 0."""
        if record.config is None:
            return 0
        data = hyperband_diagram(record)
        if data == self.diagram:
            return 0
        self.diagram = data
        return 1


# -- points tried ------------------------------------------------------------------------------


class PointsView(widgets.VBox):
    """Two Dropdowns (x, y) and a scatter of every trial's values, coloured by score."""

    def __init__(self, title: str = TITLES["points"]):
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
            layout=_layout(title, "", ""),
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
        self.text.value = f"<div style='margin:2px 4px'>{_escape(data['text'])}</div>"
        return FIGURE_MESSAGES + 1

    def close(self) -> None:
        self.widget.close()
        super().close()


# -- Bayesian ------------------------------------------------------------------------------------


class BayesianView(widgets.VBox):
    """A Dropdown (the hyperparameter) and the oracle's Gaussian process along it.

    ``search`` is the live Search (its oracle is ``search.oracle`` once the
    search thread built it) or a Replay with recorded snapshots
    (``search.surrogate(name)``). Live computation runs on a worker thread, once a
    trial starts or ends or the search pauses; the Dropdown reslices what was fitted.
    While the search is paused (step mode) it previews the exact trial the oracle will
    propose next; otherwise it shows the decision that chose the running or last trial.
    ``refresh(wait=True)`` computes on the calling thread (tests).
    """

    def __init__(self, search: Any, lock: Any = None, n: int = 80):
        self.search = search
        self.n = n
        self._lock = lock or threading.RLock()
        self.dropdown = widgets.Dropdown(
            description="hyperparameter",
            style={"description_width": "110px"},
            layout=widgets.Layout(width="340px"),
        )
        self.text = widgets.HTML("")
        self.widget = go.FigureWidget(
            data=[
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                    name="upper",
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor="rgba(31,119,180,0.18)",
                    name="uncertainty (±2σ)",
                    hoverinfo="skip",
                ),
                go.Scatter(
                    x=[], y=[], mode="lines", line={"color": "#1f77b4", "width": 2}, name="GP mean"
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines",
                    line={"color": "#ff7f0e", "dash": "dash"},
                    name="acquisition (UCB)",
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="markers",
                    name="trials observed",
                    marker={"color": "#222", "size": 8},
                    text=[],
                    hovertemplate="trial %{text}: %{y:.4f}<extra></extra>",
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="markers",
                    name="next",
                    marker={"color": "#d62728", "size": 16, "symbol": "star"},
                    text=[],
                    hovertemplate="%{text}<extra></extra>",
                ),
            ],
            layout=_layout(TITLES["bayesian"], "", ""),
        )
        self.data: dict[str, Any] | None = None
        self.computes = 0  #: Gaussian-process fits done (tests, bench)
        self._state: Any = None
        self._wanted: Any = None
        self._record: SearchRecord | None = None
        self._wake = threading.Event()
        self._closed = False
        self._updating = False
        self._thread: threading.Thread | None = None
        self.dropdown.observe(self._on_choice, names="value")
        super().__init__(
            [self.dropdown, self.text, self.widget], layout=widgets.Layout(width="100%")
        )

    # -- where the data comes from --------------------------------------------------------
    def oracle(self) -> Any:
        oracle = getattr(self.search, "oracle", None)  # a replay has none
        return oracle if oracle is not None and is_bayesian(oracle) else None

    def _recorded(self) -> bool:
        return callable(getattr(self.search, "surrogate", None))

    def _key(self, record: SearchRecord) -> tuple[Any, ...]:
        running = record.running
        finished = len(record.finished_trials())
        return (finished, running.trial_id if running else None, record.state)

    # -- updates from the panel --------------------------------------------------------
    def update(self, record: SearchRecord) -> int:
        """Called by the panel's flusher; returns the messages it sent now."""
        self._record = record
        self._set_options(record)
        if self._recorded():
            return self._show_recorded()
        key = self._key(record)
        if key != self._wanted:
            self._wanted = key
            self._ensure_worker()
            self._wake.set()
        return 0

    def _set_options(self, record: SearchRecord) -> None:
        names: list[str] = []
        if self._state is not None:
            names = list(self._state.names)
        elif self._recorded():
            names = list(self.search.surrogate_names())
        if not names:
            specs = {s.get("name"): s for s in record.space}
            names = [n for n in axis_names(record) if (specs.get(n) or {}).get("kind") != "fixed"]
        if list(self.dropdown.options) != names:
            self._updating = True
            try:
                keep = self.dropdown.value
                self.dropdown.options = names
                self.dropdown.value = keep if keep in names else (names[0] if names else None)
            finally:
                self._updating = False

    def _on_choice(self, _change: Any) -> None:
        if self._updating or self._closed:
            return
        if self._recorded():
            with self._lock:
                self._show_recorded()
            return
        if self._state is not None:
            self._show_state(self._state)

    def _show_recorded(self) -> int:
        name = self.dropdown.value
        data = self.search.surrogate(name) if name else None
        if data is None:
            return self._say(
                "This replay shows the Gaussian process the oracle had when it chose each trial; "
                "it appears once the first trial of the recording starts."
                if self.search.surrogate_names()
                else "This recording has no snapshots of the oracle's Gaussian process; run the "
                "search yourself (oracle='bayesian') to see it."
            )
        return self._draw(data)

    def refresh(self, wait: bool = False) -> None:
        """Recompute from the live oracle now: on the worker, or here with ``wait=True``."""
        if wait:
            self._compute()
        else:
            self._wanted = object()
            self._ensure_worker()
            self._wake.set()

    # -- the worker ---------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._work, name="automl_nb-bayesian-view", daemon=True
            )
            self._thread.start()

    def _work(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            try:
                self._compute()
            except Exception:  # a view must never break the panel
                log.exception("the Bayesian view could not update")

    def _compute(self) -> None:
        oracle = self.oracle()
        if oracle is None:
            with self._lock:
                self._say(
                    "The Gaussian process lives in the running search's oracle: it shows here "
                    "once the search has started (TensorFlow takes a few seconds to load). A "
                    "search reopened from disk shows it after start()."
                )
            return
        # paused (step mode): preview the very trial the oracle proposes next, as it would;
        # otherwise show the decision behind the running (or last) trial, which costs far less
        record = self._record
        paused = record is not None and record.state == "paused"
        try:
            state = bayesian_state(oracle, preview=paused, timeout=2.0)
        except TimeoutError:  # the oracle holds its lock while it chooses; its trial comes next
            with self._lock:
                self._say("The oracle is choosing the next trial; this view follows once it has.")
            return
        self.computes += 1
        self._state = state
        self._show_state(state)

    def _show_state(self, state: Any) -> None:
        with self._lock:
            if self._record is not None:
                self._set_options(self._record)
            name = self.dropdown.value
            if name not in state.names:
                name = state.names[0] if state.names else None
            if name is None:
                self._say("This space has no hyperparameter to tune.")
                return
            data = state.slice(name, self.n)
            record = self._record
            nxt = data.get("next")
            if record is not None and nxt and nxt.get("trial_id"):
                trial = record.trials.get(nxt["trial_id"])
                if trial is not None and trial.source != "oracle":
                    data["text"] += (
                        f" (Trial {trial.trial_id} was {trial.source} by you, so the oracle did "
                        "not choose it.)"
                    )
            self._draw(data)

    # -- drawing ----------------------------------------------------------------------------
    def _say(self, text: str) -> int:
        html = f"<div style='margin:2px 4px'>{_escape(text)}</div>"
        if self.text.value == html:
            return 0
        self.text.value = html
        return 1

    def _draw(self, data: dict[str, Any]) -> int:
        if data == self.data:
            return 0
        self.data = data
        x = data["x"]
        nxt = data.get("next")
        observed = data.get("observed") or []
        mode = "lines+markers" if data.get("discrete") else "lines"
        objective = data.get("objective") or "score"
        with self.widget.batch_update():
            up, low, mean, acq, obs, nx = self.widget.data
            up.x, up.y = x, data["upper"]
            low.x, low.y = x, data["lower"]
            mean.x, mean.y, mean.mode = x, data["mean"], mode
            acq.x, acq.y, acq.mode = x, data["acquisition"], mode
            acq.name = (
                f"acquisition: mean + {data['beta']:g}σ"
                if data.get("direction") == "max"
                else f"acquisition: mean − {data['beta']:g}σ"
            )
            obs.x = [o["x"] for o in observed]
            obs.y = [o["score"] for o in observed]
            obs.text = [o["trial_id"] for o in observed]
            if nxt is not None:
                y = nxt.get("mean")
                if y is None:
                    y = _nearest(x, data["mean"], nxt["x"])
                if y is None and observed:
                    y = max(o["score"] for o in observed)
                which = f"trial {nxt['trial_id']}" if nxt.get("trial_id") else "next trial"
                nx.x, nx.y = ([nxt["x"]], [y]) if y is not None else ([], [])
                nx.text = [f"{which}: {data['hyperparameter']} = {nxt['x']}"]
                nx.name = which
            else:
                nx.x, nx.y = [], []
            xaxis: dict[str, Any] = {"title": {"text": data["hyperparameter"]}}
            if data.get("categorical"):
                xaxis.update(type="category")
            else:
                xaxis["type"] = "log" if data.get("log") else "linear"
            self.widget.layout.xaxis = xaxis
            self.widget.layout.yaxis = {"title": {"text": objective}}
        self._say(data.get("text") or "")
        return FIGURE_MESSAGES + 1

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.widget.close()
        super().close()


def _nearest(xs: list[Any], ys: list[Any], x: Any) -> Any:
    if not xs or not ys:
        return None
    if x in xs:
        return ys[xs.index(x)]
    try:
        i = min(range(len(xs)), key=lambda k: abs(float(xs[k]) - float(x)))
    except (TypeError, ValueError):
        return None
    return ys[i]


# -- the tabs ---------------------------------------------------------------------------------------


class TeachingViews(widgets.Tab):
    """The teaching tabs that fit the search's oracle, built once the search's config is known.

    Hyperband searches get "How Hyperband decides", Bayesian ones "Where the Bayesian
    oracle looks next", and every search the points it tried. ``views`` maps "hyperband",
    "bayesian", "points" to the views present.
    """

    def __init__(
        self,
        search: Any,
        *,
        lock: Any = None,
        on_details: Callable[[str], Any] | None = None,
    ):
        super().__init__(children=[], layout=widgets.Layout(width="100%"))
        self.search = search
        self._lock = lock or threading.RLock()
        self._on_details = on_details
        self.kind: str | None = None
        self.views: dict[str, Any] = {}

    def _build(self, record: SearchRecord) -> int:
        kind = oracle_kind(record.config.oracle if record.config is not None else None)
        if kind == self.kind:
            return 0
        for view in self.views.values():
            view.close()
        self.kind = kind
        self.views = {}
        titles = []
        if kind == "hyperband":
            self.views["hyperband"] = HyperbandDiagram(on_details=self._on_details)
            titles.append(TITLES["hyperband"])
        if kind == "bayesian":
            self.views["bayesian"] = BayesianView(self.search, lock=self._lock)
            titles.append(TITLES["bayesian"])
        self.views["points"] = PointsView(TITLES["random" if kind == "random" else "points"])
        titles.append(TITLES["random" if kind == "random" else "points"])
        self.children = list(self.views.values())
        for i, title in enumerate(titles):
            self.set_title(i, title)
        self.selected_index = 0
        return 1

    def update(self, record: SearchRecord) -> int:
        """Bring every tab up to date with the record; returns comm messages sent."""
        if record.config is None:
            return 0
        sent = self._build(record)
        for name, view in self.views.items():
            try:
                if name == "points":
                    sent += view.update(record, self._lock)
                else:
                    sent += view.update(record)
            except Exception:  # a teaching view must never break the panel
                log.exception("the %s view could not update", name)
        return sent

    @property
    def hyperband(self) -> HyperbandDiagram | None:
        return self.views.get("hyperband")

    @property
    def bayesian(self) -> BayesianView | None:
        return self.views.get("bayesian")

    @property
    def points(self) -> PointsView | None:
        return self.views.get("points")

    def close(self) -> None:
        for view in self.views.values():
            view.close()
        super().close()
