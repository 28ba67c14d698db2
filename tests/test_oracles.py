"""Tests of automl_nb.oracles: names -> seeded KerasTuner oracles, objectives."""

from __future__ import annotations

import keras_tuner as kt
import pytest
from keras_tuner.src.engine import metrics_tracking

from automl_nb.oracles import (
    ORACLES,
    OracleError,
    check_objective,
    check_oracle,
    get_oracle,
    kt_seed,
    objective_direction,
)

CLASSES = {
    "bayesian": kt.oracles.BayesianOptimizationOracle,
    "hyperband": kt.oracles.HyperbandOracle,
    "random": kt.oracles.RandomSearchOracle,
}


def make(name, **overrides):
    args = {
        "objective": "val_accuracy",
        "direction": "max",
        "max_trials": None,
        "epochs": 9,
        "seed": 0,
    }
    args.update(overrides)
    return get_oracle(name, **args)


def first_trial(oracle, tmp_path, project="p"):
    """Let the oracle create its first trial over a one-hyperparameter space."""
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    hp.Int("units", 16, 256)
    oracle.hyperparameters = hp
    oracle.verbose = 0
    oracle._set_project_dir(tmp_path, project)
    return oracle.create_trial("tuner0")


# --------------------------------------------------------------------------------------------
# check_oracle


def test_check_oracle_normalises_names():
    assert ORACLES == ("bayesian", "hyperband", "random")
    assert check_oracle("bayesian") == "bayesian"
    assert check_oracle("  HyperBand ") == "hyperband"
    assert check_oracle("Random") == "random"


def test_check_oracle_unknown_name():
    with pytest.raises(OracleError) as err:
        check_oracle("baysian")
    assert str(err.value) == (
        "oracle 'baysian' is not known; choose one of: bayesian, hyperband, random"
        "; did you mean 'bayesian'?"
    )
    with pytest.raises(OracleError, match=r"^oracle 'grid' is not known; choose one of: "):
        check_oracle("grid")
    with pytest.raises(OracleError, match=r"random$"):
        check_oracle("grid")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3, r"3 \(int\)"), (None, r"None \(NoneType\)"), (b"x", r"b'x' \(bytes\)")],
)
def test_check_oracle_wrong_types(value, shown):
    with pytest.raises(
        OracleError,
        match=r"^oracle must be one of the names bayesian, hyperband, random or a "
        r"keras_tuner.Oracle instance; got .*" + shown,
    ):
        check_oracle(value)


def test_an_oracle_class_is_not_an_oracle():
    with pytest.raises(
        OracleError,
        match=r"^oracle is the Oracle class RandomSearchOracle; pass an instance: "
        r"RandomSearchOracle\(objective=..., ...\)$",
    ):
        check_oracle(CLASSES["random"])


def test_an_oracle_instance_passes_through():
    mine = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=3, seed=7)
    assert check_oracle(mine) is mine
    assert get_oracle(mine, objective="x", direction="max", max_trials=1, epochs=1, seed=0) is (
        mine
    )
    assert mine.seed == 7 and mine.max_trials == 3


# --------------------------------------------------------------------------------------------
# get_oracle


@pytest.mark.parametrize("name", ORACLES)
def test_each_name_builds_its_class_with_objective(name):
    oracle = make(name.upper())
    assert isinstance(oracle, CLASSES[name]) and type(oracle).__name__ == CLASSES[name].__name__
    assert oracle.objective == kt.Objective("val_accuracy", "max")


def test_budgets():
    assert make("bayesian", max_trials=20).max_trials == 20
    assert make("random", max_trials=5).max_trials == 5
    assert make("bayesian").max_trials is None
    band = make("hyperband", epochs=27)
    assert (band.max_epochs, band.factor, band.hyperband_iterations) == (27, 3, 1)
    assert band.max_trials is None
    # kwargs override our defaults
    band = make("hyperband", factor=2, hyperband_iterations=2)
    assert (band.factor, band.hyperband_iterations) == (2, 2)
    assert make("bayesian", num_initial_points=4).num_initial_points == 4


@pytest.mark.parametrize("name", ORACLES)
@pytest.mark.parametrize("seed", [0, 1, 41])
def test_seed_is_honoured_including_zero(name, seed):
    assert make(name, seed=seed).seed == seed + 1
    assert kt_seed(seed) == seed + 1


def test_seed_none_is_random():
    assert kt_seed(None) is None
    assert 1 <= make("random", seed=None).seed <= 10000


