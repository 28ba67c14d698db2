"""Tiny real searches with TensorFlow: seconds each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import automl_nb
from automl_nb import SearchState
from automl_nb._entry import open_search
from automl_nb.errors import SearchError

from .conftest import held_by_pause, trials_in_journal, wait_for

pytestmark = pytest.mark.slow


def test_bayesian_search_on_digits_exports_a_plain_keras_file(tmp_path, searches):
    """Export the best trial, then final_fit and export again: plain Keras opens both in a
    fresh process (where automl_nb cannot be imported) and predicts what the kernel does."""
    s = automl_nb.search("digits", oracle="bayesian", trials=3, epochs=2, seed=0, directory=tmp_path / "d")
    searches.append(s)
    assert s.state is SearchState.RUNNING  # returned at once, training in the background
    assert s.wait(240) is SearchState.DONE, s.error
    r = s.results
    assert len(r) == 3 and set(r.status) == {"completed"}
    assert r.score.between(0, 1).all()
    assert {"blocks", "filters", "learning_rate"} <= set(r.columns)
    kinds = [e.kind for e in s.events()]
    assert kinds.count("epoch_ended") == 6 and kinds.count("trial_ended") == 3
    best = s.record.best()
    assert s.best_hyperparameters() == best.hyperparameters
    path = s.export(tmp_path / "out" / "best.keras")
    meta = json.loads((tmp_path / "out" / "best.keras.json").read_text())
    assert meta["class_names"] == [str(i) for i in range(10)]
    assert meta["objective"] == "val_accuracy" and meta["score"] == pytest.approx(best.score)
    assert meta["final_fit"] is False
    rows = np.asarray(s.dataset.x_val[:6])
    np.save(tmp_path / "rows.npy", rows)
    searched = s.best_model().predict(rows, verbose=0)
    # final fit: the best trial (or each of the ensemble's) retrained on training + validation
    # data, then exported
    final = s.final_fit(epochs=2)
    weights = s.ensemble_weights()
    assert s.record.last_command.message == (
        f"trials {', '.join(weights)} of the ensemble retrained on all data for "
        f"{', '.join('2' for _ in weights)} epochs, with the same weights" if weights
        else f"trial {best.trial_id} retrained on all data for 2 epochs")
    final_path = s.export(tmp_path / "out" / "final.keras")
    final_meta = json.loads((tmp_path / "out" / "final.keras.json").read_text())
    assert final_meta["final_fit"] is True and final_meta["trial_id"] == best.trial_id
    refit = final.predict(rows, verbose=0)
    assert not np.allclose(refit, searched)  # a model of its own, not the search's
    code = textwrap.dedent(f"""
        import sys
        sys.modules["automl_nb"] = None  # plain Keras only
        import numpy as np, keras
        rows = np.load({str(tmp_path / "rows.npy")!r})
        for name in ("best", "final"):
            m = keras.saving.load_model({str(tmp_path / "out")!r} + f"/{{name}}.keras", safe_mode=True)
            np.save({str(tmp_path)!r} + f"/{{name}}.npy", m.predict(rows, verbose=0))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "best.npy"), searched, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "final.npy"), refit, rtol=1e-5, atol=1e-6)
    assert final_path.exists() and path.exists()
    with pytest.raises(SearchError, match="must end in .keras"):
        s.export(tmp_path / "best.h5")


def test_random_search_on_iris_then_reopen_and_continue(tmp_path, searches):
    s = automl_nb.search("iris", oracle="random", trials=2, epochs=2, seed=1, directory=tmp_path / "i")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    again = open_search(tmp_path / "i")
    searches.append(again)
    assert again.state is SearchState.DONE
    assert again.results[["trial_id", "status", "score"]].equals(s.results[["trial_id", "status", "score"]])
    model = again.best_model()
    assert model.output_shape == (None, 3)
    assert again.extend(trials=1)
    assert again.wait(240) is SearchState.DONE, again.error
    assert list(again.results.trial_id) == ["0000", "0001", "0002"]


def test_hyperband_rounds_continue_their_parents(tmp_path, searches):
    s = automl_nb.search("iris", oracle="hyperband", epochs=3, trials=None, seed=0,
                         directory=tmp_path / "h")
    searches.append(s)
    assert s.wait(300) is SearchState.DONE, s.error
    trials = s.record.trials.values()
    children = [t for t in trials if t.parent_id]
    assert children, "hyperband trained no trial on"
    for child in children:
        parent = s.record.trials[child.parent_id]
        assert child.initial_epoch >= 1 and child.curve[0][0] == child.initial_epoch + 1
        assert child.hyperparameters == parent.hyperparameters
        # a later round of the same bracket, its epochs numbered on from the parent's
        assert child.info["bracket"] == parent.info["bracket"]
        assert child.info["round"] == parent.info["round"] + 1
        assert child.initial_epoch == parent.epochs


