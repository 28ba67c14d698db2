"""The "Where the Bayesian oracle looks next" view: the oracle's Gaussian process, live.

:class:`BayesianView` draws :func:`automl_nb.teaching.bayesian_surrogate` along the
hyperparameter its Dropdown names, computed from the live oracle on a worker thread (a
replay shows the snapshots it recorded).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ipywidgets as widgets

from ..oracles import kind_of
from ..record import SearchRecord
from ..status import SearchState
from ..teaching import axis_names, bayesian_state
from ..view import SearchView
from ._colours import MUTED, RUNNING
from ._data.axes import log_ticks
from ._html import escape
from .chart import Chart
from .figures import best_marker_trace, chart_layout

log = logging.getLogger("automl_nb")

TITLE = "Where the Bayesian oracle looks next"
EMPTY = "The oracle's guess appears here once two trials have finished."


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

    def __init__(self, search: SearchView, lock: Any = None, n: int = 80):
        self.search = search
        self.n = n
        self._lock = lock or threading.RLock()
        self.dropdown = widgets.Dropdown(
            description="hyperparameter",
            style={"description_width": "110px"},
            layout=widgets.Layout(width="340px"),
        )
        self.text = widgets.HTML("")
        line = {"type": "scatter", "x": [], "y": [], "mode": "lines"}
        traces = [
            {**line, "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip", "name": "upper"},
            {
                **line,
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": "rgba(31,119,180,0.18)",
                "name": "uncertainty (±2σ)",
                "hoverinfo": "skip",
            },
            {**line, "line": {"color": RUNNING[0], "width": 2}, "name": "GP mean"},
            {**line, "line": {"color": "#ff7f0e", "dash": "dash"}, "name": "acquisition (UCB)"},
            {
                **line,
                "mode": "markers",
                "name": "trials observed",
                "marker": {"color": MUTED, "size": 8, "line": {"width": 1, "color": MUTED}},
                "text": [],
                "hovertemplate": "trial %{text}: %{y:.4f}<extra></extra>",
            },
            {
                **line,
                "mode": "markers",
                "name": "next",
                "marker": {"color": "#d62728", "size": 13, "symbol": "diamond"},
                "text": [],
                "hovertemplate": "%{text}<extra></extra>",
            },
            best_marker_trace("best trial so far"),
        ]
        self.chart = Chart(
            "bayesian",
            traces,
            chart_layout(legend={"orientation": "h", "x": 0, "y": -0.25, "yanchor": "top"},
                         margin={"l": 60, "r": 12, "t": 12, "b": 60}),
            title=TITLE,
            empty=EMPTY,
            height=320,
        )
        self.widget = self.chart
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
        return oracle if oracle is not None and kind_of(oracle).has_surrogate else None

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
        paused = record is not None and record.state == SearchState.PAUSED
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
                    by = ("the warm start's portfolio" if trial.source == "portfolio"
                          else f"{trial.source} by you")
                    data["text"] += (
                        f" (Trial {trial.trial_id} was {by}, so the oracle did not choose it.)"
                    )
            self._draw(data)

    # -- drawing ----------------------------------------------------------------------------
    def _say(self, text: str) -> int:
        html = f"<div style='margin:2px 4px'>{escape(text)}</div>"
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
        traces: dict[int, dict[str, Any]] = {
            0: {"x": x, "y": data["upper"]},
            1: {"x": x, "y": data["lower"]},
            2: {"x": x, "y": data["mean"], "mode": mode},
            3: {
                "x": x,
                "y": data["acquisition"],
                "mode": mode,
                "name": f"acquisition: mean + {data['beta']:g}σ"
                if data.get("direction") == "max"
                else f"acquisition: mean − {data['beta']:g}σ",
            },
            4: {
                "x": [o["x"] for o in observed],
                "y": [o["score"] for o in observed],
                "text": [o["trial_id"] for o in observed],
            },
            5: {"x": [], "y": []},
        }
        if nxt is not None:
            y = nxt.get("mean")
            if y is None:
                y = _nearest(x, data["mean"], nxt["x"])
            if y is None and observed:
                y = max(o["score"] for o in observed)
            which = f"trial {nxt['trial_id']}" if nxt.get("trial_id") else "next trial"
            traces[5] = {
                "x": [nxt["x"]] if y is not None else [],
                "y": [y] if y is not None else [],
                "text": [f"{which}: {data['hyperparameter']} = {nxt['x']}"],
                "name": which,
            }
        pick = max if data.get("direction") == "max" else min
        best = pick(observed, key=lambda o: o["score"]) if observed else None
        traces[6] = {
            "x": [best["x"]] if best else [],
            "y": [best["score"]] if best else [],
            "customdata": [best["trial_id"]] if best else [],
        }
        xaxis: dict[str, Any] = {"title": {"text": data["hyperparameter"]}}
        if data.get("categorical"):
            xaxis.update(type="category")
        elif data.get("log") and x and min(x) > 0:
            ticks, text = log_ticks(min(x), max(x))
            xaxis.update(type="log", tickvals=list(ticks), ticktext=list(text))
        else:
            xaxis["type"] = "linear"
        layout = {"xaxis": xaxis, "yaxis": {"title": {"text": objective}}}
        sent = self.chart.push(traces, layout)
        sent += self.chart.say("" if data.get("ready") or observed else EMPTY)
        return sent + self._say(data.get("text") or "")

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.chart.close()
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
