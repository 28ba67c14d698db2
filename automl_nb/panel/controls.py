"""The panel's controls: Pause/Resume, Step, Stop, Add trials, +1 min.

:class:`Controls` is a row of buttons whose clicks call the search's commands through the
panel's ``command`` (which shows the answer and never raises); :meth:`Controls.update`
fits the buttons to the search's state (Resume while paused, all off once it is over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..status import FINAL_STATES, SearchState
from ..view import SearchView
from ._widgets import assign


class Controls(widgets.HBox):
    """``pause_button``, ``step_button``, ``stop_button``, ``add_trials_input``,
    ``add_trials_button``, ``add_time_button``."""

    def __init__(
        self,
        search: SearchView,
        *,
        command: Callable[..., Any],
        say: Callable[[str], None],
        state: Callable[[], str],
    ):
        self.search = search
        self._command = command
        self._say = say
        self._state = state
        self.pause_button = widgets.Button(
            description="Pause", icon="pause", tooltip="Pause at the next batch end"
        )
        self.step_button = widgets.Button(
            description="Step", icon="step-forward", tooltip="Run one more trial, then pause"
        )
        self.stop_button = widgets.Button(
            description="Stop",
            icon="stop",
            button_style="danger",
            tooltip="Stop the search at the next batch end",
        )
        self.add_trials_input = widgets.BoundedIntText(
            value=5, min=1, max=100_000, layout=widgets.Layout(width="70px"), tooltip="trials to add"
        )
        self.add_trials_button = widgets.Button(
            description="Add trials", icon="plus", tooltip="Raise the trial budget"
        )
        self.add_time_button = widgets.Button(
            description="+1 min", icon="clock-o", tooltip="Raise the time budget by a minute"
        )
        self.pause_button.on_click(lambda _b: self.toggle_pause())
        self.step_button.on_click(lambda _b: self.step())
        self.stop_button.on_click(lambda _b: self._command(self.search.stop))
        self.add_trials_button.on_click(
            lambda _b: self._command(self.search.extend, trials=int(self.add_trials_input.value))
        )
        self.add_time_button.on_click(lambda _b: self._command(self.search.extend, time=60.0))
        super().__init__(
            [
                self.pause_button,
                self.step_button,
                self.stop_button,
                self.add_trials_input,
                self.add_trials_button,
                self.add_time_button,
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )

    def toggle_pause(self) -> Any:
        """Pause a running search, resume a paused one."""
        state = str(getattr(self.search, "state", self._state()))
        if state == SearchState.PAUSED:
            return self._command(self.search.resume)
        return self._command(self.search.pause)

    def step(self) -> Any:
        """Run one more trial, then pause (step mode)."""
        step = getattr(self.search, "step", None)
        if step is None:
            self._say("this search has no step mode")
            return None
        return self._command(step)

    def update(self, state: str) -> int:
        """Fit the buttons to the search's ``state``; returns the comm messages sent."""
        paused = state == SearchState.PAUSED
        off = state in FINAL_STATES or state == SearchState.STOPPING
        with self.pause_button.hold_sync():  # one message for the three traits
            changed = assign(self.pause_button, "description", "Resume" if paused else "Pause")
            changed += assign(self.pause_button, "icon", "play" if paused else "pause")
            changed += assign(self.pause_button, "disabled", off)
        sent = min(changed, 1) + assign(self.stop_button, "disabled", off)
        return sent + assign(self.step_button, "disabled", off)