@pytest.mark.parametrize("name", ORACLES)
def test_seed_zero_gives_the_same_first_trial(name, tmp_path):
    a = first_trial(make(name, seed=0), tmp_path, "a").hyperparameters.values
    b = first_trial(make(name, seed=0), tmp_path, "b").hyperparameters.values
    c = first_trial(make(name, seed=1), tmp_path, "c").hyperparameters.values
    assert a == b
    assert a["learning_rate"] != c["learning_rate"]


@pytest.mark.parametrize("name", ORACLES)
def test_max_trials_none_gives_four_digit_trial_ids(name, tmp_path):
    trial = first_trial(make(name, max_trials=None), tmp_path)
    assert trial.trial_id == "0000"
    assert trial.status == "RUNNING"


def test_max_trials_sets_the_id_width_in_keras_tuner(tmp_path):
    # Why the tuner prefers max_trials=None: KerasTuner pads ids to len(str(max_trials)).
    assert first_trial(make("random", max_trials=20), tmp_path).trial_id == "00"


def test_direction_is_inferred_when_none():
    assert make("random", objective="val_loss", direction=None).objective.direction == "min"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"direction": "up"}, r"^direction must be 'min' or 'max'; got 'up' \(str\)$"),
        ({"objective": ""}, r"^objective must be a metric name such as 'val_loss'"),
        ({"max_trials": 0}, r"^max_trials must be an integer >= 1 or None; got 0 \(int\)$"),
        ({"max_trials": 2.5}, r"^max_trials must be an integer >= 1 or None; got 2.5"),
        ({"epochs": 0}, r"^epochs must be an integer >= 1; got 0 \(int\)$"),
        ({"seed": -1}, r"^seed must be an integer >= 0 or None; got -1 \(int\)$"),
        ({"seed": True}, r"^seed must be an integer >= 0 or None; got True \(bool\)$"),
        ({"seed": 2**32}, r"^seed must be between 0 and 4294967294; got 4294967296$"),
        (
            {"num_initial_point": 3},
            (
                r"^oracle 'bayesian' takes no argument 'num_initial_point'; it takes: .*"
                r"; did you mean 'num_initial_points'\?$"
            ),
        ),
    ],
)
def test_get_oracle_errors(overrides, message):
    with pytest.raises(OracleError, match=message):
        make("bayesian", **overrides)


def test_get_oracle_unknown_name_and_type():
    with pytest.raises(OracleError, match=r"did you mean 'hyperband'"):
        make("hyperbnd")
    with pytest.raises(OracleError, match=r"got \[\] \(list\)"):
        make([])


def test_get_oracle_wraps_keras_tuner_value_errors():
    with pytest.raises(OracleError, match=r"^oracle 'hyperband' could not be created: factor"):
        make("hyperband", factor=1)


# --------------------------------------------------------------------------------------------
# Objectives

MAX = [
    "accuracy",
    "val_accuracy",
    "acc",
    "val_acc",
    "sparse_categorical_accuracy",
    "val_binary_accuracy",
    "auc",
    "val_auc",
    "precision",
    "recall",
    "weighted_accuracy",
    "val_weighted_accuracy",
    "top_k_categorical_accuracy",
    "f1_score",
    "val_r2_score",
    "output_1_accuracy",
    "auc_1",
    "val_my_f1",
]
MIN = [
    "loss",
    "val_loss",
    "mae",
    "val_mae",
    "mse",
    "mean_squared_error",
    "val_mean_absolute_error",
    "root_mean_squared_error",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "hinge",
    "kl_divergence",
    "output_1_loss",
    "val_custom_error",
    "val_rmse",
]


@pytest.mark.parametrize("name", MAX)
def test_objective_direction_max(name):
    assert objective_direction(name) == "max"


@pytest.mark.parametrize("name", MIN)
def test_objective_direction_min(name):
    assert objective_direction(name) == "min"


# KerasTuner infers "min" for these; they are scores, higher is better.
OURS_DIFFER = {"f1_score", "val_r2_score"}
# KerasTuner knows no direction for these (a prefixed output, a numbered or custom metric).
OURS_ONLY = {"output_1_accuracy", "auc_1", "val_my_f1", "output_1_loss", "val_custom_error",
             "val_rmse"}


@pytest.mark.parametrize("name", [n for n in MAX + MIN if n not in OURS_DIFFER | OURS_ONLY])
def test_objective_direction_agrees_with_keras_tuner(name):
    theirs = metrics_tracking.infer_metric_direction(name)
    assert theirs is not None, f"KerasTuner knows no direction for {name}: move it to OURS_ONLY"
    assert objective_direction(name) == theirs


