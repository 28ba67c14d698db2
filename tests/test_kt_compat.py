"""One test for each private part of KerasTuner, Keras and TensorFlow that automl-nb touches.

Every touch lives in ``automl_nb/_kt_compat.py``. When a new release moves one of these
parts, the test for it fails here, by name, before a user meets it in a search.
"""

from __future__ import annotations

import random
import threading

import keras
import keras_tuner as kt
import numpy as np
import pytest

from automl_nb import _kt_compat as compat
from automl_nb.acquisition import FastAcquisition
from automl_nb.backends import tuner as tuners
from automl_nb.backends.workers.worker import StandInOracleTuner
from automl_nb.oracles import AtomicOracleFiles
from automl_nb.store import Store


def _build(hp):
    units = hp.Int("units", 4, 16, step=4, default=8)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _oracle(kind: str, tmp_path, **kwargs):
    cls = {
        "random": kt.oracles.RandomSearchOracle,
        "bayesian": kt.oracles.BayesianOptimizationOracle,
        "hyperband": kt.oracles.HyperbandOracle,
    }[kind]
    oracle = cls(objective=kt.Objective("val_loss", "min"), seed=3, **kwargs)
    oracle._set_project_dir(str(tmp_path), "kt")
    hp = kt.HyperParameters()
    hp.Int("units", 4, 16, step=4, default=8)
    hp.Float("lr", 1e-4, 1e-2, sampling="log", default=1e-3)
    oracle.update_space(hp)
    return oracle


def _finish(oracle, n: int, scores=None):
    for i in range(n):
        trial = oracle.create_trial(f"tuner{i}")
        if trial.status != "RUNNING":
            break
        trial.metrics.update("val_loss", (scores or [0.5, 0.4, 0.3, 0.2, 0.1])[i % 5])
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


def test_a_changed_part_is_one_sentence_naming_it(monkeypatch):
    class Gone:
        pass

    with pytest.raises(compat.CompatError, match=r"^keras-tuner changed Tuner\._get_checkpoint_fname, "
                       r"which automl-nb relies on .*tested with keras-tuner 1\.4\.8"):
        compat.checkpoint_file(Gone(), "0000")


def test_get_hypermodel_wraps_a_build_function():
    hypermodel = compat.get_hypermodel(_build)
    assert isinstance(hypermodel, kt.HyperModel)
    assert hypermodel.build(kt.HyperParameters()).count_params() > 0


def test_quiet_tracebacks_silences_this_thread_only():
    from keras_tuner.src import config

    assert bool(config.DEBUG) is True
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other():
        inside.wait(10)
        seen["other"] = bool(config.DEBUG)
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with compat.quiet_tracebacks():
        seen["mine"] = bool(config.DEBUG)
        inside.set()
        done.wait(10)
    thread.join(10)
    assert seen == {"mine": False, "other": True}
    assert bool(config.DEBUG) is True  # this thread hears it again


def test_quiet_tracebacks_keeps_a_failed_trial_off_stderr(tmp_path, capfd):
    def broken(hp):
        hp.Int("units", 1, 2)
        raise ValueError("broken build")

    class Tuner(kt.Tuner):
        pass

    tuner = Tuner(
        oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1, seed=1,
                                             max_consecutive_failed_trials=1),
        hypermodel=lambda hp: _build(hp),
        directory=str(tmp_path), project_name="kt",
    )
    tuner.hypermodel.build = broken  # the trial's build fails, not the first one above
    capfd.readouterr()
    with compat.quiet_tracebacks(), pytest.raises(RuntimeError):
        tuner.search(np.zeros((4, 3)), np.zeros(4), validation_data=(np.zeros((2, 3)), np.zeros(2)),
                     epochs=1, verbose=0)
    assert "Traceback" not in capfd.readouterr().err


def test_checkpoint_and_build_config_files_are_where_the_store_says(tmp_path):
    tuner = kt.RandomSearch(_build, objective="val_loss", max_trials=1, directory=str(tmp_path),
                            project_name="kt", seed=1)
    assert compat.checkpoint_file(tuner, "0003") == str(Store(tmp_path).checkpoint_path("0003"))
    assert compat.build_config_file(tuner, "0003").startswith(str(Store(tmp_path).trial_directory("0003")))


