"""The panel's charts: what each one is, and the registry the panel builds them from.

A chart is a :class:`ChartKind`: a data function (pure: the panel's record to plain data, as
in :mod:`automl_nb.panel._data`), a renderer (a figure of :mod:`automl_nb.panel.figures`'s
kind, whose ``draw`` takes that data), where it sits and when it refreshes (:class:`Refresh`:
the events that make it stale, the least seconds between two refreshes). The panel makes one
renderer a registered chart (``panel.<name>_chart``), lays them out by ``place``, marks them
stale from their events and draws them within their cadence: adding a chart is one module
(its data function and renderer) and one :func:`register` call, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..record import SearchRecord
from ._data import curves_chart, importance_details, objective_chart, parallel_chart
from .chart import Chart
from .figures import CurvesFigure, ImportanceFigure, ObjectiveFigure, ParallelFigure

__all__ = [
    "PLACES",
    "ChartKind",
    "ChartOptions",
    "Refresh",
    "Renderer",
    "chart_kinds",
    "register",
]

#: Where a chart sits: "charts" at first sight (above the trial table), "hyperparameters" in
#: that collapsible section; two charts a row where there is room, in registration order.
PLACES = ("charts", "hyperparameters")


class Renderer(Protocol):
    """What the panel needs of a chart's renderer."""

    @property
    def widget(self) -> Chart: ...

    def draw(self, data: Any) -> int:
        """Draw what the chart's data function returned; the comm messages sent."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ChartOptions:
    """The panel's settings a chart may read (``Panel(max_curves=..., keep_best=...)``)."""

    max_curves: int = 40
    keep_best: int = 5


@dataclass(frozen=True)
class Refresh:
    """When a chart refreshes."""

    events: frozenset[str]  #: the event kinds that make it stale
    every: float  #: least seconds between two refreshes while events keep coming
    live: bool = False  #: refreshed in the live round (with the status and the table), first


@dataclass(frozen=True)
class ChartKind:
    """One chart of the panel: its data function, its renderer, where it sits, when it
    refreshes. ``name`` is its part of the panel's cadence, its ``Chart``'s ``data-chart`` in
    the page and, as ``<name>_chart``, the panel's attribute for its renderer."""

    name: str
    place: str
    data: Callable[[SearchRecord, ChartOptions], Any]
    renderer: Callable[[ChartOptions], Renderer]
    refresh: Refresh

    @property
    def attribute(self) -> str:
        return f"{self.name}_chart"


# The registered charts by name, in registration order (the panel's layout order): filled by
# register() below (and by anyone adding a chart), read when a panel is built.
_CHARTS: dict[str, ChartKind] = {}


def register(kind: ChartKind) -> ChartKind:
    """Add a chart to every panel made from now on (its name must be new); returns it."""
    if kind.name in _CHARTS or not kind.name.isidentifier():
        raise ValueError(f"a chart needs a new name that is an identifier; got {kind.name!r}")
    if kind.place not in PLACES:
        raise ValueError(f"a chart's place is one of {', '.join(PLACES)}; got {kind.place!r}")
    _CHARTS[kind.name] = kind
    return kind


def chart_kinds() -> tuple[ChartKind, ...]:
    """The registered charts, in registration order."""
    return tuple(_CHARTS.values())


#: What changes the summary charts: a trial's score, or a search's (new) space and objective.
SCORES = frozenset({"trial_ended", "search_started", "space_defined"})

register(ChartKind(
    name="objective",
    place="charts",
    data=lambda record, options: objective_chart(record),
    renderer=lambda options: ObjectiveFigure(),
    refresh=Refresh(SCORES, every=1.0),
))
register(ChartKind(
    name="curves",
    place="charts",
    data=lambda record, options: curves_chart(record, options.max_curves, options.keep_best),
    renderer=lambda options: CurvesFigure(slots=options.max_curves, keep_best=options.keep_best),
    refresh=Refresh(SCORES | {"epoch_ended", "trial_started"}, every=0.5, live=True),
))
register(ChartKind(
    name="parallel",
    place="hyperparameters",
    data=lambda record, options: parallel_chart(record),
    renderer=lambda options: ParallelFigure(),
    refresh=Refresh(SCORES, every=1.0),
))
register(ChartKind(
    name="importance",
    place="hyperparameters",
    data=lambda record, options: tuple(importance_details(record)),
    renderer=lambda options: ImportanceFigure(),
    refresh=Refresh(SCORES, every=1.0),
))
