"""Parallel trials: searches whose trials run in worker processes (``workers=N``).

Tiny real searches (iris, random oracle): each test starts two worker processes, which
import TensorFlow, so each takes some seconds. Every process a test starts is killed at
teardown, even when the test fails.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import automl_nb
from automl_nb import SearchState
from automl_nb._entry import open_search
from automl_nb.data.layers import epoch_passes
from automl_nb.errors import SearchError
from automl_nb.ui.text import trial_line

from .conftest import dense_units, trials_in_journal, wait_for, waiting_in


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead; our pool reaps its children, but be sure
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


@pytest.fixture
def pooled(searches):
    """Searches with workers: stopped at teardown, and any worker process left is killed."""
    made = []
    extra: list[subprocess.Popen] = []
    yield made, extra
    for proc in extra:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for s in made:
        if s._thread is not None and not s.state.is_finished():
            s.stop()
        s.wait(60)
    left = [pid for s in made if s.workers for pid in s.workers.pids if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes outlived their search: {left}"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _held(s, since: float) -> bool:
    """Every worker of ``s`` has polled the chief since ``since`` (so it knows of the pause)
    and its process has used no CPU for 0.3 s: blocked at a batch, nothing training or
    validating."""
    members = list(s.workers.members.values())
    if not members or any(m.seen is None or m.seen <= since for m in members):
        return False
    before = [_cpu_seconds(m.proc.pid) for m in members]
    time.sleep(0.3)
    return [_cpu_seconds(m.proc.pid) for m in members] == before


def _search(pooled, tmp_path, name, **kwargs):
    made, _ = pooled
    kwargs.setdefault("oracle", "random")
    kwargs.setdefault("seed", 0)
    s = automl_nb.search("iris", directory=tmp_path / name, workers=2, **kwargs)
    made.append(s)
    return s


def test_bad_worker_arguments_say_what_works(tmp_path):
    def build(hp):
        raise AssertionError("never built")

    with pytest.raises(SearchError, match="workers=N needs the built-in space or a space importable"):
        automl_nb.search("iris", space=build, workers=2, directory=tmp_path / "c", start=False)
    with pytest.raises(SearchError, match="module 'no_such_module' cannot be imported"):
        automl_nb.search("iris", space="no_such_module:build", workers=2, directory=tmp_path / "d")
    with pytest.raises(SearchError, match="workers must be at least 1"):
        automl_nb.search("iris", workers=0, directory=tmp_path / "e")
    with pytest.raises(SearchError, match="listen must be a host such as '0.0.0.0' or 'HOST:PORT'"):
        automl_nb.search("iris", workers=2, listen=5, directory=tmp_path / "f")
    with pytest.raises(SearchError, match="listen '0.0.0.0:x' has no valid port"):
        automl_nb.search("iris", workers=2, listen="0.0.0.0:x", directory=tmp_path / "g")


def test_a_kerastuner_call_before_the_oracle_exists_imports_nothing_on_the_serving_thread(monkeypatch):
    """gRPC finds a call's handler on its one serving thread: importing KerasTuner there, while
    the search thread imports it, once failed a chief with a half-initialised module. Before
    the chief's oracle exists, the Oracle service answers with a handler of bytes that makes
    the real handlers later, on the pool thread that runs the call."""
    import threading
    from types import SimpleNamespace

    from automl_nb.backends.workers import rpc

    made = []

    def servicer(pool):
        made.append(threading.current_thread().name)
        return "servicer"

    real = SimpleNamespace(request_deserializer=bytes.decode, response_serializer=str.encode,
                           unary_unary=lambda request, context: request.upper())
    monkeypatch.setattr(rpc, "_oracle_servicer", servicer)
    monkeypatch.setattr(rpc, "_capture_handlers", lambda s: {"/keras_tuner.Oracle/CreateTrial": real})
    ready = threading.Event()
    handlers = rpc.oracle_handlers(pool=None, ready=ready)
    call = rpc._Call("/keras_tuner.Oracle/CreateTrial")
    early = handlers.service(call)
    assert made == [] and early.request_deserializer is None  # bytes, nothing imported
    assert handlers.service(rpc._Call("/keras_tuner.Oracle/NoSuchMethod")) is None
    assert handlers.service(rpc._Call("/automl_nb.Chief/Hello")) is None  # not this service's
    answer = []
    worker = threading.Thread(target=lambda: answer.append(early.unary_unary(b"trial", None)),
                              name="pool")
    worker.start()
    # it waits for the oracle: blocked in the handler's untimed wait, having made nothing
    wait_for(lambda: waiting_in(worker, "late", os.path.join("workers", "rpc.py")),
             what="the early call to wait for the oracle")
    assert answer == [] and made == []
    ready.set()
    worker.join(10)
    assert answer == [b"TRIAL"] and made == ["pool"]
    assert handlers.service(call) is real  # from now on, the real handler itself


def test_the_pool_is_what_the_oracle_service_asks_of_the_chief():
    """rpc knows the chief only through ``OracleHost`` (no import of chief: no cycle); the
    pool has each of its members, a method where it asks for a method."""
    import inspect

    from automl_nb.backends.workers.chief import WorkerPool
    from automl_nb.backends.workers.rpc import OracleHost

    members = {n: v for n, v in vars(OracleHost).items() if not n.startswith("_")}
    assert set(members) == {"oracle", "guarded", "create_trial", "end_trial"}
    for name, spec in members.items():
        theirs = inspect.getattr_static(WorkerPool, name)
        assert type(theirs) is type(spec), name  # a property for a property, a function for one
        if inspect.isfunction(spec):
            assert list(inspect.signature(theirs).parameters) == list(
                inspect.signature(spec).parameters), name


@pytest.mark.slow
def test_a_worker_imports_tensorflow_without_sklearn_and_pandas_yet_both_import_after():
    code = (
        "import sys\n"
        "from automl_nb.backends.workers import import_tensorflow\n"
        "import_tensorflow()\n"
        "assert 'keras' in sys.modules and 'tensorflow' in sys.modules\n"
        "print(sorted(n for n in ('sklearn', 'pandas') if n in sys.modules))\n"
        "import pandas, sklearn.linear_model\n"  # a build(hp) module may import them
        "print(pandas.DataFrame({'a': [1]}).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "(1, 1)"]


@pytest.mark.slow
def test_two_workers_finish_a_search(tmp_path, pooled, tiny_space):
    """With a space named module:build (the built-in space with workers: tests/test_real_tensorflow.py
    ::test_workers_from_the_command_line and the other tests here)."""
    s = _search(pooled, tmp_path, "two", trials=4, epochs=2, space=tiny_space)
    assert s.wait(240) is SearchState.DONE, s.error
    r = s.results
    assert list(r.trial_id) == ["0000", "0001", "0002", "0003"]
    assert set(r.status) == {"completed"} and r.score.notna().all()
    started = [e for e in s.events() if e.kind == "trial_started"]
    assert len(started) == 4 and all(e.info.get("worker") in ("w0", "w1") for e in started)
    passes = epoch_passes(len(s.dataset.y_train), None)  # 120 iris rows, batch 32: 5 passes
    assert passes > 1 and all(e.info.get("passes") == passes for e in started)
    assert [e.kind for e in s.events()].count("epoch_ended") == 8
    assert next(e for e in s.events() if e.kind == "search_started").workers == 2
    ended = next(e for e in s.events() if e.kind == "trial_ended")
    worker = s.record.trials[ended.trial_id].info["worker"]
    assert f"  on {worker}  " in trial_line(ended, s)  # the command line says where it ran
    assert {"units", "lr"} <= set(r.columns) and r.units.isin([4, 8, 12, 16]).all()
    model = s.best_model()  # the chief's tuner rebuilds it and reads the workers' checkpoints
    assert model.output_shape == (None, 3)
    assert dense_units(model) == [s.record.best().hyperparameters["units"], 3]
    assert len(s.workers.pids) == 2 and not any(_alive(p) for p in s.workers.pids)
    assert all(k not in os.environ for k in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP"))


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_trial_fails(tmp_path, pooled):
    s = _search(pooled, tmp_path, "kill", trials=3, epochs=10)
    wait_for(lambda: s.record.running and s.record.running.curve, timeout=120, what="a first epoch")
    with s.lock:
        victim = s.record.running.trial_id
    worker = next(e.info["worker"] for e in s.events() if e.kind == "trial_started" and e.trial_id == victim)
    pid = s.workers.members[worker].proc.pid
    os.kill(pid, signal.SIGKILL)
    assert s.wait(240) is SearchState.DONE, s.error
    trial = s.record.trials[victim]
    assert trial.status == "failed"
    ended = next(e for e in s.events() if e.kind == "trial_ended" and e.trial_id == victim)
    assert ended.reason == f"worker {worker} was killed by SIGKILL"
    assert len(s.results) == 3
    assert {t.status for t in s.record.trials.values() if t.trial_id != victim} == {"completed"}
    assert len(s.workers.pids) == 3  # a new worker took its place
    assert not any(_alive(p) for p in s.workers.pids)


@pytest.mark.slow
def test_pause_and_prune_reach_a_trial_in_a_worker(tmp_path, pooled):
    # patience=None: both trials must still be training when they are paused and pruned
    s = _search(pooled, tmp_path, "steer", trials=2, epochs=500, patience=None, listen="127.0.0.1")
    wait_for(lambda: len(s.record.trials) == 2 and all(t.curve for t in s.record.trials.values()),
             timeout=120, what="both trials training")
    paused_at = time.monotonic()
    assert s.pause()
    wait_for(lambda: _held(s, paused_at), timeout=60, interval=0.05, what="both workers to hold")
    with s.lock:
        before = {t.trial_id: len(t.curve) for t in s.record.trials.values()}
    # meanwhile, a worker with the wrong token is refused (before it imports TensorFlow)
    _, extra = pooled
    env = {**os.environ, "AUTOML_NB_TOKEN": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_nb", "worker", "--chief", s.workers.address, "--token", "wrong",
         "--fingerprint", s.workers.fingerprint],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    extra.append(proc)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "refused this worker: its --token is not the search's" in err
    with s.lock:
        after = {t.trial_id: len(t.curve) for t in s.record.trials.values()}
    assert after == before  # nothing trained while paused, in either worker
    assert s.prune("0001")
    wait_for(lambda: s.record.trials["0001"].status == "pruned", timeout=30, what="the prune")
    assert s.record.trials["0001"].score is not None
    assert s.record.trials["0000"].status == "running"
    assert s.resume()
    wait_for(lambda: len(s.record.trials["0000"].curve) > after["0000"], timeout=30, what="training again")
    assert s.stop()
    assert s.wait(60) is SearchState.DONE
    assert s.record.trials["0000"].status == "stopped"
    assert not any(_alive(p) for p in s.workers.pids)


CHIEF_SCRIPT = """
import sys, automl_nb
s = automl_nb.search("iris", oracle="random", trials=5, epochs=15, seed=3, workers=2,
                     directory=sys.argv[1])
