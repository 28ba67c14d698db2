"""Faults: what goes wrong while a search runs, and what a search's directory may hold.

- A trial that raises, runs out of memory or whose loss becomes NaN is marked failed with one
  sentence, and the search goes on (real TensorFlow, slow; a scripted twin runs fast).
- A journal that cannot be written (disk full, read-only) stops the search cleanly: one
  sentence in ``search.error``, every finished trial intact on disk, no torn line, the panel
  and every command still answering. Tests run as root, where ``chmod`` does not stop writes,
  and no small file system can be mounted here, so the fault is made where the journal meets
  its file: ``automl_nb.events.open`` hands out a file whose writes fail as a full disk's do
  (part of the line written, then ENOSPC) or as a read-only one's (EROFS, nothing written).
  The journal's own code (cut back, error sentence) and the search's run as in production.
- A kernel killed mid-search (a real Jupyter kernel, restarted): reopening shows every finished
  trial and marks the running one interrupted. (SIGKILL mid-trial then *continue* with real
  TensorFlow is tests/test_search_real.py::test_sigkill_mid_search_loses_at_most_the_running_trial.)
- A subscriber that raises: the search, the other subscribers and the commands go on.
- Safety: a search writes JSON, JSON lines, a pickle-free .npz and HDF5 weights, nothing else;
  ``open()`` of a directory runs no code from it, whatever was put there.
"""

from __future__ import annotations

import errno
import json
import math
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import automl_nb
from automl_nb import SearchState, events
from automl_nb.doors import LOCK_NAME
from automl_nb.errors import SearchError
from automl_nb.events import (
    EpochEnded,
    EventBus,
    Journal,
    JournalError,
    SearchEnded,
    TrialEnded,
    TrialStarted,
    read_journal,
)
from automl_nb.testing import ScriptedTrainer, scripted_search

from .conftest import wait_for

# -- a disk that fills up ------------------------------------------------------------------


class Disk:
    """Hands the journal its file; ``mode`` "full" or "read-only" makes writes fail."""

    def __init__(self) -> None:
        self.mode: str | None = None

    def open(self, path, mode="r", buffering=-1, **kwargs):
        return _File(open(path, mode, buffering, **kwargs), self)