@pytest.mark.parametrize("name", sorted(OURS_ONLY))
def test_objective_direction_where_keras_tuner_has_none(name):
    assert metrics_tracking.infer_metric_direction(name) is None  # else it belongs above
    assert objective_direction(name) == ("max" if name in MAX else "min")


@pytest.mark.parametrize("name", ["val_foo", "score", "val_correlation"])
def test_objective_direction_unknown(name):
    with pytest.raises(
        OracleError,
        match=rf"^objective '{name}' has no known direction; .* "
        rf"objective=keras_tuner.Objective\('{name}', direction='min'\) or direction='max'$",
    ):
        objective_direction(name)


def test_a_keras_tuner_objective_names_the_direction_the_hint_asks_for():
    from automl_nb._checks import check_objective as check_search_objective
    from automl_nb.errors import SearchError

    mine = kt.Objective("val_foo", direction="min")
    assert check_search_objective(mine, "regression", custom_space=True) == ("val_foo", "min")
    assert check_search_objective(kt.Objective("val_loss", "max"), "regression",
                                  custom_space=False) == ("val_loss", "max")
    with pytest.raises(SearchError, match=r"^objective 'val_foo' is not a metric of this"):
        check_search_objective(mine, "regression", custom_space=False)  # built-in metrics only


def test_check_objective():
    metrics = ["val_accuracy", "val_loss", "accuracy", "loss"]
    check_objective("val_accuracy", metrics)
    with pytest.raises(OracleError) as err:
        check_objective("val_acc", metrics)
    assert str(err.value) == (
        "objective 'val_acc' is not a metric of this model; choose one of: "
        "val_accuracy, val_loss, accuracy, loss; did you mean 'val_accuracy'?"
    )
    with pytest.raises(OracleError, match=r"choose one of: loss$"):
        check_objective("val_mae", ["loss"])


# --------------------------------------------------------------------------------------------
# Hyperband's bracket labels with trials side by side (workers)


def test_a_hyperband_trial_is_labelled_with_its_own_bracket_when_brackets_overlap(tmp_path):
    """KerasTuner labels a trial with its newest bracket; with a trial held open (another
    worker), a later round of an older bracket runs after a new bracket began."""
    import keras

    from automl_nb.backends.tuner import AutoMLTuner

    class Engine:  # what the scheduler asks of the engine on Hyperband's own proposals
        def next_request(self):
            return None

        def note_oracle_trial(self, trial_id):
            pass

    def build(hp):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Int("units", 2, 8))])
        model.compile(optimizer="adam", loss="mse")
        return model

    oracle = make("hyperband", objective="val_loss", direction="min", epochs=4)
    oracle.verbose = 0
    AutoMLTuner(oracle=oracle, hypermodel=build, engine=Engine(), directory=str(tmp_path), seed=0)

    def end(trial, loss):
        oracle.update_trial(trial.trial_id, {"val_loss": loss})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)

    held = oracle.create_trial("other-worker")  # bracket 1, round 0, still training
    made = []
    for i in range(8):
        trial = oracle.create_trial("worker")
        made.append(trial)
        end(trial, 1.0 - 0.05 * i)
        if i == 6:  # by now bracket 0 has begun; the held trial of bracket 1 ends
            end(held, 0.1)
    labels = {t.trial_id: t.hyperparameters.values for t in [held, *oracle.trials.values()]}
    late = [v for v in labels.values() if v.get("tuner/trial_id") == held.trial_id]
    assert late, "the held trial was not promoted: the scenario did not happen"
    assert any(v["tuner/bracket"] == 0 for v in labels.values())  # a newer bracket had begun
    assert late[0]["tuner/bracket"] == labels[held.trial_id]["tuner/bracket"] == 1
    assert late[0]["tuner/round"] == 1
    for values in labels.values():  # every promotion is in its parent's bracket
        if "tuner/trial_id" in values:
            assert values["tuner/bracket"] == labels[values["tuner/trial_id"]]["tuner/bracket"]


def test_a_bayesian_subclass_keeps_its_own_choice():
    from automl_nb.acquisition import FastAcquisition
    from automl_nb.oracles import steer

    class Mine(kt.oracles.BayesianOptimizationOracle):
        def populate_space(self, trial_id):
            return {"status": "RUNNING", "values": {"mine": trial_id}}

    assert isinstance(make("bayesian"), FastAcquisition)
    steered = steer(Mine(objective=kt.Objective("val_loss", "min"), max_trials=None), None)
    assert not isinstance(steered, FastAcquisition)
    assert steered.populate_space("t1") == {"status": "RUNNING", "values": {"mine": "t1"}}
