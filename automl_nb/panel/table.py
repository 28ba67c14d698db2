"""The trial table: an anywidget whose rows live in synced traits.

``rows`` holds every trial as of its last start or end (one list, resent when a
trial starts or ends); ``live`` holds the running trials' rows, resent as their
epochs come, so an epoch sends one small dict, not the whole table. The front
end (``widgets/trial_table.js``) shows ``rows`` overlaid with ``live``, marks the
``best`` trial with the gold star every chart uses, sorts by score on a click of its header, and sends row actions back as custom messages
(``{"action": "prune", "trial_id": "0003"}``), which :meth:`TrialTable.click`
also takes from Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from ._assets import asset

ACTIONS = ("prune", "promote", "details")


class TrialTable(anywidget.AnyWidget):
    """One row a trial: status badge, score, epochs, duration, main hyperparameters, actions."""

    _esm = asset("trial_table.js")
    _css = asset("trial_table.css")

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    live = traitlets.Dict().tag(sync=True)
    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    objective = traitlets.Unicode("score").tag(sync=True)
    direction = traitlets.Unicode("max").tag(sync=True)
    sort = traitlets.Unicode("").tag(sync=True)  # "" start order, "score" best first
    selected = traitlets.Unicode("").tag(sync=True)
    best = traitlets.Unicode("").tag(sync=True)  # the best trial: a gold star by its id
    default_epochs = traitlets.Int(5).tag(sync=True)

    def __init__(self, on_action: Callable[..., Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.on_action = on_action
        self.on_msg(self._from_browser)

    def _from_browser(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("action") not in ACTIONS:
            return
        epochs = content.get("epochs")
        self.click(
            str(content["action"]),
            str(content.get("trial_id", "")),
            epochs=int(epochs) if isinstance(epochs, int | float) and epochs else None,
        )

    def click(self, action: str, trial_id: str, epochs: int | None = None) -> Any:
        """Do what a row's button does: ``prune``, ``promote`` (with ``epochs``) or ``details``."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}; got {action!r}")
        if self.on_action is None:
            return None
        return self.on_action(action, trial_id, epochs)

    def current_rows(self) -> list[dict[str, Any]]:
        """The rows as the front end shows them (``rows`` overlaid with ``live``), start order."""
        return [self.live.get(r["trial_id"], r) for r in self.rows]