def test_a_stand_in_oracle_tuner_skips_the_initial_space(tmp_path):
    compat.check_stand_in_hook()
    built = []

    def build(hp):
        built.append(1)
        return _build(hp)

    class WorkerLike(StandInOracleTuner, kt.Tuner):
        pass

    WorkerLike(oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1),
               hypermodel=build, directory=str(tmp_path), project_name="kt")
    kt.RandomSearch(build, objective="val_loss", max_trials=1, directory=str(tmp_path), project_name="kt2")
    assert built == [1]  # only the plain tuner built its model to learn the space


def _conditional_build(hp):
    kind = hp.Choice("kind", ["small", "wide"], default="small")
    units = 4
    with hp.conditional_scope("kind", ["wide"]):
        if kind == "wide":
            units = hp.Int("wide_units", 8, 16, step=8)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("build, names, builds", [
    (_build, ["units"], 0),  # nothing left inactive: the checked build stands for KerasTuner's
    (_conditional_build, ["kind", "wide_units"], 2),  # "wide" never built: KerasTuner builds both
])
def test_a_space_checked_once_is_not_built_again_unless_a_scope_was_left_inactive(tmp_path, build, names, builds):
    checked = kt.HyperParameters()
    build(checked)  # what search() does to check a user's build(hp)
    assert isinstance(checked.inactive_scopes, list)  # the part CheckedSpaceStart reads
    built = []

    def counted(hp):
        built.append(1)
        return build(hp)

    class Checked(tuners.CheckedSpaceStart, kt.Tuner):
        def __init__(self, **kwargs):
            self.checked_space = checked
            super().__init__(**kwargs)

    tuner = Checked(oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1),
                    hypermodel=counted, directory=str(tmp_path), project_name="kt")
    assert len(built) == builds
    assert [hp.name for hp in tuner.oracle.get_space().space] == names
    assert tuner.checked_space is None  # used once: a later start builds as KerasTuner does
    plain = kt.RandomSearch(build, objective="val_loss", max_trials=1, directory=str(tmp_path),
                            project_name="plain")
    assert [hp.get_config() for hp in plain.oracle.get_space().space] == [
        hp.get_config() for hp in tuner.oracle.get_space().space]


def test_builds_hold_one_lock_around_kerastuners_clear_session(tmp_path):
    compat.check_build_hook()

    class Serialized(tuners.SerializedBuilds, kt.Tuner):
        pass

    tuner = Serialized(oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1),
                       hypermodel=_build, directory=str(tmp_path), project_name="kt")
    held = []
    tuner.hypermodel.build = lambda hp: (held.append(tuners.BUILD_LOCK._is_owned()), _build(hp))[1]
    tuner._try_build(kt.HyperParameters())
    assert held == [True]


def test_oracle_and_tuner_files_are_replaced_whole(tmp_path, monkeypatch):
    from automl_nb import oracles

    oracle = oracles.get_oracle("random", objective="val_loss", direction="min", max_trials=3,
                                epochs=1, seed=1)

    class Atomic(tuners.AtomicTunerFiles, kt.Tuner):
        pass

    tuner = Atomic(oracle=oracle, hypermodel=_build, directory=str(tmp_path), project_name="kt")
    trial = oracle.create_trial("tuner0")
    tuner.save()
    kt_dir = tmp_path / "kt"
    before = {p.name: p.read_text() for p in (kt_dir / "oracle.json", kt_dir / "tuner0.json")}
    assert (kt_dir / f"trial_{trial.trial_id}" / "trial.json").read_text().startswith("{")

    class Killed(Exception):
        pass

    def killed(src, dst):  # the process dies after writing the new file, before the rename
        raise Killed

    oracle.start_order.append("a change not saved yet")
    monkeypatch.setattr(compat.os, "replace", killed)
    with pytest.raises(Killed):
        tuner.save()
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in (kt_dir / "oracle.json", kt_dir / "tuner0.json")} == before