s.wait()
"""


@pytest.mark.slow
def test_a_killed_chief_loses_only_running_trials_and_reopens_with_its_workers(tmp_path, pooled):
    directory = tmp_path / "chief"
    proc = subprocess.Popen([sys.executable, "-c", CHIEF_SCRIPT, str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, extra = pooled
    extra.append(proc)

    wait_for(trials_in_journal(directory, finished=1), timeout=180, interval=0.05,
             what="a trial finished, another running")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    old_pids = [int(m) for log in (directory / "workers").glob("*.log")
                for m in re.findall(r"automl-nb worker \w+: pid (\d+)", log.read_text())]
    assert len(old_pids) >= 2
    wait_for(lambda: not any(_alive(p) for p in old_pids), timeout=30, interval=0.1,
             what="the dead chief's workers to die with it")

    made, _ = pooled
    again = open_search(directory)  # workers=2, as the search had
    made.append(again)
    assert again.workers is not None and again.workers.n == 2
    finished = {t.trial_id: t.score for t in again.record.finished_trials() if t.status == "completed"}
    assert finished
    assert any(t.reason and "interrupted" in t.reason for t in again.record.trials.values())
    assert again.start()
    assert again.wait(240) is SearchState.DONE, again.error
    r = again.results.set_index("trial_id")
    assert len(r) == 5 and set(r.status) == {"completed"}
    for tid, score in finished.items():  # no finished trial lost or run again
        assert r.loc[tid, "score"] == score
        assert sum(e.kind == "trial_started" and e.trial_id == tid for e in again.events()) == 1
    second = [e for e in again.events() if e.kind == "trial_started"][-1]
    assert second.info.get("worker") in ("w0", "w1")  # the continued trials ran in workers
    assert not any(_alive(p) for p in again.workers.pids)

    in_process = open_search(directory, workers=1)
    assert in_process.workers is None and in_process.settings.workers == 1
    with pytest.raises(SearchError, match="workers must be at least 1; got 0"):
        open_search(directory, workers=0)


@pytest.mark.slow
def test_promote_and_enqueue_go_to_the_next_free_worker(tmp_path, pooled):
    s = _search(pooled, tmp_path, "promo", trials=3, epochs=4, start=False)
    # queued first, with a learning rate that learns iris within a few epochs: the trial promoted
    assert s.enqueue({"units": 32, "learning_rate": 0.01})
    assert s.start()
    wait_for(lambda: s.record.trials.get("0000") and s.record.trials["0000"].status == "completed",
             timeout=180, interval=0.05, what="the queued trial to finish")
    assert s.promote("0000", epochs=2)
    assert s.wait(240) is SearchState.DONE, s.error
    trials = list(s.record.trials.values())
    assert len(trials) == 5 and {t.status for t in trials} == {"completed"}
    parent = s.record.trials["0000"]
    child = next(t for t in trials if t.parent_id == "0000")
    assert parent.source == "enqueued" and parent.info["worker"] in ("w0", "w1")
    assert (parent.hyperparameters["units"], parent.hyperparameters["learning_rate"]) == (32, 0.01)
    assert child.source == "promoted" and child.info["worker"] in ("w0", "w1")
    # it trained on from the parent's best checkpoint in a worker: its epochs number on, and its
    # first epoch's loss is near the parent's at that epoch, not back at a fresh model's first
    assert [e for e, _ in child.curve] == [parent.epochs + 1, parent.epochs + 2]
    fresh = parent.curve[0][1]["loss"]
    at_best = parent.curve[parent.best_epoch - 1][1]["loss"]
    assert parent.best_epoch > 1 and at_best < fresh, parent.curve  # it learned: the check can tell
    own = child.curve[0][1]["loss"]
    assert abs(own - at_best) < abs(own - fresh), (own, at_best, fresh)


@pytest.mark.slow
def test_a_worker_started_by_hand_joins_with_the_token_and_leaves_when_the_search_ends(tmp_path, pooled):
    made, extra = pooled
    s = automl_nb.search("iris", oracle="random", trials=6, epochs=10, seed=1, workers=1,
                         listen="127.0.0.1", directory=tmp_path / "remote", start=False)
    made.append(s)
    assert s.start() and s.pause()  # no trial starts until the hand-started worker is ready
    wait_for(lambda: s.workers.address, timeout=30, what="the chief's address")
    command = s.workers.join_command().split()
    assert command[:3] == ["python", "-m", "automl_nb"]
    assert command[-4:] == ["--token", s.workers.token, "--fingerprint", s.workers.fingerprint]
    log = tmp_path / "remote.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, *command[1:]], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    extra.append(proc)
    wait_for(lambda: "ready after" in log.read_text(), timeout=120, interval=0.1,
             what="the hand-started worker to be ready")
    wait_for(lambda: "ready after" in (s.directory / "workers" / "w0.log").read_text(),
             timeout=120, interval=0.1, what="the local worker to be ready")
    assert s.resume()
    assert s.wait(240) is SearchState.DONE, s.error
    ran_on = {e.info.get("worker") for e in s.events() if e.kind == "trial_started"}
    remote = [w for w in s.workers.members.values() if w.remote]
    assert len(remote) == 1 and remote[0].id.startswith("r")
    assert ran_on == {"w0", remote[0].id}  # both took trials
    hosts = {e.info["worker"]: e.info.get("host") for e in s.events() if e.kind == "trial_started"}
    assert hosts == {"w0": None, remote[0].id: socket.gethostname()}  # the machine of a joined worker
    assert len(s.results) == 6 and set(s.results.status) == {"completed"}
    assert proc.wait(30) == 0  # it left by itself when the search ended


@pytest.mark.slow
def test_hyperband_rounds_run_across_workers(tmp_path, pooled):
    s = _search(pooled, tmp_path, "hyperband", oracle="hyperband", trials=None, epochs=4)
    assert s.wait(240) is SearchState.DONE, s.error
    trials = list(s.record.trials.values())
    assert {t.status for t in trials} == {"completed"}
    assert {t.info["worker"] for t in trials} == {"w0", "w1"}
    kept = [t for t in trials if t.parent_id is not None]  # a later round trains on a kept trial
    assert kept
    for child in kept:
        parent = s.record.trials[child.parent_id]
        assert child.info["bracket"] == parent.info["bracket"] and child.info["round"] > parent.info["round"]
        assert child.curve[0][0] == parent.epochs + 1  # its curve continues the parent's


@pytest.mark.slow
def test_the_time_budget_stops_the_trials_running_in_workers(tmp_path, pooled, clock):
    """The budget is spent on cue (the chief's clock, moved by hand) once both workers train,
    however long their start-up took on a loaded machine."""
    # trials that train until the budget cuts them: no early stopping, no planned epochs
    s = _search(pooled, tmp_path, "time", trials=None, epochs=5000, time=60, patience=0, start=False)
    s.settings = dataclasses.replace(s.settings, plan=False)
    s.start()
    wait_for(lambda: len(s.record.trials) == 2 and all(t.curve for t in s.record.trials.values()),
             timeout=180, what="both workers training")
    clock.advance(61)
    assert s.wait(120) is SearchState.DONE, s.error
    assert s.record.end_reason == "the time budget is spent"
    trials = list(s.record.trials.values())
    assert len(trials) == 2 and {t.status for t in trials} == {"stopped"}  # no trial began after it
    assert {t.reason for t in trials} == {"the time budget ran out during this trial"}
    assert all(0 < t.epochs < 5000 and t.score is not None for t in trials)
    assert not any(_alive(p) for p in s.workers.pids)


@pytest.mark.slow
def test_a_budget_spent_while_the_workers_start_ends_the_search_saying_so(tmp_path, pooled, clock):
    s = _search(pooled, tmp_path, "late", trials=None, epochs=50, time=10)
    clock.advance(11)  # spent before a worker has imported TensorFlow
    assert s.wait(120) is SearchState.DONE, s.error
    assert s.results.empty
    assert s.record.end_reason == "the time budget is spent"


@pytest.mark.slow
def test_workers_read_an_image_folder_as_the_same_stream(tmp_path, pooled):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "pets"
    for c, name in enumerate(("cat", "dog")):
        (folder / name).mkdir(parents=True)
        for i in range(12):
            Image.fromarray((rng.integers(0, 100, (8, 8, 3)) + 120 * c).astype(np.uint8)).save(
                folder / name / f"{i}.png")
    made, _ = pooled
    s = automl_nb.search(folder, oracle="random", trials=2, epochs=1, seed=0, workers=2,
                         directory=tmp_path / "s")
    made.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    assert set(s.results.status) == {"completed"}
    assert {s.record.trials[t].info.get("worker") for t in s.record.trials} <= {"w0", "w1"}
    assert not (s.directory / "data.npz").exists()  # the workers read the folder itself
    model = s.best_model()  # a worker's checkpoint of the whole model, raw uint8 images in
    images = np.stack([np.asarray(Image.open(p)) for p in s.dataset.x_val.paths])
    assert model.predict(images, verbose=0).shape == (len(images), 2)
