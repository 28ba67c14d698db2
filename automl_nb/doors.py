"""Who owns a running search, and how any other process reaches it (issue 32: "many doors").

A running search holds its directory. The process that runs it takes an OS file lock on
``owner.lock`` (``fcntl.flock``, held for as long as its search runs and let go by the OS
when the process dies) and writes ``owner.json`` beside it: host, process id, when it
started, a heartbeat refreshed every :data:`OWNER_HEARTBEAT_S` seconds, and what kind of
process it is. A second ``start()`` anywhere (another process, or another Search on the same
directory in this one) is refused in one sentence naming the owner; a lock whose process is
gone is taken over, and the takeover is said.

Every other door (:func:`automl_nb.attach`, ``python -m automl_nb pause DIR``, the JupyterLab
sidebar) follows the journal (``events.jsonl``) and sends commands through ``inbox.jsonl``
(:func:`send`): one JSON object a line, appended in a single write. The owner's
:class:`Door` reads new lines, applies each command through the Search's own public methods
(so it takes effect at the usual safe point) and journals the outcome as a
:class:`~automl_nb.events.CommandIssued` event carrying the command's ``command_id`` and its
``source``; :func:`wait_for_answer` follows the journal for it. A line that is not a command,
an unknown command or one that does not apply is answered in the journal, never raised.

:func:`summaries` lists every search under a folder for ``python -m automl_nb ls`` and the
sidebar, reading files only. Nothing here imports TensorFlow, and nothing here imports the
Search: the owner side is handed the Search object.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import SearchError
from .events import JOURNAL_NAME, CommandIssued, Event, event_from_dict
from .record import SearchRecord
from .store import SETTINGS_NAME, write_json

log = logging.getLogger("automl_nb")

__all__ = [
    "COMMANDS", "INBOX_NAME", "LOCK_NAME", "OWNER_HEARTBEAT_S", "OWNER_NAME", "Door",
    "JournalTail", "Owner", "SearchSummary", "owner", "send", "summaries", "wait_for_answer",
]

OWNER_NAME = "owner.json"
LOCK_NAME = "owner.lock"
INBOX_NAME = "inbox.jsonl"
#: How often (seconds) the owner refreshes ``owner.json``'s heartbeat.
OWNER_HEARTBEAT_S = 2.0
#: How often (seconds) the owner looks for new lines in its inbox.
INBOX_POLL_S = 0.05
#: An owner on another host (a shared filesystem, where its lock may not be seen) counts as
#: alive while its heartbeat is younger than this.
STALE_AFTER_S = 5 * OWNER_HEARTBEAT_S
#: The commands the inbox takes, and the keyword arguments of each (as the Search's methods).
COMMANDS: dict[str, tuple[str, ...]] = {
    "pause": (),
    "resume": (),
    "stop": (),
    "step": (),
    "prune": ("trial_id",),
    "promote": ("trial_id", "epochs"),
    "enqueue": ("values",),
    "extend": ("trials", "time"),
}
#: How many times (20 ms apart) a start tries a lock held with no live owner's record.
_LOCK_TRIES = 25
#: Search states in which a journal says its search is live (an owner should hold it).
LIVE_STATES = ("running", "paused", "stopping")


# --------------------------------------------------------------------------------------
# the owner record
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Owner:
    """The process that runs (or last ran) a search, from its ``owner.json``.

    ``alive``: its lock is held now (or, for an owner on another host, its heartbeat is fresh).
    """

    host: str
    pid: int
    started: float
    heartbeat: float
    process: str
    alive: bool
    ended: bool = False

    def describe(self) -> str:
        """``"process 1234 on host x since 15:02"``."""
        if not self.pid:
            return "another process"
        since = datetime.fromtimestamp(self.started).strftime("%H:%M") if self.started else "?"
        return f"process {self.pid} on host {self.host} since {since}"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _label() -> str:
    """What kind of process this is, in a few words (``owner.json``'s ``process``)."""
    if "ipykernel" in sys.modules:
        return "kernel"
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if argv0 == "__main__.py" and "automl_nb" in (sys.argv[0] or ""):
        return " ".join(["python -m automl_nb", *sys.argv[1:2]])
    return f"python {argv0}" if argv0 not in ("-c", "") else "python"


def source_label() -> str:
    """The ``from`` of a command this process sends: ``"host:pid label"``."""
    return f"{socket.gethostname()}:{os.getpid()} {_label()}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _lock_held(path: Path) -> bool:
    """Whether some open file (any process, this one included) holds ``path``'s lock."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def owner(directory: str | os.PathLike[str]) -> Owner | None:
    """The owner of the search in ``directory`` (alive or not), or None if it never had one."""
    path = Path(directory)
    data = _read_json(path / OWNER_NAME)
    held = _lock_held(path / LOCK_NAME)
    if data is None:
        if not held:
            return None
        data = {}  # locked, its record not written yet (or torn): a live owner all the same
    found = _owner_from(data, alive=held)
    if not held and not found.ended and found.host != socket.gethostname():
        # another host's lock may not show on a shared filesystem: trust a fresh heartbeat
        found = dataclasses.replace(found, alive=time.time() - found.heartbeat < STALE_AFTER_S)
    return dataclasses.replace(found, ended=found.ended and not held)


def _owner_from(data: dict[str, Any], alive: bool) -> Owner:
    try:
        host = str(data.get("host", "?"))
        pid = int(data.get("pid", 0))
        started = float(data.get("started", 0.0))
        heartbeat = float(data.get("heartbeat", started))
    except (TypeError, ValueError):
        host, pid, started, heartbeat = "?", 0, 0.0, 0.0
    return Owner(host=host, pid=pid, started=started, heartbeat=heartbeat,
                 process=str(data.get("process", "?")), alive=alive,
                 ended=bool(data.get("ended", False)))


def refusal(directory: str | os.PathLike[str], current: Owner) -> str:
    """The sentence that refuses a second owner of ``directory``."""
    return (
        f"'{directory}' is being run by {current.describe()}; attach to it with "
        f"automl_nb.attach('{directory}') or stop it first"
    )


def check_not_owned(directory: str | os.PathLike[str]) -> None:
    """Raise :class:`SearchError` (the one sentence) when a live process runs ``directory``."""
    current = owner(directory)
    if current is not None and current.alive:
        raise SearchError(refusal(directory, current))


def takeover_note(directory: str | os.PathLike[str]) -> str | None:
    """A sentence when ``directory``'s last owner died while its search ran, else None."""
    previous = owner(directory)
    if previous is None or previous.alive or previous.ended:
        return None
    return (
        f"the process that ran '{directory}' ({previous.describe()}) is gone "
        "and its lock is free"
    )


# --------------------------------------------------------------------------------------
# the owner's side: lock, heartbeat, inbox
# --------------------------------------------------------------------------------------
class Door:
    """The owner's hold on a search directory while its search runs, and its inbox reader.

    :meth:`open` takes the lock and writes ``owner.json`` (or raises the refusal, writing
    nothing); the door's thread refreshes the heartbeat and applies the inbox's commands to
    ``search`` through its public methods, inside ``search.speaking_for(id, source)`` so the
    Search journals the command's id and source with its answer. :meth:`close` (the search
    ended; also at interpreter exit) marks the record ended and lets the lock go.
    """

    def __init__(self, directory: Path, fd: int, search: Any, note: str | None):
        self.directory = directory
        self.search = search
        #: the takeover sentence when a dead owner's lock was taken over, else None
        self.note = note
        self._fd: int | None = fd
        self._closed = threading.Event()
        self._record = {
            "host": socket.gethostname(), "pid": os.getpid(), "started": time.time(),
            "heartbeat": time.time(), "process": _label(), "version": 1,
        }
        self._write_record()
        inbox = directory / INBOX_NAME
        self._offset = inbox.stat().st_size if inbox.exists() else 0  # older lines: not ours
        self._partial = b""
        self._thread = threading.Thread(target=self._serve, name="automl_nb-door", daemon=True)
        atexit.register(self.close)

    @classmethod
    def open(cls, directory: str | os.PathLike[str], search: Any) -> Door:
        """Hold ``directory`` for ``search`` and start reading its inbox; refuse a live owner."""
        path = Path(directory)
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(_LOCK_TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise SearchError(f"'{path}' cannot be locked ({exc.strerror})") from None
                record = _read_json(path / OWNER_NAME)
                # held with a record not ended, and still held a moment later: a live owner;
                # else a reader probing the lock for an instant (owner(), ls, the sidebar) or
                # an owner between its lock and its record
                live = record is not None and not record.get("ended") and attempt >= 2
                if live or attempt == _LOCK_TRIES - 1:
                    os.close(fd)
                    current = _owner_from(record or {}, alive=True)
                    raise SearchError(refusal(path, current)) from None
                time.sleep(0.02)
        previous = _read_json(path / OWNER_NAME)  # ours now: a record not ended is a dead one's
        note = None
        if previous is not None and not previous.get("ended"):
            dead = _owner_from(previous, alive=False)
            note = (f"the process that ran '{path}' ({dead.describe()}) is gone; "
                    "this process took it over")
            log.warning("%s", note)
        door = cls(path, fd, search, note)
        door._thread.start()
        return door

    def _write_record(self, **extra: Any) -> None:
        try:
            write_json(self.directory / OWNER_NAME, {**self._record, **extra})
        except OSError as exc:
            log.warning("could not write %s: %s", self.directory / OWNER_NAME, exc)

    def close(self) -> None:
        """Mark the owner record ended and let the lock go (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        with contextlib.suppress(Exception):
            self._poll()  # a command that arrived as the search ended is still answered
        self._write_record(ended=True, heartbeat=time.time())
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        atexit.unregister(self.close)

    def _serve(self) -> None:
        last_beat = time.monotonic()
        while not self._closed.wait(INBOX_POLL_S):
            try:
                self._poll()
            except Exception:  # the reader must outlive any one bad command
                log.exception("the inbox of %s could not be read", self.directory)
            if time.monotonic() - last_beat >= OWNER_HEARTBEAT_S:
                last_beat = time.monotonic()
                self._record["heartbeat"] = time.time()
                self._write_record()

    def _poll(self) -> None:
        path = self.directory / INBOX_NAME
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size < self._offset:  # the inbox was replaced: read it from its start
            self._offset, self._partial = 0, b""
        if size == self._offset:
            return
        with path.open("rb") as fh:
            fh.seek(self._offset)
            data = fh.read(size - self._offset)
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # a torn last line waits for its newline
        for line in lines:
            if line.strip():
                self.apply(line)

    def apply(self, line: bytes) -> None:
        """Apply one inbox line to the search; every outcome is journaled, nothing raised."""
        try:
            message = json.loads(line.decode("utf-8"))
        except ValueError:
            message = None
        if not isinstance(message, dict):
            shown = line[:60].decode("utf-8", "replace")
            self._answer(None, None, "?", f"the inbox line {shown!r} is not a command; it was skipped")
            return
        command_id = str(message.get("id") or "")
        source = str(message.get("from") or "another process")
        name = str(message.get("command") or "")
        args = message.get("args") if isinstance(message.get("args"), dict) else {}
        if name not in COMMANDS:
            known = ", ".join(COMMANDS)
            self._answer(command_id, source, name or "?",
                         f"unknown command {name!r}; commands are: {known}")
            return
        unknown = sorted(set(args) - set(COMMANDS[name]))
        if unknown:
            self._answer(command_id, source, name,
                         f"{name} takes no {', '.join(unknown)}; it takes: "
                         f"{', '.join(COMMANDS[name]) or 'no arguments'}")
            return
        search = self.search
        with search.speaking_for(command_id, source, name):
            try:
                method = getattr(search, name)
                if name == "enqueue":
                    method(dict(args.get("values") or {}))
                else:
                    method(**args)
            except (ValueError, TypeError) as exc:  # a bad argument: the Search's sentence
                self._answer(command_id, source, name, str(exc))

    def _answer(self, command_id: str | None, source: str | None, command: str, message: str) -> None:
        with self.search.speaking_for(command_id, source, command):
            self.search.answer(command, False, message)


# --------------------------------------------------------------------------------------
# the other doors: send, follow
# --------------------------------------------------------------------------------------
def send(directory: str | os.PathLike[str], command: str, **args: Any) -> str:
    """Append ``command`` (with its keyword ``args``) to the inbox of the search in
    ``directory``; returns the command's id. The owner applies it at its next safe point and
    answers in the journal (:func:`wait_for_answer`).

    Raises :class:`~automl_nb.errors.SearchError` (one sentence) when ``directory`` holds no
    search, nothing runs it now, or ``command`` is not one the inbox takes.
    """
    path = Path(directory)
    if not _is_search(path):
        raise SearchError(f"'{path}' holds no search (no {SETTINGS_NAME} and {JOURNAL_NAME})")
    if command not in COMMANDS:
        raise SearchError(f"unknown command {command!r}; commands are: {', '.join(COMMANDS)}")
    current = owner(path)
    if current is None or not current.alive:
        raise SearchError(
            f"no process runs the search in '{path}' now; reopen it with "
            f"automl_nb.open('{path}') and start() it to continue"
        )
    command_id = uuid.uuid4().hex
    line = {"id": command_id, "command": command, "args": args, "from": source_label(),
            "at": time.time()}
    # a leading newline ends any torn line a crashed sender left, so this one stays whole
    data = ("\n" + json.dumps(line, separators=(",", ":"), default=str) + "\n").encode()
    fd = os.open(path / INBOX_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return command_id


class JournalTail:
    """Reads a journal as it grows: :meth:`read` returns the whole new events since the last
    call (a torn last line waits for its newline; an unreadable line is skipped)."""

    def __init__(self, path: str | os.PathLike[str], offset: int = 0):
        path = Path(path)
        self.path = path / JOURNAL_NAME if path.is_dir() else path
        self.offset = offset
        self._partial = b""

    def read(self) -> list[Event]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:  # the journal was cut back (a torn line removed)
            self.offset, self._partial = size, b""
        if size == self.offset:
            return []
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read(size - self.offset)
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except (ValueError, TypeError):
                log.debug("skipping an unreadable journal line in %s", self.path)
        return events


def journal_size(directory: str | os.PathLike[str]) -> int:
    """The journal's size now: where :func:`wait_for_answer` may start looking."""
    try:
        return (Path(directory) / JOURNAL_NAME).stat().st_size
    except OSError:
        return 0


def wait_for_answer(
    directory: str | os.PathLike[str], command_id: str, timeout: float = 2.0, since: int = 0
) -> CommandIssued | None:
    """The owner's journaled answer to the command ``command_id`` (the first
    ``CommandIssued`` carrying it), following the journal from byte ``since`` for up to
    ``timeout`` seconds; None if none came by then."""
    tail = JournalTail(directory, offset=since)
    deadline = time.monotonic() + timeout
    while True:
        for event in tail.read():
            if isinstance(event, CommandIssued) and event.command_id == command_id:
                return event
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


# --------------------------------------------------------------------------------------
# every search under a folder
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SearchSummary:
    """One search directory, as ``python -m automl_nb ls`` and the sidebar show it."""

    path: str
    name: str
    state: str
    best_score: float | None
    objective: str
    trials: int
    trials_budget: int | None
    time_budget_s: float | None
    time_used_s: float | None
    time_left_s: float | None
    owner: Owner | None
    family: str | None
    data: str
    direction: str = "max"
    running_trial: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["owner"] = self.owner.to_json() if self.owner is not None else None
        return out


def _is_search(path: Path) -> bool:
    return (path / SETTINGS_NAME).is_file() and (path / JOURNAL_NAME).is_file()


def search_directories(root: str | os.PathLike[str], max_depth: int = 3) -> Iterator[Path]:
    """Every search directory at or under ``root``, at most ``max_depth`` folders down
    (a search's own folders are not searched; hidden folders are skipped)."""
    base = Path(root)
    if _is_search(base):
        yield base
        return
    if max_depth <= 0:
        return
    try:
        children = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from search_directories(child, max_depth - 1)


#: Each journal read so far, folded: (its first line's start, the tail, the record). A list
#: of searches asked for every second or two (the sidebar) reads only what each journal gained.
_FOLDS: dict[str, tuple[bytes, JournalTail, SearchRecord]] = {}
_FOLDS_LOCK = threading.Lock()


def _fold(path: Path) -> SearchRecord:
    """The record of ``path``'s journal, read on from where the last call stopped (call it,
    and read what it returns, under ``_FOLDS_LOCK``)."""
    try:
        with (path / JOURNAL_NAME).open("rb") as fh:
            head = fh.read(80)  # the first event's kind, seq and time: another journal's differ
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return SearchRecord()
    key = str(path.resolve())
    known = _FOLDS.get(key)
    if known is None or not head.startswith(known[0]) or size < known[1].offset:
        known = (head, JournalTail(path), SearchRecord())  # new, or replaced
    _, tail, record = known
    _FOLDS[key] = (head, tail, record)
    for event in tail.read():
        record.apply(event)
    return record


def summary(directory: str | os.PathLike[str]) -> SearchSummary:
    """The :class:`SearchSummary` of one search directory (files only; torn lines skipped)."""
    path = Path(directory)
    settings = _read_json(path / SETTINGS_NAME) or {}
    current = owner(path)
    try:
        last_write = (path / JOURNAL_NAME).stat().st_mtime
    except OSError:
        last_write = time.time()
    with _FOLDS_LOCK:
        return _summary(path, settings, _fold(path), current, last_write)


def _summary(path: Path, settings: dict[str, Any], record: SearchRecord,
             current: Owner | None, last_write: float) -> SearchSummary:
    state = record.state
    if state in LIVE_STATES and (current is None or not current.alive):
        state = "orphaned"  # its clock stopped at the journal's last line
    best = record.best()
    data = settings.get("data") if isinstance(settings.get("data"), dict) else {}
    budget = record.budget.time_budget_s if record.budget is not None else None
    now = time.time() if state in LIVE_STATES else last_write
    used = record.elapsed(now) if record.config is not None else None
    left = max(0.0, budget - used) if budget is not None and used is not None else None
    trials_budget = record.budget.trials if record.budget is not None else None
    described = str(data.get("name") or settings.get("name") or path.name)
    if data.get("n_train") is not None:
        described += f", {data['n_train']} rows"
    running = record.running
    return SearchSummary(
        path=str(path),
        name=str(settings.get("name") or path.name),
        state=state,
        best_score=best.score if best is not None else None,
        objective=str(record.objective or settings.get("objective") or "score"),
        trials=len(record.finished_trials()),
        trials_budget=trials_budget,
        time_budget_s=budget,
        time_used_s=used,
        time_left_s=left,
        owner=current,
        family=data.get("family"),
        data=described,
        direction=str(record.direction if record.config else settings.get("direction", "max")),
        running_trial=running.trial_id if running is not None and state in LIVE_STATES else None,
    )


def summaries(root: str | os.PathLike[str], max_depth: int = 3) -> list[SearchSummary]:
    """Every search under ``root`` (see :func:`search_directories`), as a :class:`SearchSummary`."""
    return [summary(path) for path in search_directories(root, max_depth)]