def test_the_state_files_are_where_kerastuner_writes_them(tmp_path):
    """oracle_file, trial_file, tuner_file and is_worker name what KerasTuner's own saves
    write, and _save_trial is still the hook AtomicOracleFiles replaces."""
    compat.check_save_trial_hook()
    tuner = kt.RandomSearch(_build, objective="val_loss", max_trials=2, directory=str(tmp_path),
                            project_name="kt", seed=1)
    trial = tuner.oracle.create_trial("tuner0")
    tuner.save()  # KerasTuner's own: not atomic, the same paths
    assert compat.oracle_file(tuner.oracle) == str(tmp_path / "kt" / "oracle.json")
    assert compat.tuner_file(tuner) == str(tmp_path / "kt" / "tuner0.json")
    assert compat.trial_file(tuner.oracle, trial.trial_id) == str(
        tmp_path / "kt" / f"trial_{trial.trial_id}" / "trial.json")
    for path in (compat.oracle_file(tuner.oracle), compat.tuner_file(tuner),
                 compat.trial_file(tuner.oracle, trial.trial_id)):
        assert (tmp_path / path).is_file(), path
    assert compat.is_worker(tuner) is False
    from automl_nb import oracles

    steerable = oracles.get_oracle("random", objective="val_loss", direction="min", max_trials=3,
                                   epochs=1, seed=1)
    assert isinstance(steerable, AtomicOracleFiles)


def test_build_hypermodel_is_kerastuners_build(tmp_path):
    tuner = kt.RandomSearch(_build, objective="val_loss", max_trials=1, directory=str(tmp_path),
                            project_name="kt", seed=1)
    model = compat.build_hypermodel(tuner, kt.HyperParameters())
    assert isinstance(model, keras.Model) and model.layers[0].units == 8


def test_a_torn_oracle_file_is_rebuilt_from_the_trials(tmp_path):
    from automl_nb import oracles

    def tuner_for(directory):
        oracle = oracles.get_oracle("random", objective="val_loss", direction="min", max_trials=5,
                                    epochs=1, seed=1)

        class Reloading(tuners.AtomicTunerFiles, kt.Tuner):
            def reload(self):
                compat.reload_project(self, ("COMPLETED", "FAILED"))

        return Reloading(oracle=oracle, hypermodel=_build, directory=str(directory), project_name="kt")

    tuner = tuner_for(tmp_path)
    _finish(tuner.oracle, 2)
    running = tuner.oracle.create_trial("tuner9")
    tuner.save()
    (tmp_path / "kt" / "oracle.json").write_text("")  # what a kill mid-write left before
    again = tuner_for(tmp_path)
    assert sorted(again.oracle.trials) == sorted(tuner.oracle.trials)
    assert again.oracle.end_order == sorted(tuner.oracle.end_order) and len(again.oracle.end_order) == 2
    assert again.oracle._retry_queue == [running.trial_id]
    assert (tmp_path / "kt" / "oracle.json.torn").exists()
    assert [hp.name for hp in again.oracle.hyperparameters.space] == ["units"]


def test_hyperband_bracket_reads_the_oracles_brackets(tmp_path):
    oracle = _oracle("hyperband", tmp_path, max_epochs=9, factor=3)
    first = oracle.create_trial("t0")
    assert compat.hyperband_bracket(oracle, first.trial_id) == first.hyperparameters.values["tuner/bracket"]
    assert compat.hyperband_bracket(oracle, "no-such-trial") is None
    assert compat.hyperband_bracket(_oracle("random", tmp_path / "r"), "0000") is None


def test_drop_ended_retries_keeps_only_unfinished_trials(tmp_path):
    oracle = _oracle("random", tmp_path, max_trials=5)
    _finish(oracle, 2)
    running = oracle.create_trial("t9")
    assert isinstance(oracle._retry_queue, list)
    oracle._retry_queue = list(oracle.trials)
    compat.drop_ended_retries(oracle, ("COMPLETED", "FAILED"))
    assert oracle._retry_queue == [running.trial_id]


def test_a_bayesian_snapshot_copies_the_state_it_reads(tmp_path):
    oracle = _oracle("bayesian", tmp_path, max_trials=10, num_initial_points=2)
    _finish(oracle, 3)
    box = compat.snapshot_oracle(oracle, timeout=5)
    assert box is not oracle and box.trials is not oracle.trials
    assert box._random_state is not oracle._random_state and box.gpr is not oracle.gpr
    assert [hp.name for hp in compat.nonfixed_space(box)] == ["units", "lr"]
    x, y = compat.vectorize_trials(box)
    assert np.asarray(x).shape == (3, 2) and len(y) == 3


