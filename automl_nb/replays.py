"""Play a recorded search's journal back, at any speed, with no TensorFlow.

``automl_nb.replay("digits-hyperband", speed=10)`` (a recording that ships in the package's
``recordings/`` data folder, or any search's folder) returns a
:class:`Replay` at once and plays the journal (``events.jsonl``) on a background
thread, ten times faster than it ran. A Replay offers what the panel and the other
views use of a :class:`~automl_nb.Search` (``subscribe(fn, replay=...)``, ``record``,
``lock``, ``state``, ``name``, ``directory``, ``events()``, ``results``), so
``replay.panel()`` shows the same live panel a class would see on a fast machine,
and ``automl_nb.compare`` takes replays beside live searches.

Events keep their order, numbers and spacing; their times are moved to now, so the
panel's clock runs with the replay and the durations are the original ones. Long
gaps (a pause, a closed kernel) are shortened to :data:`MAX_GAP_S` before the speed
applies. A replay cannot be steered: every command answers so, as a
:class:`~automl_nb.CommandResult` with ``accepted=False``.

A recording may carry ``teaching.json`` beside the journal: snapshots of the Bayesian
oracle's Gaussian process taken while the search ran (see :func:`bayesian_snapshots`),
which the panel's Bayesian view shows at the matching moment of the replay.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from .control import CommandResult
from .errors import SearchError
from .events import JOURNAL_NAME, Event, EventBus, read_journal
from .record import SearchRecord
from .settings import Settings
from .status import SearchState
from .store import Store
from .view import FoldedJournal

log = logging.getLogger("automl_nb")

TEACHING_NAME = "teaching.json"
TEACHING_FORMAT = "automl-nb-teaching/1"
#: Gaps between two events longer than this (seconds, before the speed) are shortened to it.
MAX_GAP_S = 5.0
NOT_STEERABLE = (
    "a replay cannot be steered: it plays back what a recorded search did "
    "(run automl_nb.search(...) to steer one of your own)"
)

__all__ = [
    "Replay",
    "bayesian_snapshots",
    "find_recording",
    "recordings",
    "replay",
    "save_recording",
]


class Replay(FoldedJournal):
    """A recorded search played back into the same views as a live one.

    Make one with :func:`automl_nb.replay`. ``speed`` is how many times faster than
    the original it plays (``float('inf')`` delivers everything at once).
    """

    def __init__(
        self, directory: str | os.PathLike[str], speed: float = 10.0, *, start: bool = True
    ):
        path = find_recording(directory)
        if not (path / JOURNAL_NAME).exists():
            raise ValueError(
                f"directory '{path}' holds no recording: there is no {JOURNAL_NAME} in it"
            )
        self.speed = _check_speed(speed)
        self.directory = path
        self.settings: Settings | None = _settings(path)
        self._all = read_journal(path / JOURNAL_NAME)
        if not self._all:
            raise ValueError(f"the recording in '{path}' has no events")
        first = self._all[0]
        named = self.settings.name if self.settings else None
        self.name: str = named or getattr(first, "name", None) or path.name
        teaching = _read_json(path / TEACHING_NAME) or {}
        self._snapshots: list[dict[str, Any]] = [
            s for s in teaching.get("bayesian", []) if isinstance(s, dict)
        ]
        self._bus = EventBus()  # no journal: the recording's own is the record
        self._lock = self._bus.lock
        self._record = SearchRecord()
        self._bus.subscribe(self._record.apply)
        self._position = 0
        self._skip = threading.Event()
        self._thread: threading.Thread | None = None
        self._offset = 0.0
        if start:
            self.start()

    # -- what views read -------------------------------------------------------------
    @property
    def objective(self) -> str:
        return (self.settings.objective if self.settings else None) or self._record.objective or "score"

    @property
    def direction(self) -> str:
        return self.settings.direction if self.settings else self._record.direction

    @property
    def finished(self) -> bool:
        """Every recorded event has been played."""
        return self._position >= len(self._all)

    @property
    def progress(self) -> float:
        """The share of the recording played so far (0 to 1)."""
        return self._position / len(self._all)

    def surrogate_names(self) -> list[str]:
        """Hyperparameters the recording's Bayesian snapshots cover (empty if it has none)."""
        for snap in self._snapshots:
            return list(snap.get("surrogates", {}))
        return []

    def surrogate(self, hp_name: str) -> dict[str, Any] | None:
        """The recorded Bayesian surrogate along ``hp_name`` at this point of the replay.

        The latest snapshot whose trial has started by now (the decision that chose the
        running or last trial), as :func:`automl_nb.teaching.bayesian_surrogate` returned
        it while the search ran; None before the first one.
        """
        with self._lock:
            started = {t for t in self._record.trials}
        found = None
        for snap in self._snapshots:
            tid = snap.get("trial_id")
            if (tid is None and self.finished) or (tid is not None and tid in started):
                found = snap
        if found is None:
            return None
        return (found.get("surrogates") or {}).get(hp_name)

    def __repr__(self) -> str:
        with self._lock:
            done = len(self._record.finished_trials())
        return (
            f"<Replay {self.name!r} at {self.speed:g}x: {self.progress:.0%} played, "
            f"{done} trials finished>"
        )

    # -- playing -----------------------------------------------------------------------
    def start(self) -> CommandResult:
        """Start playing (a new Replay starts on its own unless ``start=False``)."""
        with self._lock:
            if self._thread is not None:
                return CommandResult("start", True, "the replay is already playing")
            self._thread = threading.Thread(
                target=self._play, name=f"automl_nb-replay-{self.name}", daemon=True
            )
            self._thread.start()
        return CommandResult("start", True, f"playing the recording at {self.speed:g}x")

    def finish(self) -> None:
        """Play the rest at once (and wait for it)."""
        if self._thread is None:
            self.start()
        self._skip.set()
        self.wait()

    def wait(self, timeout: float | None = None) -> SearchState:
        """Block until every event has been played (or ``timeout`` seconds pass)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state

    def _play(self) -> None:
        events = self._all
        t0 = events[0].time
        self._offset = time.time() - t0
        clock_start = time.monotonic()
        played = 0.0  # original seconds played so far, long gaps shortened
        previous = t0
        for event in events:
            gap = max(0.0, event.time - previous)
            previous = event.time
            played += min(gap, MAX_GAP_S)
            if not self._skip.is_set() and math.isfinite(self.speed):
                due = clock_start + played / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    self._skip.wait(delay)
            self._deliver(dataclasses.replace(event, time=event.time + self._offset))

    def _deliver(self, event: Event) -> None:
        with self._lock:
            self._position += 1
            self._bus.deliver(event)

    # -- the panel -----------------------------------------------------------------------
    def panel(self):
        """The live panel (ipywidgets) over this replay."""
        from .panel import Panel

        return Panel(self)

    # -- commands: a replay cannot be steered --------------------------------------------
    def _refuse(self, command: str) -> CommandResult:
        return CommandResult(command, False, NOT_STEERABLE)

    def pause(self) -> CommandResult:
        return self._refuse("pause")

    def resume(self) -> CommandResult:
        return self._refuse("resume")

    def step(self) -> CommandResult:
        return self._refuse("step")

    def stop(self) -> CommandResult:
        return self._refuse("stop")

    def prune(self, trial_id: Any = None) -> CommandResult:
        return self._refuse("prune")

    def promote(self, trial_id: Any = None, epochs: int = 5) -> CommandResult:
        return self._refuse("promote")

    def enqueue(self, hyperparameters: Any = None) -> CommandResult:
        return self._refuse("enqueue")

    def extend(self, trials: Any = None, time: Any = None) -> CommandResult:
        return self._refuse("extend")

    def best_model(self, trial_id: Any = None):
        raise RuntimeError("a replay has no models: it plays back a recorded search's events")

    def final_fit(self, trial_id: Any = None, epochs: Any = None):
        raise RuntimeError("a replay has no models to retrain: it plays back a recorded search")

    def export(self, path: Any = None, trial_id: Any = None):
        raise RuntimeError("a replay has no models to export: it plays back a recorded search")


#: The recordings that ship inside the package (a data folder, in a source checkout and in
#: an installed wheel alike); ``notebooks/make_recordings.py`` remakes them.
SHIPPED = Path(__file__).resolve().parent / "recordings"


def recording_folders() -> list[Path]:
    """Where a recording's bare name is looked up: ``./recordings``, then the recordings that
    ship with the package (:data:`SHIPPED`)."""
    return [Path("recordings"), SHIPPED]


def recordings() -> list[str]:
    """The names of the recordings :func:`replay` finds by name (``"digits-hyperband"``...)."""
    names: set[str] = set()
    for folder in recording_folders():
        if folder.is_dir():
            names.update(p.name for p in folder.iterdir() if (p / JOURNAL_NAME).exists())
    return sorted(names)


def find_recording(directory: str | os.PathLike[str]) -> Path:
    """A recording's folder: ``directory`` itself, or a bare name in :func:`recording_folders`."""
    path = Path(directory)
    if path.is_dir():
        return path
    if len(path.parts) == 1:
        for folder in recording_folders():
            if (folder / path / JOURNAL_NAME).exists():
                return folder / path
    known = recordings()
    hint = f"; recordings shipped with automl-nb: {', '.join(known)}" if known else ""
    raise ValueError(
        f"directory '{path}' does not exist; pass the folder of a recorded search (with "
        f"events.jsonl) or a recording's name{hint}"
    )


