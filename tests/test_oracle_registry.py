"""The oracle registry: every registered kind passes one conformance test, and a user's own
Oracle is recognised by its class.

Conformance, through the tuner's own scheduler (``AutoMLTuner.schedule``) and KerasTuner's
real oracles, with no training: a kind proposes a trial, takes a queued trial (a bracketed
kind in a first-round place, the others as they are), and a second tuner over the same
directory reopens the trials it ended.
"""

from __future__ import annotations

import keras
import keras_tuner as kt
import pytest

from automl_nb import oracles
from automl_nb.backends.tuner import AutoMLTuner
from automl_nb.control import Control, Request
from automl_nb.oracles import OTHER, OracleError, OracleKind, get_oracle, kind_of, oracle_names
from automl_nb.ui import checks, options


class Engine:
    """What AutoMLTuner's scheduler asks of the engine, with the requests it is given."""

    def __init__(self, requests=()):
        self.control = Control()
        for request in requests:
            self.control.push_front(request)
        self.plans: dict[str, str] = {}
        self.proposed = 0

    def next_request(self):
        return self.control.pop_request()

    def note_oracle_trial(self, trial_id):
        self.proposed += 1

    def check_proposal(self, values):
        pass

    def plan_request(self, trial_id, request):
        self.plans[trial_id] = request.source

    def plan_placed(self, trial_id, request, values):
        self.plans[trial_id] = f"{request.source}, placed"


def build(hp):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Int("units", 2, 64))])
    hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    model.compile(optimizer="adam", loss="mse")
    return model


def tuner(name, directory, engine):
    oracle = get_oracle(name, objective="val_loss", direction="min", max_trials=None, epochs=9,
                        seed=0)
    oracle.verbose = 0
    made = AutoMLTuner(oracle=oracle, hypermodel=build, engine=engine, directory=str(directory),
                       seed=0)
    made.verbose = 0
    return made


def end(oracle, trial, loss):
    oracle.update_trial(trial.trial_id, {"val_loss": loss})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


@pytest.mark.parametrize("name", oracle_names())
def test_every_registered_oracle_proposes_takes_a_queued_trial_and_reopens(name, tmp_path):
    kind = kind_of(name)
    assert kind.name == name and kind is not OTHER
    asked = {"units": 7, "learning_rate": 0.005}
    engine = Engine([Request(source="enqueued", values=dict(asked))])
    first = tuner(name, tmp_path, engine)
    oracle = first.oracle
    assert kind_of(oracle) is kind and kind_of(kind.class_name) is kind
    assert isinstance(oracle, kind.factory())

    queued = oracle.create_trial("tuner0")  # the queued trial comes first
    assert queued.status == "RUNNING"
    assert {k: queued.hyperparameters.values[k] for k in asked} == asked
    assert engine.plans[queued.trial_id] == ("enqueued, placed" if kind.bracketed else "enqueued")
    if kind.bracketed:  # it plays in the oracle's own bracket, from the first round
        assert queued.hyperparameters.values["tuner/round"] == 0
    end(oracle, queued, 0.5)

    proposed = oracle.create_trial("tuner0")  # then the oracle's own proposal
    assert proposed.status == "RUNNING" and engine.proposed == 1
    values = proposed.hyperparameters.values
    assert 2 <= values["units"] <= 64 and 1e-4 <= values["learning_rate"] <= 1e-2
    assert ("tuner/round" in values) == kind.bracketed  # the capability is the oracle's own
    end(oracle, proposed, 0.4)
    first.save()

    again = tuner(name, tmp_path, Engine())  # the same directory: the trials reopen
    reopened = again.oracle.trials
    assert sorted(reopened) == sorted(oracle.trials) == sorted([queued.trial_id, proposed.trial_id])
    for tid, trial in oracle.trials.items():
        assert reopened[tid].hyperparameters.values == trial.hyperparameters.values
        assert reopened[tid].status == "COMPLETED"
    assert kind_of(again.oracle) is kind
    assert again.oracle.create_trial("tuner0").status == "RUNNING"  # and it goes on proposing


def test_the_options_and_the_errors_list_the_registered_names():
    names = oracle_names()
    assert options.ORACLES == names
    oracle = next(o for o in options.OPTIONS if o.flags == ("--oracle",))
    assert oracle.help.startswith("how to choose the next trial: " + ", ".join(names) + " (")
    with pytest.raises(OracleError, match="choose one of: " + ", ".join(names)):
        oracles.check_oracle("nope")
    with pytest.raises(checks.BadValue, match="choose one of: " + ", ".join(names)):
        checks.oracle_name("nope")


def test_a_users_oracle_is_known_by_its_class():
    mine = kt.oracles.HyperbandOracle(objective=kt.Objective("val_loss", "min"), max_epochs=9)
    assert kind_of(mine).bracketed

    class MyBayesian(kt.oracles.BayesianOptimizationOracle):
        pass

    theirs = MyBayesian(objective=kt.Objective("val_loss", "min"), max_trials=3)
    assert kind_of(theirs) is kind_of("bayesian") and kind_of(theirs).has_surrogate
    grid = kt.oracles.GridSearchOracle(objective=kt.Objective("val_loss", "min"), max_trials=3)
    assert kind_of(grid) is OTHER and not (OTHER.bracketed or OTHER.has_surrogate)
    # recorded names: a kind's name, its class's name, a user's subclass named after it
    assert kind_of("HyperbandOracle") is kind_of("hyperband")
    assert kind_of("MyRandomSearch").independent
    assert kind_of("GridSearchOracle") is kind_of(None) is kind_of(3) is OTHER


def test_a_new_kind_is_one_registration(monkeypatch):
    monkeypatch.setattr(oracles, "_KINDS", dict(oracles._KINDS))
    try:
        grid = oracles.register(OracleKind(
            name="grid",
            class_name="GridSearchOracle",
            summary="every combination in turn",
            factory=lambda: kt.oracles.GridSearchOracle,
            budget=lambda max_trials, epochs: {"max_trials": max_trials},
        ))
        assert oracle_names()[-1] == "grid" and oracles.check_oracle(" Grid ") == "grid"
        assert checks.oracle_name("GRID") == "grid"
        made = get_oracle("grid", objective="val_loss", direction="min", max_trials=4, epochs=2,
                          seed=0)
        assert isinstance(made, kt.oracles.GridSearchOracle) and made.max_trials == 4
        assert kind_of(made) is grid
        with pytest.raises(ValueError, match="new lower-case name"):
            oracles.register(grid)
    finally:
        oracles._class_kind.cache_clear()