def test_pause_prune_promote_in_a_real_search(tmp_path, searches, batches):
    """Counted in batches Keras trains: a pause holds after at most one, a prune stops after
    at most one, and a promoted trial trains on from its parent's best epoch."""
    # patience=None: trial 0000 must train on after Resume, not stop early on a plateau
    s = automl_nb.search("iris", oracle="random", trials=3, epochs=2000, seed=2, patience=None,
                         directory=tmp_path / "p")
    searches.append(s)
    wait_for(lambda: len(batches["0000"]) >= 10, timeout=180, what="ten batches")
    tid = "0000"
    assert s.pause()
    at_pause = len(batches[tid])
    wait_for(lambda: held_by_pause(s), timeout=30, what="the search thread to hold")
    held = len(batches[tid])
    assert held - at_pause <= 1  # the batch in flight, no other
    time.sleep(1.0)  # watch: nothing trains while paused
    assert held_by_pause(s) and len(batches[tid]) == held
    assert s.resume()
    wait_for(lambda: len(batches[tid]) >= held + 10, timeout=60, what="training to go on")
    assert s.record.trials[tid].status == "running"  # the same trial, continued
    assert s.prune(tid)
    at_prune = len(batches[tid])
    wait_for(lambda: s.record.trials[tid].status == "pruned", timeout=30, what="the prune")
    assert len(batches[tid]) - at_prune <= 1
    assert s.record.trials[tid].score is not None
    wait_for(lambda: len(s.record.trials) >= 2, timeout=60, what="the next trial")
    assert len(batches[tid]) - at_prune <= 1  # and never trained again
    s.stop()
    assert s.wait(60) is SearchState.DONE
    # promote the pruned trial: weights and optimizer state come back
    assert s.promote(tid, epochs=2)
    assert s.wait(120) is SearchState.DONE, s.error
    # after a stop, a promotion runs just that trial
    assert [t.source for t in s.record.trials.values()][-1] == "promoted"
    child = next(t for t in s.record.trials.values() if t.parent_id == tid)
    parent = s.record.trials[tid]
    assert child.initial_epoch == parent.epochs
    assert [e for e, _ in child.curve] == [parent.epochs + 1, parent.epochs + 2]
    best_epoch_end = [b for b in batches[tid] if b.epoch == parent.best_epoch - 1][-1]
    assert batches[child.trial_id][0].iterations == best_epoch_end.iterations + 1


def test_promote_restores_the_optimizer_state(tmp_path, searches):
    s = automl_nb.search("iris", oracle="random", trials=1, epochs=3, seed=3, directory=tmp_path / "o")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE
    model = s.best_model("0000")  # built, then its checkpoint restored with the optimizer state
    iterations = int(np.asarray(model.optimizer.iterations))
    assert iterations > 0  # the step count (and Adam's moments) came back with the weights


def test_a_build_that_always_raises_fails_the_search_at_once(tmp_path, searches):
    def build(hp):
        raise ValueError("my layer is broken")

    # search() builds a custom space once before it writes anything (tests/test_bad_input.py);
    # a search reopened with a broken build fails on its thread, with one sentence
    s = automl_nb.search("iris", oracle="random", trials=5, epochs=1, directory=tmp_path / "b", start=False)
    s = open_search(tmp_path / "b", space=build)
    searches.append(s)
    assert s.start()
    assert s.wait(240) is SearchState.FAILED
    assert s.error == "build(hp) raised ValueError: my layer is broken; fix it and start the search again"
    assert s.results.empty


def test_a_failing_build_fails_its_trials_and_the_search_says_why(tmp_path, searches):
    calls = []

    import keras

    def build(hp):
        units = hp.Int("units", 4, 8)
        calls.append(1)
        if len(calls) > 1:  # search() checks the first build, which also declares the space
            raise ValueError("my layer is broken")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    s = automl_nb.search("iris", space=build, oracle="random", trials=5, epochs=1, seed=0,
                         directory=tmp_path / "f")
    searches.append(s)
    assert s.wait(240) is SearchState.FAILED
    assert "3 trials in a row failed" in s.error and "my layer is broken" in s.error
    r = s.results
    assert (r.status == "failed").all() and len(r) == 3
    assert all("my layer is broken" in s.record.trials[t].reason for t in r.trial_id)


