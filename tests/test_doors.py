"""One owner, many doors (issue 32): the lock and owner record, the inbox, attaching.

Owners run in this process (scripted searches) or in processes of their own
(``python -m automl_nb.testing.owner``: a scripted search, no TensorFlow). Every wait is on
a condition with a timeout; every process a test starts is killed and reaped at teardown.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

import automl_nb
from automl_nb import doors
from automl_nb.attached import AttachedSearch
from automl_nb.events import CommandIssued, EpochEnded, TrialEnded, read_journal
from automl_nb.testing import ScriptedTrainer, scripted_search
from automl_nb.testing.owner import open_scripted

ROOT = Path(__file__).resolve().parents[1]


def wait_until(condition, timeout: float = 20.0, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def journal(directory) -> list:
    return read_journal(Path(directory) / "events.jsonl")


def answers(directory) -> list[CommandIssued]:
    return [e for e in journal(directory) if isinstance(e, CommandIssued)]


def count(directory, kind) -> int:
    return sum(isinstance(e, kind) for e in journal(directory))


class Process:
    """``python -m MODULE ARGS...`` with its stdout lines in a queue."""

    def __init__(self, module: str, *args: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def rest(self, timeout: float = 30.0) -> list[str]:
        """Every line up to the end of its output (it must end within ``timeout``)."""
        self.proc.wait(timeout)
        out = []
        while (line := self.lines.get(timeout=5)) is not None:
            out.append(line)
        return out

    def first_line(self, timeout: float = 60.0) -> str:
        try:
            line = self.lines.get(timeout=timeout)
            assert line is not None, self.proc.stderr.read()
            return line
        except queue.Empty:
            self.kill()
            raise AssertionError(f"no line from the owner: {self.proc.stderr.read()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)


@pytest.fixture
def processes():
    """Start ``python -m MODULE ARGS`` processes; each is killed and reaped at teardown."""
    started: list[Process] = []

    def start(module: str, *args: str) -> Process:
        process = Process(module, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def owners():
    started: list[Process] = []

    def start(directory, *args: str) -> Process:
        owner = Process("automl_nb.testing.owner", str(directory), *args)
        started.append(owner)
        return owner

    yield start
    for owner in started:
        owner.kill()


@pytest.fixture
def live(tmp_path):
    """A scripted search running in this process, slow enough to steer; stopped at teardown."""
    searches = []

    def make(**kwargs):
        trainer = ScriptedTrainer(batches_per_epoch=1, batch_seconds=kwargs.pop("batch_seconds", 0.05))
        search = scripted_search(trainer, directory=tmp_path / kwargs.pop("name", "s"),
                                 trials=kwargs.pop("trials", 3), epochs=kwargs.pop("epochs", 40),
                                 **kwargs)
        searches.append(search)
        return search

    yield make
    for search in searches:
        search.stop()
        search.wait(20)


# -- the owner: lock and record -----------------------------------------------------------------


def test_a_running_search_holds_its_directory_and_lets_go_when_it_ends(live):
    search = live(epochs=2, batch_seconds=0.0, trials=2)
    current = doors.owner(search.directory)
    assert current is not None and current.pid == os.getpid()
    search.wait(20)
    assert search.state.value == "done"
    after = doors.owner(search.directory)
    assert after is not None and not after.alive and after.ended
    record = json.loads((search.directory / "owner.json").read_text())
    assert {"host", "pid", "started", "heartbeat", "process", "version"} <= set(record)


def test_a_second_search_on_the_same_directory_is_refused_in_one_sentence(live):
    search = live()
    second = open_scripted(search.directory, ScriptedTrainer())
    before = (search.directory / "events.jsonl").stat().st_size
    search.pause()
    before = (search.directory / "events.jsonl").stat().st_size
    result = second.start()
    assert not result.accepted
    text = str(result)
    assert f"is being run by process {os.getpid()} on host " in text
    assert f"automl_nb.attach('{search.directory}')" in text and "or stop it first" in text
    assert (search.directory / "events.jsonl").stat().st_size == before  # nothing written
    assert search.state.value == "paused"


def test_overwrite_never_replaces_a_directory_another_owner_runs(live):
    search = live()
    search.pause()  # it stays live however long the data takes to load
    with pytest.raises(automl_nb.errors.SearchError, match="is being run by process"):
        automl_nb.search("iris", directory=search.directory, overwrite=True, start=False)
    assert (search.directory / "events.jsonl").exists()


def test_open_on_a_live_search_attaches_and_its_commands_reach_the_owner(live):
    search = live()
    view = automl_nb.open(search.directory)
    try:
        assert isinstance(view, AttachedSearch)
        assert wait_until(lambda: view.state.value == "running")
        result = view.pause()
        assert result.accepted and "paused" in str(result)
        assert search.state.value == "paused"
        answer = answers(search.directory)[-1]
        assert answer.command == "pause" and answer.command_id and answer.source
        assert f":{os.getpid()} " in answer.source
        assert wait_until(lambda: view.state.value == "paused")
        resumed = view.resume()
        assert resumed.accepted and search.state.value == "running"
        refused = view.prune("0099")
        assert not refused.accepted and "there is no trial 0099" in str(refused)
        stopped = view.stop()
        assert stopped.accepted
        assert view.wait(20).value == "done"
        search.wait(20)  # the owner's thread has let the directory go
        assert list(view.results["trial_id"]) == list(search.results["trial_id"])
        late = view.pause()  # nobody runs it now: a sentence, not an exception
        assert not late.accepted and "no process runs the search" in str(late)
    finally:
        view.close()


def test_an_attached_view_updates_as_the_journal_grows(live):
    search = live(epochs=3, batch_seconds=0.02, trials=3)
    view = automl_nb.attach(search.directory)
    try:
        heard = []
        view.subscribe(heard.append)
        search.wait(30)
        assert wait_until(lambda: view.state.value == "done")
        assert len(view.results) == 3
        assert any(isinstance(e, TrialEnded) for e in heard)
        assert [e.seq for e in view.events()] == [e.seq for e in search.events()]
        assert "3 trials finished" in repr(view)
    finally:
        view.close()


def test_the_owners_panel_says_a_command_came_from_elsewhere():
    from automl_nb.panel._messages import MessageBoard

    board = MessageBoard()
    board.hear(CommandIssued(command="pause", args={}, accepted=True, message="paused", seq=3,
                             source="lab:77 jupyter server", command_id="abc"))
    assert board.text == "from lab:77 jupyter server: paused"
    board.hear(CommandIssued(command="resume", args={}, accepted=True, message="resumed", seq=4))
    assert board.text == "resumed"


def test_old_journals_load_without_the_new_fields():
    line = {"kind": "command", "seq": 1, "time": 1.0, "command": "pause", "args": {},
            "accepted": True, "message": "paused"}
    event = automl_nb.events.event_from_dict(line)
    assert event.command_id is None and event.source is None


# -- the inbox ------------------------------------------------------------------------------------


def write_inbox(directory, text: str) -> None:
    with open(Path(directory) / "inbox.jsonl", "a", encoding="utf-8") as fh:
        fh.write(text)


def answer_to(directory, command_id, timeout=10.0):
    return doors.wait_for_answer(directory, command_id, timeout)


def test_the_inbox_answers_a_torn_line_an_unknown_command_and_a_finished_trial(live):
    search = live(epochs=2, trials=4, batch_seconds=0.05)
    assert wait_until(lambda: count(search.directory, TrialEnded) >= 1)
    write_inbox(search.directory, '{"id": "torn", "comm')  # a sender that died mid-line
    unknown = uuid.uuid4().hex
    write_inbox(search.directory,
                "\n" + json.dumps({"id": unknown, "command": "explode", "args": {}}) + "\n")
    finished = doors.send(search.directory, "prune", trial_id="0000")
    bad_args = doors.send(search.directory, "promote", trial_id="0000", colour="red")
    said = answer_to(search.directory, unknown)
    assert said is not None and not said.accepted and "unknown command 'explode'" in said.message
    pruned = answer_to(search.directory, finished)
    assert pruned is not None and not pruned.accepted
    assert "trial 0000 is completed; only a running trial can be pruned" in pruned.message
    wrong = answer_to(search.directory, bad_args)
    assert wrong is not None and not wrong.accepted and "takes no colour" in wrong.message
    assert any("is not a command" in a.message for a in answers(search.directory))
    # the owner goes on: a later command is applied
    paused = answer_to(search.directory, doors.send(search.directory, "pause"))
    assert paused is not None and paused.accepted and search.state.value == "paused"
    search.resume()
    assert search.wait(30).value == "done"


def test_a_torn_last_line_waits_for_its_newline(live):
    search = live()
    command_id = uuid.uuid4().hex
    line = json.dumps({"id": command_id, "command": "pause", "args": {}, "from": "test"})
    write_inbox(search.directory, "\n" + line[:20])
    assert answer_to(search.directory, command_id, timeout=0.5) is None
    assert search.state.value == "running"
    write_inbox(search.directory, line[20:] + "\n")
    said = answer_to(search.directory, command_id)
    assert said is not None and said.accepted and said.source == "test"
    assert search.state.value == "paused"


def test_every_command_goes_through_the_inbox(live):
    search = live(trials=3, epochs=5, batch_seconds=0.05)
    assert wait_until(lambda: count(search.directory, TrialEnded) >= 1)
    view = automl_nb.attach(search.directory)
    try:
        assert view.pause().accepted
        assert view.extend(time="5m").accepted
        assert search.settings["time_budget_s"] == pytest.approx(300, abs=5)
        queued = view.enqueue({"units": 32})
        assert queued.accepted and "queued units=32" in str(queued)
        promoted = view.promote("0000", epochs=1)
        assert promoted.command == "promote" and "0000" in str(promoted)
        stepped = view.step()
        assert stepped.accepted and "running one trial, then pausing" in str(stepped)
        assert search.state.value == "running"
        sources = {a.command: a.source for a in answers(search.directory) if a.command_id}
        assert set(sources) >= {"pause", "extend", "enqueue", "promote", "step"}
    finally:
        view.close()


def test_send_needs_a_search_with_a_live_owner(tmp_path):
    search = scripted_search(directory=tmp_path / "s", trials=1, epochs=1)
    search.wait(20)
    with pytest.raises(automl_nb.errors.SearchError, match="no process runs the search"):
        doors.send(search.directory, "pause")
    with pytest.raises(automl_nb.errors.SearchError, match="holds no search"):
        doors.send(tmp_path, "pause")
    with pytest.raises(automl_nb.errors.SearchError, match="unknown command 'explode'"):
        doors.send(search.directory, "explode")


# -- summaries ------------------------------------------------------------------------------------


def test_summaries_list_every_search_under_a_folder(tmp_path, live):
    done = scripted_search(directory=tmp_path / "a" / "done", trials=2, epochs=1)
    done.wait(20)
    live(name="b")
    (tmp_path / "c" / "not-a-search").mkdir(parents=True)
    found = {Path(s.path).name: s for s in doors.summaries(tmp_path)}
    assert set(found) == {"done", "b"}
    assert found["done"].state == "done" and found["done"].trials == 2
    assert found["done"].best_score is not None and found["done"].objective == "val_accuracy"
    assert not found["done"].owner.alive
    assert found["b"].state == "running" and found["b"].owner.alive
    assert found["b"].trials_budget == 3
    json.dumps([s.to_json() for s in found.values()])  # JSON-able as they are
    with open(Path(found["b"].path) / "events.jsonl", "a") as fh:
        fh.write('{"kind": "trial_ended", "tri')  # a torn last line is read past
    assert doors.summary(found["b"].path).state == "running"


# -- owners in processes of their own ---------------------------------------------------------------


def test_two_processes_racing_to_start_one_directory_one_trains(tmp_path, owners):
    directory = tmp_path / "race"
    scripted_search(directory=directory, start=False, trials=2, epochs=30)
    first = owners(directory, "--batch-seconds", "0.05")
    second = owners(directory, "--batch-seconds", "0.05")
    said = {first: first.first_line(), second: second.first_line()}
    lines = sorted(said.values())
    assert lines[0].startswith("refused: "), lines
    assert lines[1].startswith("started: the search is running"), lines
    winner, loser = sorted(said, key=lambda p: said[p].startswith("refused"))
    assert f"is being run by process {winner.proc.pid} on host" in lines[0]
    assert "automl_nb.attach(" in lines[0]
    started = [e for e in journal(directory) if e.kind == "search_started"]
    assert len(started) == 1
    assert loser.proc.wait(20) == 3
    assert doors.owner(directory).pid == winner.proc.pid and doors.owner(directory).alive


def test_a_killed_owners_lock_is_taken_over_and_no_finished_trial_is_lost(tmp_path, owners, caplog):
    directory = tmp_path / "killed"
    owner = owners(directory, "--create", "--trials", "6", "--epochs", "2", "--batch-seconds", "0.05")
    assert owner.first_line().startswith("started")
    assert wait_until(lambda: count(directory, TrialEnded) >= 2)
    owner.kill()
    finished = [e.trial_id for e in journal(directory) if isinstance(e, TrialEnded)]
    current = doors.owner(directory)
    assert current is not None and not current.alive and current.pid == owner.proc.pid
    assert doors.summary(directory).state == "orphaned"
    with caplog.at_level(logging.WARNING, logger="automl_nb"):
        reopened = automl_nb.open(directory)
    assert not isinstance(reopened, AttachedSearch)
    assert f"process {owner.proc.pid} on host" in caplog.text and "is gone" in caplog.text
    kept = reopened.results
    assert set(finished) <= set(kept.loc[kept["status"] == "completed", "trial_id"])
    continued = open_scripted(directory, ScriptedTrainer(batches_per_epoch=1))
    started = continued.start()
    assert started.accepted and "took it over" in str(started)
    assert doors.owner(directory).pid == os.getpid()
    continued.wait(30)
    results = continued.results
    assert set(finished) <= set(results.loc[results["status"] == "completed", "trial_id"])


def test_attach_from_another_process_follows_and_a_pause_holds_the_owner(tmp_path, owners):
    directory = tmp_path / "far"
    owner = owners(directory, "--create", "--trials", "2", "--epochs", "400",
                   "--batch-seconds", "0.05")
    assert owner.first_line().startswith("started")
    view = automl_nb.attach(directory)
    try:
        assert wait_until(lambda: len(view.record.trials) >= 1 and view.state.value == "running")
        epochs = lambda: sum(isinstance(e, EpochEnded) for e in view.events())
        assert wait_until(lambda: epochs() >= 3)
        result = view.pause()
        assert result.accepted and "paused" in str(result), result
        pause = next(a for a in reversed(answers(directory)) if a.command == "pause")
        after = lambda: sum(isinstance(e, EpochEnded) and e.seq > pause.seq
                            for e in journal(directory))
        # the batch in flight may still end; then nothing more while paused
        assert not wait_until(lambda: after() > 1, timeout=1.5)
        assert wait_until(lambda: view.record.state == "paused")
        assert view.resume().accepted
        moved = epochs()
        assert wait_until(lambda: epochs() > moved + 2)
        assert view.stop().accepted
        assert view.wait(30).value == "done"
        assert owner.proc.wait(30) == 0
    finally:
        view.close()


# -- the shell --------------------------------------------------------------------------------------


def test_the_shell_lists_steers_and_watches_a_live_search(tmp_path, owners, processes, capsys):
    from automl_nb.ui import cli

    directory = tmp_path / "runs" / "shell"
    owner = owners(directory, "--create", "--trials", "2", "--epochs", "400",
                   "--batch-seconds", "0.05")
    assert owner.first_line().startswith("started")
    watch = processes("automl_nb", "watch", str(directory))
    assert watch.first_line().startswith("search 'scripted' is running")
    assert cli.main(["ls", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["STATE", "BEST", "TRIALS"]
    assert table[1].startswith("running") and f"{owner.proc.pid}@" in table[1]
    assert str(directory) in table[1] and "0/2" in table[1]
    assert cli.main(["ls", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["state"] == "running" and listed["owner"]["pid"] == owner.proc.pid

    assert cli.main(["status", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "search 'scripted' is running" in out and f"run by process {owner.proc.pid}" in out

    assert cli.main(["pause", str(directory)]) == 0
    assert capsys.readouterr().out.strip() == "paused: the running trial holds at its next batch"
    assert wait_until(lambda: doors.summary(directory).state == "paused")
    assert cli.main(["prune", str(directory), "0042"]) == 1
    assert "there is no trial 0042" in capsys.readouterr().err
    assert cli.main(["extend", str(directory)]) == 2
    assert "extend needs more trials or more time" in capsys.readouterr().err
    assert cli.main(["resume", str(directory)]) == 0
    assert capsys.readouterr().out.strip() == "resumed"
    assert cli.main(["stop", str(directory)]) == 0
    assert "stopping" in capsys.readouterr().out
    assert owner.proc.wait(30) == 0
    lines = watch.rest()
    assert watch.proc.returncode == 0, watch.proc.stderr.read()
    assert any(line.startswith("paused: ") for line in lines)
    assert any(line.startswith("from ") and line.endswith(": resumed") for line in lines)
    assert any(line.startswith("trial 0000 stopped") for line in lines), lines
    assert lines[-1].startswith("search 'scripted' is done")
    assert cli.main(["pause", str(directory)]) == 1  # nobody runs it now
    assert "no process runs the search" in capsys.readouterr().err
    assert cli.main(["ls", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("done")


def test_an_attached_panel_follows_and_its_pause_button_holds_the_owner(live):
    from automl_nb.testing.panel import recording_comms

    search = live()
    with recording_comms():
        view = automl_nb.attach(search.directory)
        try:
            panel = view.panel()
            assert view.panel() is panel
            assert wait_until(lambda: (panel.flush(), panel.record.state == "running")[1])
            panel.controls.toggle_pause()
            assert search.state.value == "paused"
            assert wait_until(lambda: (panel.flush(), panel.record.state == "paused")[1])
            assert panel.record.last_command.source is not None
            panel.controls.toggle_pause()
            assert search.state.value == "running"
            search.stop()
            assert wait_until(lambda: (panel.flush(), panel.finished)[1])
        finally:
            panel.close()
            view.close()


def test_a_reader_probing_the_lock_does_not_refuse_a_start(tmp_path):
    import fcntl

    search = scripted_search(directory=tmp_path / "s", trials=1, epochs=1)
    search.wait(20)
    fd = os.open(search.directory / "owner.lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # what owner() does for an instant, held longer here
    release = threading.Timer(0.1, os.close, (fd,))
    release.start()
    try:
        again = open_scripted(search.directory, ScriptedTrainer())
        started = again.extend(trials=1)
        assert started.accepted and "the search continues" in str(started), started
        assert again.wait(20).value == "done"
    finally:
        release.join()


def test_the_owner_record_is_ended_at_interpreter_exit(tmp_path):
    directory = tmp_path / "exits"
    code = ("from automl_nb.testing import ScriptedTrainer, scripted_search; "
            f"s = scripted_search(ScriptedTrainer(batch_seconds=0.05), directory={str(directory)!r},"
            " trials=2, epochs=400); print(s.state.value, flush=True)")  # then the interpreter exits
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "running", done.stderr
    current = doors.owner(directory)
    assert current is not None and not current.alive and current.ended
    assert doors.summary(directory).state == "orphaned"
    assert doors.takeover_note(directory) is None  # it let go cleanly: nothing to take over


def test_a_summary_reads_on_and_sees_a_replaced_directory(tmp_path):
    first = scripted_search(directory=tmp_path / "s", trials=3, epochs=1)
    first.wait(20)
    assert doors.summary(first.directory).trials == 3
    first.extend(trials=1)
    first.wait(20)
    assert doors.summary(first.directory).trials == 4  # the journal's new lines only
    again = scripted_search(directory=tmp_path / "s", trials=1, epochs=1, overwrite=True)
    again.wait(20)
    replaced = doors.summary(again.directory)
    assert replaced.trials == 1 and replaced.trials_budget == 1 and replaced.state == "done"