def _bayesian_pair(tmp_path, completed: int):
    """The same seeded Bayesian search state twice: automl-nb's oracle and KerasTuner's own."""
    import copy

    from automl_nb import oracles

    hp = kt.HyperParameters()
    hp.Int("units", 4, 64, step=2, sampling="log", default=16)
    hp.Float("lr", 1e-4, 1e-2, sampling="log", default=1e-3)
    hp.Choice("optimizer", ["adam", "sgd"], default="adam")
    ours = oracles.get_oracle("bayesian", objective="val_loss", direction="min", max_trials=None,
                              epochs=1, seed=3, hyperparameters=hp, num_initial_points=4)
    ours._set_project_dir(str(tmp_path / "ours"), "kt")
    for i in range(completed):
        trial = ours.create_trial(f"tuner{i}")
        values = trial.hyperparameters.values
        # a smooth valley around lr 1e-3 and 32 units, worse with sgd
        loss = (np.log10(values["lr"]) + 3) ** 2 + (np.log2(values["units"]) - 5) ** 2 / 8
        trial.metrics.update("val_loss", float(loss + (values["optimizer"] == "sgd")))
        trial.status = "COMPLETED"
        ours.end_trial(trial)
    theirs = kt.oracles.BayesianOptimizationOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=None, num_initial_points=4,
        seed=ours.seed, hyperparameters=hp.copy(),
    )
    theirs._set_project_dir(str(tmp_path / "theirs"), "kt")
    theirs.trials = copy.deepcopy(ours.trials)
    for name in ("_random_state", "_seed_state", "_tried_so_far", "_id_to_hash"):
        setattr(theirs, name, copy.deepcopy(getattr(ours, name)))
    return ours, theirs


def _bound(oracle, values):
    point = [[hp.value_to_prob(values[hp.name]) for hp in compat.nonfixed_space(oracle)]]
    mu, sigma = oracle.gpr.predict(np.asarray(point), return_std=True)
    return float(mu[0] - oracle.beta * sigma[0])


