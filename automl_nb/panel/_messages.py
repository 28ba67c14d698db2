"""The panel's one status message: the latest sentence wins, and stale ones are cleared.

Sentences come from two places: the search's journal (``CommandIssued``: what any door,
the panel's buttons included, asked and what became of it; one sent from another process
through the inbox says so: "from host:pid kernel: paused") and the panel itself (an
error a button met, what Export wrote). They are ordered by when they were said, not by
when the panel heard of them: a sentence of the panel's own takes the place just after
the last event it had heard of, so the search's own answer to the same click (heard
earlier, folded later) never overwrites it. A sentence goes stale when the search's
state changes after it (the status line then says what happened: "paused", "done"), and
a prune's when its trial ends; the end of a search says why it ended.

Pure logic, no widgets: :class:`MessageBoard` is tested on its own.
"""

from __future__ import annotations

from ..events import CommandIssued, Event, SearchEnded, StateChanged, TrialEnded

__all__ = ["MessageBoard"]


class MessageBoard:
    """``text``: the sentence to show now ("" for none); ``order``: when it was said."""

    def __init__(self) -> None:
        self.text = ""
        self.order = -1.0
        self.trial: str | None = None  #: the trial a prune's sentence waits on

    def say(self, text: str, order: float, trial: str | None = None) -> bool:
        """Show ``text`` unless a newer sentence is up; True if the text changed."""
        if order < self.order:
            return False
        changed = text != self.text
        self.text, self.order, self.trial = text, order, trial
        return changed

    def clear(self, order: float) -> bool:
        return self.say("", order)

    def hear(self, event: Event) -> bool:
        """Take one event of the search's journal into account; True if the text changed."""
        seq = float(event.seq)
        if seq < self.order:
            return False
        if isinstance(event, CommandIssued):
            trial = event.args.get("trial_id") if event.command == "prune" and event.accepted else None
            text = f"from {event.source}: {event.message}" if event.source else event.message
            return self.say(text, seq, trial=str(trial) if trial is not None else None)
        if isinstance(event, SearchEnded):
            reason = event.reason or f"the search is {event.state}"
            return self.say(reason, seq)
        if isinstance(event, StateChanged):
            return self.clear(seq) if self.text else False
        if isinstance(event, TrialEnded) and self.trial is not None and event.trial_id == self.trial:
            return self.clear(seq)
        return False
