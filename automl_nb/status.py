"""The words a search and its trials are in: the one place their status values are spelled.

Each is a ``str`` enum whose values are exactly what users see and what the journal holds
(``"completed"``, ``"paused"``...), so a member equals its word, prints as it and is written
to JSON as it: journals, ``Search.results`` and recordings made before these enums read the
same. Everything else in the package names a status by its member, never by the bare word
(``tests/test_house.py`` checks it).

:class:`OracleStatus` is KerasTuner's own vocabulary for a trial (``"RUNNING"``,
``"COMPLETED"``...: what an oracle answers and stores), a different set of words from ours,
kept here so that the code speaking to an oracle names them too.
"""

from __future__ import annotations

import enum


class SearchState(str, enum.Enum):
    """Where a search is. ``done`` and ``failed`` are final until ``start()`` continues it."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    DONE = "done"
    FAILED = "failed"

    def is_finished(self) -> bool:
        return self in FINAL_STATES

    def __str__(self) -> str:
        return self.value


class TrialStatus(str, enum.Enum):
    """Where a trial is: running, or how it ended."""

    RUNNING = "running"
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"
    STOPPED = "stopped"

    def is_finished(self) -> bool:
        return self is not TrialStatus.RUNNING

    def __str__(self) -> str:
        return self.value


class OracleStatus(str, enum.Enum):
    """KerasTuner's trial statuses (``keras_tuner.engine.trial.TrialStatus``'s values), as
    its oracles answer ``create_trial`` and store a trial."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return self.value


#: The states a search thread ends in.
FINAL_STATES = frozenset({SearchState.DONE, SearchState.FAILED})
#: Statuses whose score counts (a failed trial has none).
SCORED = (TrialStatus.COMPLETED, TrialStatus.PRUNED, TrialStatus.STOPPED)
#: Every status a trial can end with.
FINISHED = (*SCORED, TrialStatus.FAILED)