def test_the_bayesian_choice_is_kerastuners_in_a_few_batched_predictions(tmp_path, monkeypatch):
    ours, theirs = _bayesian_pair(tmp_path, completed=10)
    assert isinstance(ours, FastAcquisition)
    *methods, random_state = compat.bayesian_parts(ours)  # what FastAcquisition reads
    assert len(methods) == 4 and all(callable(m) for m in methods)
    assert hasattr(random_state, "uniform")
    calls = {"ours": 0, "theirs": 0}

    def counting(name, predict):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return predict(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(ours.gpr, "predict", counting("ours", ours.gpr.predict))
    monkeypatch.setattr(theirs.gpr, "predict", counting("theirs", theirs.gpr.predict))
    mine = ours.populate_space("next")
    kerastuners = kt.oracles.BayesianOptimizationOracle.populate_space(theirs, "next")
    assert mine["status"] == kerastuners["status"] == "RUNNING"
    # The same process fitted on the same trials; our point's bound is at least as good.
    assert _bound(ours, mine["values"]) <= _bound(ours, kerastuners["values"]) + 1e-6
    assert _bound(ours, kerastuners["values"]) == pytest.approx(_bound(theirs, kerastuners["values"]))
    assert calls["ours"] * 10 < calls["theirs"]


def test_a_bayesian_space_with_nothing_to_tune_stops_instead_of_failing(tmp_path):
    from automl_nb import oracles

    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    oracle = oracles.get_oracle("bayesian", objective="val_loss", direction="min", max_trials=None,
                                epochs=1, seed=0, hyperparameters=hp, num_initial_points=1)
    oracle._set_project_dir(str(tmp_path), "kt")
    _finish(oracle, 1)
    assert oracle.populate_space("next")["status"] == "STOPPED"


def test_the_bayesian_random_start_is_kerastuners(tmp_path):
    ours, theirs = _bayesian_pair(tmp_path, completed=2)  # 2 of the 4 random points
    for i in range(2):
        assert ours.populate_space(f"t{i}") == kt.oracles.BayesianOptimizationOracle.populate_space(theirs, f"t{i}")


def test_the_distributed_service_parts_exist():
    messages, services = compat.protos()
    assert hasattr(messages, "CreateTrialResponse") and hasattr(services, "OracleStub")
    assert hasattr(services, "add_OracleServicer_to_server")
    servicer = compat.oracle_servicer_class()
    assert callable(servicer.CreateTrial) and callable(servicer.EndTrial)
    assert compat.DISTRIBUTED_ENV == ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def test_seeded_build_repeats_weights_and_leaves_global_random_alone():
    random.seed(123)
    np.random.seed(123)
    expected_py, expected_np = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(123)

    def weights(seed):
        with compat.seeded_build(seed):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5)])
        return model.get_weights()[0]

    a, b, c = weights(7), weights(7), weights(8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert (random.random(), np.random.random()) == (expected_py, expected_np)


def test_compile_arguments_are_the_live_objects_compile_got():
    def my_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    metric = keras.metrics.MeanAbsoluteError()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert compat.compile_arguments(model) is None  # not compiled
    model.compile(optimizer="rmsprop", loss=my_loss, metrics=[metric], loss_weights=[2.0])
    arguments = compat.compile_arguments(model)
    assert arguments["loss"] is my_loss and arguments["metrics"] == [metric]
    assert arguments["optimizer"] is model.optimizer and arguments["loss_weights"] == [2.0]
    assert {"weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile"} <= set(arguments)


def test_custom_gradients_can_be_forgotten():
    import tensorflow as tf

    before = compat.custom_gradient_names()

    @tf.custom_gradient
    def double(x):
        return 2 * x, lambda dy: 2 * dy

    @tf.function  # traced, as Keras's train step is: that is what registers a name
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = double(x)
        return tape.gradient(y, x)

    step(tf.constant(1.0))
    new = compat.custom_gradient_names() - before
    assert new
    compat.forget_custom_gradients(new)
    assert not (compat.custom_gradient_names() & new)


def test_deterministic_ops_is_restored_after():
    from tensorflow.python.framework import config

    assert not config.is_op_determinism_enabled()
    with compat.deterministic_ops(5):
        assert config.is_op_determinism_enabled()
    assert not config.is_op_determinism_enabled()


def test_builds_collect_garbage_every_few_trials_not_twice_a_trial(tmp_path, monkeypatch):
    import gc

    class Serialized(tuners.SerializedBuilds, kt.Tuner):
        pass

    tuner = Serialized(oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1),
                       hypermodel=_build, directory=str(tmp_path), project_name="kt")
    other = Serialized(oracle=kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1),
                       hypermodel=_build, directory=str(tmp_path), project_name="kt2")
    other._try_build(kt.HyperParameters())  # another tuner's builds count for it alone
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    start = tuner.builds_done
    assert other.builds_done == 1 and tuners.SerializedBuilds.builds_done == 0
    for _ in range(2 * tuners.FULL_GC_EVERY - start):
        assert isinstance(tuner._try_build(kt.HyperParameters()), keras.Model)
    assert len(calls) == 2  # KerasTuner's own collected twice a build: 32 times
    with pytest.raises(kt.errors.FatalTypeError, match="valid Keras Model"):
        tuner.hypermodel.build = lambda hp: "not a model"
        tuner._try_build(kt.HyperParameters())


def test_run_trial_executions_repeats_kerastuners_run_trial(tmp_path):
    """KerasTuner's run_trial still has the parts run_trial_executions repeats, and a trial run
    through it trains, calls the given checkpoint callback last and returns the history."""
    import keras
    import keras_tuner
    import numpy as np

    compat.check_run_trial_hook()
    seen = []

    class Last(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(("last", epoch))

    class Mine(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(("mine", epoch))

    def build(hp):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    class Probe(keras_tuner.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            return compat.run_trial_executions(self, trial, args, kwargs, Last())

    tuner = Probe(oracle=keras_tuner.oracles.RandomSearchOracle(objective="loss", max_trials=1),
                  hypermodel=build, directory=str(tmp_path), project_name="p")
    x = np.zeros((8, 2), "float32")
    tuner.search(x, x[:, :1], epochs=2, verbose=0, callbacks=[Mine()])
    assert seen == [("mine", 0), ("last", 0), ("mine", 1), ("last", 1)]
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED" and trial.score is not None


def test_oracle_status_words_are_kerastuners():
    from automl_nb.status import OracleStatus

    theirs = {v for k, v in vars(kt.engine.trial.TrialStatus).items()
              if not k.startswith("_") and isinstance(v, str)}
    assert {s.value for s in OracleStatus} == theirs
