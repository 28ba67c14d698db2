"""How often each part of the panel may refresh, and the comm messages it may spend.

Under a flood of events each part refreshes at most at its own cadence and within a
budget of comm messages (:func:`parts`, :data:`MESSAGE_BUDGET`): at most 4 update rounds
and 24 messages in any second, however fast the search goes. The panel's own parts are in
:data:`OWN_PARTS`; each chart brings its cadence from the chart registry
(:mod:`automl_nb.panel.registry`). :class:`Cadence` keeps the books; the panel asks it
before each refresh.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterable
from typing import Any

#: A chart's update is at most 3 comm messages: the changed properties, its title, its
#: empty sentence (panel/chart.py); usually one.
CHART_MESSAGES = 3
#: The panel's own parts: least seconds between two refreshes while events keep coming,
#: and the most comm messages one refresh sends. A part with nothing new sends nothing.
OWN_PARTS = {
    "status": (0.25, 2),  # the status line, the progress bar
    "table": (0.5, 1),
    "cards": (1.0, 2),  # the best-model row, an open trial's details
    "teaching": (1.0, 12),  # the teaching tabs (panel/teaching_tab.py): two charts and a diagram
}


def parts(charts: Iterable[Any]) -> tuple[dict[str, tuple[float, int]], tuple[str, ...],
                                          tuple[str, ...]]:
    """Every part's (seconds, messages), then the live parts in the order they refresh (the
    status, the live charts, the table) and the summary parts (the other charts, the cards,
    the teaching tabs), for the registered ``charts`` (:class:`~.registry.ChartKind`)."""
    charts = list(charts)
    table = {
        "status": OWN_PARTS["status"],
        **{c.name: (c.refresh.every, CHART_MESSAGES) for c in charts},
        **{k: v for k, v in OWN_PARTS.items() if k != "status"},
    }
    live = ("status", *(c.name for c in charts if c.refresh.live), "table")
    summary = (*(c.name for c in charts if not c.refresh.live), "cards", "teaching")
    return table, live, summary
#: Header, buttons, form, command sentence: rare (a state or budget change), never deferred.
RARE = frozenset(("header", "controls", "form", "command"))
#: The flusher sends at most this many comm messages in any BUDGET_WINDOW seconds; a part
#: that would overdraw waits for a later round (it stays marked as changed).
MESSAGE_BUDGET = 24
BUDGET_WINDOW = 1.1
#: Seconds between status-line refreshes when nothing happens but the clock.
CLOCK_TICK = 1.0


class Cadence:
    """When each part last refreshed, and the messages sent in the last budget window."""

    def __init__(self, clock: Callable[[], float], parts: dict[str, tuple[float, int]]):
        self.clock = clock
        self.parts = parts  #: part -> (least seconds between refreshes, most messages)
        self.last: dict[str, float] = {}  #: part -> when it last refreshed
        self._spent: collections.deque[tuple[float, int]] = collections.deque()
        self._spent_sum = 0

    def budget_left(self, now: float) -> int:
        """Comm messages still allowed in the last :data:`BUDGET_WINDOW` seconds."""
        spent = self._spent
        while spent and now - spent[0][0] >= BUDGET_WINDOW:
            self._spent_sum -= spent.popleft()[1]
        return MESSAGE_BUDGET - self._spent_sum

    def spend(self, messages: int) -> None:
        """Book ``messages`` sent now (stamped once sent: never before a message)."""
        if messages:
            self._spent.append((self.clock(), messages))
            self._spent_sum += messages

    def allows(self, part: str, now: float) -> bool:
        """Whether ``part`` may refresh now: its cadence has passed and the budget holds."""
        cadence, cost = self.parts[part]
        return now - self.last.get(part, -math.inf) >= cadence and cost <= self.budget_left(now)

    def stalest_first(self, parts: Iterable[str]) -> list[str]:
        return sorted(parts, key=lambda p: self.last.get(p, -math.inf))

    def clock_due(self, now: float) -> bool:
        """The status line's clock has moved on by a tick since it was last shown."""
        return now - self.last.get("status", 0) >= CLOCK_TICK