class _File:
    def __init__(self, real, disk: Disk):
        self.real = real
        self.disk = disk

    def write(self, data) -> int:
        if self.disk.mode == "full":  # part of the line reaches the file, then the disk is full
            self.real.write(bytes(data[: max(1, len(data) // 2)]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if self.disk.mode == "read-only":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return self.real.write(data)

    def fileno(self) -> int:
        return self.real.fileno()

    @property
    def name(self) -> str:
        return self.real.name

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def disk(monkeypatch) -> Disk:
    d = Disk()
    monkeypatch.setattr(events, "open", d.open, raising=False)
    return d


def journal_lines(directory: Path) -> list[dict]:
    """Every line of the journal, each of which must be whole JSON."""
    raw = (directory / events.JOURNAL_NAME).read_bytes()
    assert raw.endswith(b"\n"), "the journal ends in a torn line"
    return [json.loads(line) for line in raw.splitlines()]


WORDS = {
    "full": "No space left on device",
    "read-only": "Read-only file system",
}


# -- the journal ------------------------------------------------------------------------------


def test_a_failed_write_leaves_only_whole_lines(tmp_path, disk):
    path = tmp_path / "events.jsonl"
    bus = EventBus(Journal(path))
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={"units": 8}))
    disk.mode = "full"
    with pytest.raises(
        JournalError,
        match=r"^could not write the journal .*: No space left on device; "
        r"free some disk space or choose a writable directory=$",
    ):
        bus.publish(EpochEnded(trial_id="0000", epoch=1, metrics={"loss": 1.0}))
    assert len(journal_lines(tmp_path)) == 1  # the half line was cut back
    disk.mode = None  # space freed: the next event follows on, numbered after the last one kept
    bus.publish(EpochEnded(trial_id="0000", epoch=1, metrics={"loss": 1.0}))
    assert [(e.kind, e.seq) for e in read_journal(path)] == [
        ("trial_started", 0),
        ("epoch_ended", 1),
    ]


def test_a_torn_last_line_is_cut_off_before_the_next_append(tmp_path, caplog):
    path = tmp_path / "events.jsonl"
    EventBus(Journal(path)).publish(TrialStarted(trial_id="0000", hyperparameters={}))
    with path.open("a") as fh:
        fh.write('{"kind": "trial_ended", "trial_id": "00')  # a crash mid-write
    history = read_journal(path)
    bus = EventBus(Journal(path), history=history)  # a new session appends to the same file
    bus.publish(TrialEnded(trial_id="0000", status="completed", score=0.5))
    assert [json.loads(line)["kind"] for line in path.read_text().splitlines()] == [
        "trial_started",
        "trial_ended",
    ]
    assert [e.seq for e in read_journal(path)] == [0, 1]
    assert "cutting a torn last line" in caplog.text


@pytest.mark.parametrize("mode", ["full", "read-only"])
def test_a_journal_that_cannot_be_written_stops_the_search_cleanly(tmp_path, disk, searches, mode):
    directory = tmp_path / "s"
    s = scripted_search(
        ScriptedTrainer(batches_per_epoch=3), directory=directory, trials=6, epochs=3, start=False
    )
    searches.append(s)
    heard = []

    def listener(event):
        heard.append(event)
        if isinstance(event, EpochEnded) and (event.trial_id, event.epoch) == ("0002", 1):
            disk.mode = mode  # the disk fills (or turns read-only) during the third trial

    s.subscribe(listener)
    assert s.start()
    assert s.wait(10) is SearchState.FAILED
    sentence = (
        f"could not write the journal {directory / 'events.jsonl'}: {WORDS[mode]}; "
        "free some disk space or choose a writable directory="
    )
    assert s.error == sentence
    # on disk: whole lines only, the two finished trials intact, the third cut short
    on_disk = journal_lines(directory)
    ended = {e["trial_id"]: e for e in on_disk if e["kind"] == "trial_ended"}
    assert sorted(ended) == ["0000", "0001"]
    for tid, event in ended.items():
        assert event["status"] == "completed" and event["score"] == s.record.trials[tid].score
    assert [
        e["epoch"] for e in on_disk if e["kind"] == "epoch_ended" and e["trial_id"] == "0002"
    ] == [1]
    # in memory, the views heard how it ended (though that could not be written)
    trial = s.record.trials["0002"]
    assert trial.status == "failed" and trial.reason == f"interrupted: {sentence}"
    assert s.record.state == "failed"
    last = heard[-1]
    assert isinstance(last, SearchEnded) and last.state == "failed" and last.reason == sentence
    assert last.seq == -1  # in no file
    # every command answers with a sentence; none raises
    assert not s.stop() and str(s.stop()) == "the search is failed; there is nothing to stop"
    assert not s.pause()
    answer = s.start()
    assert not answer and str(answer) == sentence and s.state is SearchState.FAILED
    # reopened while the disk is still full: what was written is all there
    again = automl_nb.open(directory)
    assert [(t.trial_id, t.status) for t in again.record.trials.values()] == [
        ("0000", "completed"),
        ("0001", "completed"),
        ("0002", "failed"),
    ]
    assert (
        again.record.trials["0002"].reason
        == "interrupted: the search process ended during this trial"
    )
    # space freed: the same search continues; nothing finished is run again, numbering goes on
    disk.mode = None
    assert s.start()
    assert s.wait(10) is SearchState.DONE, s.error
    lines = journal_lines(directory)
    assert [e["seq"] for e in lines] == list(range(len(lines)))
    starts = [e["trial_id"] for e in lines if e["kind"] == "trial_started"]
    assert starts == ["0000", "0001", "0002", "0003", "0004", "0005"]
    final = automl_nb.open(directory).results.set_index("trial_id")
    assert final.loc["0000", "score"] == ended["0000"]["score"]
    assert list(final.status) == [
        "completed",
        "completed",
        "failed",
        "completed",
        "completed",
        "completed",
    ]


def test_a_panel_shows_why_the_search_stopped_and_its_buttons_still_answer(
    tmp_path, disk, searches
):
    from automl_nb.panel import Panel
    from automl_nb.testing.panel import recording_comms

    s = scripted_search(
        ScriptedTrainer(batches_per_epoch=3),
        directory=tmp_path / "s",
        trials=6,
        epochs=3,
        start=False,
    )
    searches.append(s)
    s.subscribe(
        lambda e: (
            isinstance(e, TrialEnded) and e.trial_id == "0000" and setattr(disk, "mode", "full")
        )
    )
    with recording_comms():
        panel = Panel(s, autostart=False)
        try:
            assert s.start()
            assert s.wait(10) is SearchState.FAILED
            panel.flush()
            assert panel.record.state == "failed"
            assert "could not write the journal" in (panel.record.end_reason or "")
            assert panel.record.trials["0000"].status == "completed"
            panel.stop_button.click()
            assert panel.status_message.value == "the search is failed; there is nothing to stop"
            panel.pause_button.click()
            assert panel.status_message.value == "the search is failed; there is nothing to pause"
            panel.flush()
            assert panel.status_message.value == "the search is failed; there is nothing to pause"
            assert panel.record.state == "failed" and s.state is SearchState.FAILED
        finally:
            panel.close()


def test_a_full_disk_when_the_search_would_start_is_one_sentence(tmp_path, disk):
    disk.mode = "full"
    with pytest.raises(
        SearchError, match=r"^could not write the journal .*: No space left on device"
    ):
        automl_nb.search((np.random.rand(30, 3), np.arange(30) % 2), directory=tmp_path / "run")
    assert not (tmp_path / "run").exists()


# -- trials that fail; subscribers that raise (scripted: no TensorFlow) --------------------------


def test_a_trial_that_raises_is_failed_and_the_search_goes_on(scripted):
    started = []

    def fail(values, epoch):
        if epoch == 1:
            started.append(values)
        return "the data loader fell over" if len(started) == 2 and epoch == 2 else None

    s = scripted(ScriptedTrainer(fail=fail), trials=4, epochs=3)
    assert s.wait(10) is SearchState.DONE, s.error
    r = s.results.set_index("trial_id")
    assert list(r.status) == ["completed", "failed", "completed", "completed"]
    assert s.record.trials["0001"].reason == "the data loader fell over"
    assert np.isnan(r.loc["0001", "score"]) and r.loc["0001", "epochs"] == 1


def test_a_subscriber_that_raises_does_not_stop_the_search(scripted, caplog):
    s = scripted(trials=3, epochs=2, start=False)
    bad_calls = []

    def broken_view(event):
        bad_calls.append(event)
        raise RuntimeError("my plot broke")

    heard = []
    s.subscribe(broken_view)
    s.subscribe(heard.append)  # subscribed after the broken one: it must miss nothing
    assert s.start()
    assert s.wait(10) is SearchState.DONE, s.error
    assert len(s.results) == 3 and set(s.results.status) == {"completed"}
    assert [e.seq for e in heard] == [e.seq for e in s.events()]
    assert len(bad_calls) == len(heard)
    assert "an event subscriber" in caplog.text and "my plot broke" in caplog.text
    assert s.extend(trials=1)  # commands still work (and publish through the broken view)
    assert s.wait(10) is SearchState.DONE
    assert len(s.results) == 4


# -- a kernel killed mid-search ----------------------------------------------------------------------


KERNEL_SEARCH = """
from automl_nb.testing import ScriptedTrainer, scripted_search
s = scripted_search(ScriptedTrainer(batches_per_epoch=10, batch_seconds=0.01), directory={d!r},
                    trials=100, epochs=5)
print(s.state.value)
"""

KERNEL_REOPEN = """
%load_ext automl_nb
import json, automl_nb
s = automl_nb.open({d!r})
print(json.dumps({{"state": s.state.value,
                   "trials": {{t.trial_id: [t.status, t.reason, t.score] for t in s.record.trials.values()}}}}))
"""


def _run_in(client, code: str, timeout: float = 60) -> str:
    out: list[str] = []

    def hook(msg):
        kind = msg["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def test_a_kernel_restarted_mid_search_then_reopened(tmp_path):
    import jupyter_client
    directory = str(tmp_path / "k")
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        assert _run_in(client, KERNEL_SEARCH.format(d=directory)).strip() == "running"

        def two_finished_and_one_training():
            found = read_journal(directory)
            ended = {e.trial_id for e in found if e.kind == "trial_ended"}
            training = {e.trial_id for e in found if e.kind == "epoch_ended"} - ended
            return len(ended) >= 2 and training

        wait_for(two_finished_and_one_training, timeout=30, interval=0.05, what="a trial mid-way")
        before = read_journal(directory)
        km.restart_kernel(now=True)  # the kernel process is killed, as by a crash
        client.wait_for_ready(timeout=60)
        text = _run_in(client, KERNEL_REOPEN.format(d=directory))
        seen = json.loads(text.strip().splitlines()[-1])
        finished = {e.trial_id: e.score for e in before if e.kind == "trial_ended"}
        for tid, score in finished.items():  # every finished trial, as it was
            assert seen["trials"][tid][0] == "completed" and seen["trials"][tid][2] == score
        lost = [tid for tid, (status, reason, _) in seen["trials"].items() if tid not in finished]
        assert lost, "no trial was running when the kernel died"
        for tid in lost:  # only the running trial is lost, and it says so
            assert seen["trials"][tid][:2] == [
                "failed",
                "interrupted: the search process ended during this trial",
            ]
        assert seen["state"] == "idle"
        # the magic reopens it too, and the new kernel is usable
        status = _run_in(client, f"%automl open {directory} --no-panel")
        assert f"search 'scripted' has not started: {len(seen['trials'])} trials" in status
        assert _run_in(client, "print(6 * 7)").strip() == "42"
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


# -- open() runs no code from a directory ------------------------------------------------------------


class _Payload:
    """Unpickling this touches a marker file: if the marker appears, something ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_open_runs_no_code_from_the_directory(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "gift"
    marker = tmp_path / "PWNED"
    x, y = np.random.default_rng(0).random((30, 3)), np.arange(30) % 2
    automl_nb.search((x, y), directory=directory, start=False)
    assert automl_nb.open(directory).dataset is not None  # a clean directory reads back
    # what someone might leave in a directory they hand over
    for name in ("__init__.py", "sitecustomize.py", "usercustomize.py", "conftest.py", "evil.py"):
        (directory / name).write_text(f"open({str(marker)!r}, 'w').close()\n")
    (directory / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    (directory / "kt").mkdir()
    (directory / "kt" / "tuner0.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    np.savez(
        directory / "data.npz",
        x_train=np.array([_Payload(marker)], dtype=object),
        y_train=y,
        x_val=x,
        y_val=y,
    )  # an object array: a pickle inside the .npz
    search = automl_nb.open(directory)
    assert not marker.exists()
    assert search.dataset is None  # refused, not unpickled
    assert "could not be read back" in caplog.text
    answer = search.start()  # says why it cannot train; raises nothing
    assert not answer and "could not be read back, so it cannot train" in str(answer)
    assert search.results.empty and search.state is SearchState.IDLE
    # the command line's open reads it the same way
    out = subprocess.run(
        [sys.executable, "-m", "automl_nb", "open", str(directory)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert not marker.exists()


# -- real TensorFlow: trials that fail, and the files a search writes ----------------------------


def _fault_build():
    import keras

    from automl_nb.data.layers import epoch_passes

    # iris: 120 training samples at batch 32, passed over 5 times an epoch: 19 batches
    batches = math.ceil(120 * epoch_passes(120, None) / 32)

    class Fault(keras.layers.Layer):
        """Does nothing, except in training: runs out of memory, raises, or turns the input NaN
        from the first batch of epoch 3."""

        def __init__(self, fault: str = "none", **kwargs):
            super().__init__(**kwargs)
            self.fault = fault

        def build(self, input_shape):
            self.steps = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="steps"
            )

        def call(self, x, training=None):
            if training and self.fault == "memory":
                raise MemoryError()
            if training and self.fault == "raise":
                raise RuntimeError("the data loader fell over")
            if training and self.fault == "nan":
                self.steps.assign_add(1.0)
                x = x + keras.ops.where(self.steps > 2.0 * batches, float("nan"), 0.0)
            return x

    def build(hp):
        fault = hp.Choice("fault", ["none", "memory", "raise", "nan"])
        model = keras.Sequential(
            [keras.Input((4,)), Fault(fault), keras.layers.Dense(3, activation="softmax")]
        )
        model.compile(
            keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    return build


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """One real search whose enqueued trials run out of memory, raise, train, and hit NaN."""
    directory = tmp_path_factory.mktemp("faults") / "search"
    s = automl_nb.search(
        "iris",
        space=_fault_build(),
        oracle="random",
        trials=1,
        epochs=3,
        seed=0,
        directory=directory,
        start=False,
    )
    for fault in ("memory", "raise", "none", "nan"):
        assert s.enqueue({"fault": fault})
    assert s.start()
    s.wait(300)
    yield s
    if not s.state.is_finished():
        s.stop()
        s.wait(60)


@pytest.mark.slow
def test_real_trials_that_fail_are_marked_and_the_search_goes_on(faulty):
    assert faulty.state is SearchState.DONE, faulty.error
    trials = faulty.record.trials
    assert [(t.trial_id, t.hyperparameters["fault"], t.status) for t in trials.values()][:4] == [
        ("0000", "memory", "failed"),
        ("0001", "raise", "failed"),
        ("0002", "none", "completed"),
        ("0003", "nan", "failed"),
    ]
    assert trials["0000"].reason == "ran out of memory; try a smaller model or batch size"
    assert trials["0001"].reason == "RuntimeError: the data loader fell over"
    assert trials["0003"].reason == "loss became NaN at epoch 3; try a lower learning rate"
    # stopped at once: the epochs before the NaN are kept, no third epoch ends
    assert [epoch for epoch, _ in trials["0003"].curve] == [1, 2]
    assert trials["0002"].score is not None and faulty.best_hyperparameters() == {"fault": "none"}


@pytest.mark.slow
def test_a_search_writes_only_json_npz_and_hdf5(faulty, tmp_path):
    exported = faulty.export(tmp_path / "best.keras")
    written = [p for p in faulty.directory.rglob("*") if p.is_file()]
    written += [exported, Path(str(exported) + ".json")]
    kinds = set()
    for path in written:
        head = path.read_bytes()[:8]
        assert not head.startswith(b"\x80"), f"{path} looks like a pickle"
        if path.suffix in (".json", ".jsonl"):
            text = path.read_text()
            (
                json.loads(text)
                if path.suffix == ".json"
                else [json.loads(ln) for ln in text.splitlines()]
            )
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                assert all(arrays[k].dtype != object for k in arrays.files)
        elif path.suffix == ".npy":  # a built-in space's validation predictions
            assert np.load(path, allow_pickle=False).dtype != object
        elif path.name == LOCK_NAME:  # the owner's OS lock: an empty file to flock
            assert path.read_bytes() == b""
        elif path.suffix == ".h5":
            assert head == b"\x89HDF\r\n\x1a\n"
        elif path.suffix == ".keras":  # a zip of JSON and HDF5 weights
            with zipfile.ZipFile(path) as z:
                assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        else:
            pytest.fail(f"a search wrote {path.name}, which is not JSON, .npz, .npy or HDF5")
        kinds.add(path.suffix)
    # a bundled set's data is not copied; the owner's lock file is there while it may run
    assert kinds == {".json", ".jsonl", ".h5", ".keras", ".lock"}


@pytest.mark.slow
def test_a_model_file_with_code_in_it_is_refused_not_run(tmp_path):
    """``automl_nb.load`` opens .keras files in Keras's safe mode: a Lambda's code never runs."""
    import keras

    marker = tmp_path / "PWNED"

    # a lambda is saved as its bytecode: what a malicious file would carry
    run_me = lambda x, path=str(marker): (open(path, "w").close(), x)[1]
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(run_me), keras.layers.Dense(3)]
    )
    model.save(tmp_path / "gift.keras")
    marker.unlink(missing_ok=True)  # building the model above ran it once, here, on purpose
    with pytest.raises(ValueError, match="safe_mode"):
        _ = automl_nb.load(tmp_path / "gift.keras").model
    assert not marker.exists()