def test_a_custom_space_is_built_once_to_check_it_and_once_a_trial(tmp_path, searches):
    """search() builds the user's model once to check it; the tuner takes the space from that
    build instead of building the model again (a build less at every start); a conditional
    scope the check left inactive is still found by KerasTuner's own builds."""
    import keras

    calls = []

    def build(hp):
        calls.append(1)
        depth = hp.Choice("depth", [1, 2], default=1)
        units = hp.Int("units", 4, 8, step=4)
        layers = [keras.Input((4,)), keras.layers.Dense(units)]
        with hp.conditional_scope("depth", [2]):
            if depth == 2:
                layers.append(keras.layers.Dense(hp.Int("second", 2, 4, step=2)))
        model = keras.Sequential(layers + [keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def flat(hp):
        calls.append(1)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 4, 8, step=4)),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    s = automl_nb.search("iris", space=flat, oracle="random", trials=2, epochs=1, seed=0,
                         warm_start=False, directory=tmp_path / "flat")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    assert len(calls) == 1 + 2  # the check, then one build a trial
    assert [h["name"] for h in s.record.space] == ["units"]

    calls.clear()
    s = automl_nb.search("iris", space=build, oracle="random", trials=1, epochs=1, seed=0,
                         warm_start=False, directory=tmp_path / "conditional")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    assert len(calls) == 1 + 2 + 1  # the check, KerasTuner's two (depth 1, then 2), the trial
    assert {h["name"] for h in s.record.space} == {"depth", "units", "second"}


def test_a_small_training_split_trains_min_steps_batches_an_epoch(tmp_path, searches):
    """On 60 training rows an epoch of batch 16 would be 4 batches; the trial's fit goes over
    them 5 times an epoch (16 full batches), counted by a metric of the samples seen, and its
    info says so. A promotion trains its epochs the same way."""
    import keras

    from automl_nb.data.layers import MIN_STEPS, epoch_passes

    class Seen(keras.metrics.Metric):
        def __init__(self, name="seen", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.total.assign_add(keras.ops.cast(keras.ops.shape(y_true)[0], "float32"))

        def result(self):
            return self.total + 0.0  # a value, not the variable evaluate resets

    def build(hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("units", 2, 4, step=2)),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[Seen()])
        return model

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 3)).astype("float32"), np.arange(80) % 2
    passes = epoch_passes(60, 16)
    assert passes == 5 and 60 * passes >= MIN_STEPS * 16
    s = automl_nb.search((x[:60], y[:60]), validation=(x[60:], y[60:]), space=build, oracle="random",
                         trials=1, epochs=2, batch_size=16, seed=0, warm_start=False,
                         objective="val_loss", directory=tmp_path / "s")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    epochs = [e for e in s.events() if e.kind == "epoch_ended"]
    assert [e.metrics["seen"] for e in epochs] == [60.0 * passes] * 2
    assert [e.metrics["val_seen"] for e in epochs] == [20.0] * 2  # validation: once
    assert s.record.trials["0000"].info["passes"] == passes
    assert s.promote("0000", epochs=1)
    assert s.wait(240) is SearchState.DONE, s.error
    more = [e for e in s.events() if e.kind == "epoch_ended" and e.trial_id != "0000"]
    assert [e.metrics["seen"] for e in more] == [60.0 * passes]


def test_nan_loss_fails_the_trial_with_advice(tmp_path, searches):
    import keras

    def build(hp):
        lr = hp.Float("learning_rate", 1e-3, 1e-2)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        def exploding(y_true, y_pred):  # the log of a negative number: NaN from the first batch
            return keras.ops.log(keras.ops.mean(y_pred) - 2.0)

        model.compile(optimizer=keras.optimizers.SGD(lr), loss=exploding, metrics=["accuracy"])
        return model

    s = automl_nb.search("iris", space=build, oracle="random", trials=1, epochs=3, seed=0,
                         directory=tmp_path / "n")
    searches.append(s)
    s.wait(240)
    trial = s.record.trials["0000"]
    assert trial.status == "failed"
    assert trial.reason == "loss became NaN at epoch 1; try a lower learning rate"


def test_same_seed_same_trials_and_with_deterministic_the_same_scores(tmp_path, searches):
    runs = []
    for i, deterministic in enumerate((False, False, True, True)):
        s = automl_nb.search("iris", oracle="bayesian", trials=3, epochs=2, seed=7,
                             deterministic=deterministic, directory=tmp_path / f"r{i}")
        searches.append(s)
        assert s.wait(240) is SearchState.DONE
        runs.append(s.results.drop(columns=["duration_s"]))
    hps = [c for c in runs[0].columns if c not in ("score", "epochs")]
    assert all(run[hps].equals(runs[0][hps]) for run in runs)  # the same trials, every time
    assert runs[2].equals(runs[3])  # and with deterministic=True, bit-identical scores