def _check_speed(speed: Any) -> float:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
        raise ValueError(
            "speed must be a number above 0 (10 plays ten times faster than the search ran, "
            f"float('inf') all at once); got {speed!r}"
        )
    return float(speed)


def _settings(directory: Path) -> Settings | None:
    """A recording's settings, or None when it has none that can be read (it plays from its
    journal alone)."""
    try:
        return Store(directory).read_settings()
    except SearchError:
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def replay(directory: str | os.PathLike[str], speed: float = 10.0) -> Replay:
    """Play a recorded search (a folder with ``events.jsonl``) back at ``speed`` times its pace.

    ``directory`` is a search's folder, a recording's folder, or the name of a recording
    that ships with the package (``automl_nb.replay("digits-hyperband")``; see
    :func:`recordings`).

    Returns a :class:`Replay` at once; show it (or ``.panel()``) for the live panel,
    ``.wait()`` blocks until it has played, ``.finish()`` plays the rest at once. Only
    JSON is read, and TensorFlow is never imported.
    """
    return Replay(directory, speed)


# -- making recordings ------------------------------------------------------------------------


def bayesian_snapshots(oracle: Any, trial_ids: list[str], n: int = 40) -> list[dict[str, Any]]:
    """The Bayesian oracle's surrogate before each of ``trial_ids`` was chosen, then a preview.

    Each snapshot is ``{"trial_id": id, "surrogates": {hp_name: data}}`` with ``data`` as
    :func:`automl_nb.teaching.bayesian_surrogate` returns it (the process fitted on the
    trials before that one, ``next`` that trial's values); the last has ``trial_id`` None
    and previews the trial the oracle would propose next. Floats are rounded to 5
    significant digits to keep recordings small.
    """
    from .teaching import bayesian_state

    out: list[dict[str, Any]] = []
    for tid in [*trial_ids, None]:
        state = bayesian_state(oracle, until=tid)
        out.append(
            {
                "trial_id": tid,
                "surrogates": {name: _rounded(state.slice(name, n)) for name in state.names},
            }
        )
    return out


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.5g}") if math.isfinite(value) else None
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def save_recording(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    snapshots: list[dict[str, Any]] | None = None,
) -> Path:
    """Copy a search directory's ``events.jsonl`` and ``search.json`` (JSON only) to ``target``.

    ``snapshots`` (from :func:`bayesian_snapshots`) go to ``teaching.json``. Models,
    data and KerasTuner's files are left behind, so a recording stays small.
    """
    src, dst = Path(source), Path(target)
    if not (src / JOURNAL_NAME).exists():
        raise ValueError(f"source '{src}' holds no search journal ({JOURNAL_NAME})")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / JOURNAL_NAME, dst / JOURNAL_NAME)
    settings = _settings(src)
    if settings is not None:
        Store(dst).write_settings(settings)
    if snapshots is not None:
        payload = {"format": TEACHING_FORMAT, "bayesian": snapshots}
        (dst / TEACHING_NAME).write_text(
            json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n", encoding="utf-8"
        )
    return dst
