"""The panel's teaching tabs: how the oracle decides, drawn live from the search.

- "How Hyperband decides": :class:`HyperbandDiagram`, an anywidget
  (``widgets/hyperband.js``) fed by :func:`automl_nb.teaching.hyperband_diagram`.
- "Where the Bayesian oracle looks next": :class:`~automl_nb.panel.bayesian_view.BayesianView`, a Dropdown and a
  Plotly chart of :func:`automl_nb.teaching.bayesian_surrogate`, computed from the
  live oracle on a worker thread (a replay shows the snapshots it recorded).
- "Points tried so far" ("What random search tried" for a random search):
  :class:`~automl_nb.panel.points_view.PointsView`, two Dropdowns and a Plotly scatter of
  :func:`automl_nb.teaching.sampled_points`.

:class:`TeachingViews` (a Tab) holds the tabs that fit the search's oracle, by what its
kind can show (:func:`automl_nb.oracles.kind_of`: ``bracketed``, ``has_surrogate``,
``independent``); the panel calls :meth:`TeachingViews.update` from its flusher with its own record and
counts the messages it returns against its budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from ..oracles import OracleKind, kind_of
from ..record import SearchRecord
from ..teaching import hyperband_diagram
from ..view import SearchView
from . import bayesian_view, points_view
from ._assets import asset
from .bayesian_view import BayesianView
from .points_view import PointsView

log = logging.getLogger("automl_nb")

TITLES = {
    "hyperband": "How Hyperband decides",
    "bayesian": bayesian_view.TITLE,
    "points": points_view.TITLE,
    "random": points_view.RANDOM_TITLE,
}


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


# -- the tabs ---------------------------------------------------------------------------------------


class TeachingViews(widgets.Tab):
    """The teaching tabs that fit the search's oracle, built once the search's config is known.

    A bracketed oracle (Hyperband) gets "How Hyperband decides", one with a surrogate
    (Bayesian) "Where the Bayesian oracle looks next", and every search the points it tried
    ("What random search tried" when its trials are drawn independently). ``views`` maps
    "hyperband", "bayesian", "points" to the views present.
    """

    def __init__(
        self,
        search: SearchView,
        *,
        lock: Any = None,
        on_details: Callable[[str], Any] | None = None,
    ):
        super().__init__(children=[], layout=widgets.Layout(width="100%"))
        self.search = search
        self._lock = lock or threading.RLock()
        self._on_details = on_details
        self.kind: OracleKind | None = None
        self.views: dict[str, Any] = {}

    def _build(self, record: SearchRecord) -> int:
        kind = kind_of(record.config.oracle if record.config is not None else None)
        if kind == self.kind:
            return 0
        for view in self.views.values():
            view.close()
        self.kind = kind
        self.views = {}
        titles = []
        if kind.bracketed:
            self.views["hyperband"] = HyperbandDiagram(on_details=self._on_details)
            titles.append(TITLES["hyperband"])
        if kind.has_surrogate:
            self.views["bayesian"] = BayesianView(self.search, lock=self._lock)
            titles.append(TITLES["bayesian"])
        points = TITLES["random" if kind.independent else "points"]
        self.views["points"] = PointsView(points)
        titles.append(points)
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