def test_a_seeded_search_changes_no_global_state(tmp_path, searches):
    import random

    from keras_tuner.src import config as kt_config
    from tensorflow.python.framework import config

    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), float(np.random.random()))
    random.seed(11)
    np.random.seed(11)
    s = automl_nb.search("iris", oracle="random", trials=2, epochs=1, seed=3, deterministic=True,
                         directory=tmp_path / "g")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE
    assert (random.random(), float(np.random.random())) == expected  # the user's streams, untouched
    assert not config.is_op_determinism_enabled()  # on only while that search ran
    assert bool(kt_config.DEBUG) is True  # KerasTuner's traceback flag, as the user had it


def test_bad_arguments_answer_with_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="oracle 'baysian' is not known"):
        automl_nb.search("digits", oracle="baysian", directory=tmp_path / "x")
    with pytest.raises(SearchError, match="trials must be at least 1"):
        automl_nb.search("digits", trials=0, directory=tmp_path / "x")
    with pytest.raises(SearchError, match="objective 'val_acc' is not a metric"):
        automl_nb.search("digits", objective="val_acc", directory=tmp_path / "x")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SearchError, match="is a file"):
        automl_nb.search("digits", directory=tmp_path / "afile")
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_another_search_directory_needs_overwrite(tmp_path, searches):
    s = automl_nb.search("iris", oracle="random", trials=1, epochs=1, directory=tmp_path / "same",
                         start=False)
    searches.append(s)
    with pytest.raises(SearchError, match="already holds a search; pass overwrite=True"):
        automl_nb.search("iris", directory=tmp_path / "same")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(SearchError, match="not empty and holds no search"):
        automl_nb.search("iris", directory=tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_an_oracle_file_torn_by_a_crash_does_not_lose_the_search(tmp_path, searches):
    directory = tmp_path / "torn"
    s = automl_nb.search("iris", oracle="random", trials=1, epochs=1, seed=5, directory=directory)
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    score = s.record.trials["0000"].score
    (directory / "kt" / "oracle.json").write_text("")  # as a kill mid-save leaves it
    again = open_search(directory)
    searches.append(again)
    assert again.record.trials["0000"].score == score  # the journal has every finished trial
    assert again.extend(trials=1)
    assert again.wait(240) is SearchState.DONE, again.error
    assert [e.trial_id for e in again.events() if e.kind == "trial_started"] == ["0000", "0001"]


CRASH_SCRIPT = """
import sys, automl_nb
s = automl_nb.search("iris", oracle="random", trials=4, epochs=20, seed=4, directory=sys.argv[1])
s.wait()
"""


def test_a_trial_that_ended_just_before_a_crash_is_not_run_again(tmp_path, searches):
    """KerasTuner saves oracle.json inside end_trial before it drops the trial from its ongoing
    trials: a kill right after a trial ends leaves oracle.json as it is made here."""
    directory = tmp_path / "window"
    s = automl_nb.search("iris", oracle="random", trials=1, epochs=1, seed=5, directory=directory)
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    oracle_file = directory / "kt" / "oracle.json"
    state = json.loads(oracle_file.read_text())
    assert state["ongoing_trials"] == {}
    state["ongoing_trials"] = {"tuner0": "0000"}  # as saved inside end_trial
    oracle_file.write_text(json.dumps(state))
    again = open_search(directory)
    searches.append(again)
    assert again.extend(trials=1)
    assert again.wait(240) is SearchState.DONE, again.error
    started = [e.trial_id for e in again.events() if e.kind == "trial_started"]
    assert started == ["0000", "0001"]  # 0000 ran once; the new budget went to a new trial
    assert json.loads(oracle_file.read_text())["end_order"] == ["0000", "0001"]


def test_sigkill_mid_search_loses_at_most_the_running_trial(tmp_path, searches):
    directory = tmp_path / "crash"
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(trials_in_journal(directory, finished=2), timeout=240, interval=0.2,
                 what="two finished trials and a third running")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    again = open_search(directory)
    searches.append(again)
    finished = {t.trial_id: t.score for t in again.record.finished_trials() if t.status == "completed"}
    assert len(finished) >= 2
    interrupted = [t for t in again.record.trials.values() if t.reason and "interrupted" in t.reason]
    assert interrupted
    assert again.start()
    assert again.wait(300) is SearchState.DONE, again.error
    r = again.results.set_index("trial_id")
    for tid, score in finished.items():  # no finished trial lost or run again
        assert r.loc[tid, "status"] == "completed" and r.loc[tid, "score"] == score
        starts = [e for e in again.events() if e.kind == "trial_started" and e.trial_id == tid]
        assert len(starts) == 1
    assert len(r) == 4 and set(r.status) == {"completed"}
    assert os.path.exists(directory / "events.jsonl")
