"""The model handed back may average the search's best trials (automl_nb.ensemble).

The selection is checked on predictions made up to have one answer (no TensorFlow); the model
it builds is checked on a real search: its predictions are the weighted sum of its members',
it exports and loads in a fresh process without automl-nb, and a reopened search hands back
the same ensemble.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from automl_nb import ensemble
from automl_nb.events import PlanMade, SearchStarted, TrialEnded, TrialStarted
from automl_nb.panel._data import best_info
from automl_nb.panel._html import best_html
from automl_nb.record import SearchRecord


def _onehot(labels, k=3, sure=0.9):
    p = np.full((len(labels), k), (1 - sure) / (k - 1))
    p[np.arange(len(labels)), labels] = sure
    return p


def test_the_loss_is_log_loss_of_the_true_class_or_squared_error():
    y = np.array([0, 1, 2, 1])
    p = _onehot(y, sure=0.8)
    assert ensemble.loss(p, y, "classification") == pytest.approx(-np.log(0.8))
    sigmoid = np.array([[0.9], [0.2], [0.6]])  # two classes as one column: P(class 1)
    assert ensemble.loss(sigmoid, np.array([1, 0, 0]), "classification") == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.4])))
    assert ensemble.loss(np.array([[1.0], [3.0]]), np.array([2.0, 2.0]), "regression") == pytest.approx(1.0)


def test_two_models_wrong_on_different_rows_are_mixed_and_a_dominant_one_stands_alone():
    y = np.tile([0, 1, 2], 20)
    left, right = _onehot(y), _onehot(y)
    left[:30] = _onehot((y[:30] + 1) % 3, sure=0.6)  # wrong on the first half, not very sure
    right[30:] = _onehot((y[30:] + 1) % 3, sure=0.6)  # wrong on the second half
    counts, mixed = ensemble.select([left, right], y, "classification")
    assert counts[0] > 0 and counts[1] > 0
    assert mixed < min(ensemble.loss(left, y, "classification"), ensemble.loss(right, y, "classification"))
    perfect = _onehot(y, sure=0.99)
    counts, mixed = ensemble.select([left, perfect, right], y, "classification")
    assert counts == [0, 1, 0] and mixed == pytest.approx(ensemble.loss(perfect, y, "classification"))
    # started from a given one (the best by the objective), the perfect one is added to it
    counts, mixed = ensemble.select([left, perfect, right], y, "classification", start=0)
    assert counts[0] == 1 and counts[1] >= 1 and mixed < ensemble.loss(left, y, "classification")


def test_opposite_biases_of_a_regression_cancel_in_equal_parts():
    y = np.linspace(0, 10, 50)
    counts, mixed = ensemble.select([(y + 1)[:, None], (y - 1)[:, None]], y, "regression", rounds=10)
    assert counts == [1, 1] and mixed == pytest.approx(0.0, abs=1e-12)  # exact: nothing to add
    assert ensemble.select([], y, "regression") == ([], float("inf"))


def _record(scores, direction="max"):
    events = [SearchStarted(name="s", directory="d", data={}, oracle="random", objective="val_accuracy",
                            direction=direction, trials=None, time_budget_s=None, epochs=2, seed=0)]
    for i, score in enumerate(scores):
        tid = f"{i:04d}"
        events.append(TrialStarted(trial_id=tid, hyperparameters={"units": i}))
        status = "failed" if score is None else "completed"
        events.append(TrialEnded(trial_id=tid, status=status, score=score, epochs=2))
    return SearchRecord([e.__class__(**{**e.__dict__, "seq": i}) for i, e in enumerate(events)])


def test_candidates_are_the_best_scored_trials_ties_in_start_order():
    record = _record([0.9, None, 0.95, 0.9, float("nan"), 0.8])
    assert ensemble.candidates(record) == ["0002", "0000", "0003", "0005"]
    assert ensemble.candidates(record, limit=2) == ["0002", "0000"]
    assert ensemble.candidates(record, usable=lambda tid: tid != "0000") == ["0002", "0003", "0005"]
    assert ensemble.candidates(_record([0.3, 0.1, 0.2], direction="min")) == ["0001", "0002", "0000"]


def test_a_trial_could_join_while_fewer_than_the_limit_are_as_good():
    record = _record([0.9, None, 0.95, 0.9, float("nan"), 0.8])  # candidates 0.95, 0.9, 0.9, 0.8
    assert ensemble.could_join(record, 0.5)  # four candidates, the limit is eight
    assert ensemble.could_join(record, 0.91, limit=2)  # ahead of a 0.9
    assert not ensemble.could_join(record, 0.9, limit=2)  # a tie goes after the earlier trials
    assert ensemble.could_join(record, 0.9, limit=3, usable=lambda tid: tid != "0000")
    assert not ensemble.could_join(record, float("nan")) and not ensemble.could_join(record, None)
    low = _record([0.3, 0.1, 0.2], direction="min")
    assert ensemble.could_join(low, 0.15, limit=2) and not ensemble.could_join(low, 0.25, limit=2)


def test_the_decision_names_its_trials_and_weights_and_the_record_forgets_it_when_a_trial_starts():
    y = np.tile([0, 1, 2], 20)
    left, right = _onehot(y), _onehot(y)
    left[:30] = _onehot((y[:30] + 1) % 3, sure=0.6)
    right[30:] = _onehot((y[30:] + 1) % 3, sure=0.6)
    record = _record([0.75, 0.5, 0.5])  # 0000 best by the objective
    predictions = {"0000": left, "0001": right, "0002": right}
    plan = ensemble.weigh(record, predictions.__getitem__, y, "classification")
    assert plan.decision == "ensemble" and set(plan.detail["weights"]) == {"0000", "0001"}
    assert sum(plan.detail["weights"].values()) == pytest.approx(1.0)
    assert plan.detail["ensemble_loss"] < plan.detail["best_loss"]
    assert "ensemble of trials" in plan.message and "against" in plan.message
    record.apply(PlanMade(decision="ensemble", message=plan.message, detail=plan.detail, seq=100))
    assert ensemble.weights_of(record.ensemble) == plan.detail["weights"]
    card = best_html(best_info(record))
    assert "ensemble" in card and "0000" in card and "log loss" in card
    record.apply(TrialStarted(trial_id="0003", hyperparameters={}, seq=101))
    assert record.ensemble is None and "ensemble" not in best_html(best_info(record))
    # a best trial that no mix improves is handed back alone, and the decision says so
    predictions["0000"] = _onehot(y, sure=0.99)
    alone = ensemble.weigh(_record([0.99, 0.5, 0.5]), predictions.__getitem__, y, "classification")
    assert alone.detail["weights"] == {} and "trial 0000 alone" in alone.message
    assert ensemble.weigh(_record([0.9]), predictions.__getitem__, y, "classification") is None


# -- a real search ---------------------------------------------------------------------------

def _frame(n=160, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(x + (colour == "red") + rng.normal(scale=0.5, size=n) > 0.5, "yes", "no")
    return pd.DataFrame({"x": x, "colour": colour, "label": label})


FRESH = textwrap.dedent("""
    import json, sys
    sys.modules["automl_nb"] = None  # a machine without automl-nb
    import numpy as np, keras, tensorflow as tf
    folder, out = sys.argv[1:]
    frame = json.load(open(folder + "/rows.json"))
    x, colour = np.array(frame["x"], "float32"), np.array(frame["colour"])
    model = keras.saving.load_model(folder + "/best.keras", safe_mode=True)
    got = {"keras": model.predict({"x": tf.constant(x), "colour": tf.constant(colour)}, verbose=0)}
    names = {c["name"]: c["input"] for c in json.load(open(folder + "/best_savedmodel.json"))["inputs"]["columns"]}
    serve = tf.saved_model.load(folder + "/best_savedmodel").signatures["serving_default"]
    specs = serve.structured_input_signature[1]
    feed = {names["x"]: tf.constant(x.reshape(-1, 1), dtype=specs[names["x"]].dtype),
            names["colour"]: tf.constant(colour.reshape(-1, 1))}
    got["savedmodel"] = next(iter(serve(**feed).values())).numpy()
    runner = tf.lite.Interpreter(model_path=folder + "/best.tflite").get_signature_runner()
    details = runner.get_input_details()
    got["tflite"] = next(iter(runner(**{names["x"]: x.reshape(-1, 1).astype(details[names["x"]]["dtype"]),
                                       names["colour"]: colour.reshape(-1, 1).astype(details[names["colour"]]["dtype"])}
                                    ).values()))
    np.savez(out, **got)
""")


@pytest.mark.slow
def test_a_searchs_ensemble_is_one_model_that_exports_and_reopens(tmp_path):
    import automl_nb
    from automl_nb import SearchState
    from automl_nb.data.layers import model_inputs

    s = automl_nb.search(_frame(), target="label", oracle="random", trials=3, epochs=2, seed=0,
                         batch_size=16, directory=tmp_path / "s")
    assert s.wait(300) is SearchState.DONE, s.error
    plans = [e for e in s.events() if e.kind == "plan" and e.decision == "ensemble"]
    assert len(plans) == 1  # weighed once, at the end, whatever it decided
    detail = plans[0].detail
    assert set(detail["candidates"]) == set(s.results.trial_id)
    x_val = model_inputs(s.dataset.x_val)
    own = {tid: s.best_model(tid).predict(x_val, verbose=0) for tid in detail["candidates"]}
    assert detail["best_loss"] == pytest.approx(
        ensemble.loss(own[detail["best_trial"]], s.dataset.y_val, "classification"), rel=1e-4)
    # each trial kept its validation predictions when its fit ended, its best epoch's: the
    # weighing reads them and loads no model
    for tid, prediction in own.items():
        np.testing.assert_allclose(s._trainer.kept_predictions(tid), prediction, rtol=1e-5, atol=1e-6)

    def no_loading(trial_id):
        raise AssertionError(f"trial {trial_id}'s model was loaded")

    s._trainer.load_model, loaded = no_loading, s._trainer.load_model
    s._models.weigh_ensemble()
    s._trainer.load_model = loaded
    again = [e for e in s.events() if e.kind == "plan" and e.decision == "ensemble"][-1]
    assert again.detail == detail and again.message == plans[0].message
    s.store.predictions_path(detail["best_trial"]).unlink()  # a search of an older version
    s._models.weigh_ensemble()
    again = [e for e in s.events() if e.kind == "plan" and e.decision == "ensemble"][-1]
    assert again.detail["weights"] == detail["weights"] and again.message == plans[0].message
    assert again.detail["best_loss"] == pytest.approx(detail["best_loss"], rel=1e-5)
    # whatever the search decided, an ensemble is one model: the weighted sum of its members
    weights = {"0000": 0.75, "0002": 0.25}
    s._publish(PlanMade(decision="ensemble", message="two trials", detail={"weights": weights}))
    assert s.ensemble_weights() == weights
    expected = 0.75 * own["0000"] + 0.25 * own["0002"]
    np.testing.assert_allclose(s.best_model().predict(x_val, verbose=0), expected, rtol=1e-5, atol=1e-6)
    path = s.export(tmp_path / "best.keras")
    meta = json.loads((tmp_path / "best.keras.json").read_text())
    assert meta["ensemble"] == weights and meta["trial_id"] == s.record.best().trial_id
    assert json.loads(s.export(tmp_path / "one.keras", trial_id="0001").with_suffix(".keras.json")
                      .read_text())["ensemble"] is None
    s.export(tmp_path / "best_savedmodel", format="savedmodel")
    s.export(tmp_path / "best.tflite", format="tflite")
    rows = {"x": s.dataset.x_val["x"].ravel().tolist(), "colour": s.dataset.x_val["colour"].ravel().tolist()}
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    result = subprocess.run([sys.executable, "-c", FRESH, str(tmp_path), str(tmp_path / "got.npz")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(tmp_path / "got.npz") as got:
        np.testing.assert_allclose(got["keras"], expected, rtol=1e-5, atol=1e-6)
        for fmt in ("savedmodel", "tflite"):
            np.testing.assert_allclose(got[fmt], expected, rtol=1e-4, atol=1e-4, err_msg=fmt)
    labels = automl_nb.load(path).predict(pd.DataFrame(rows))  # and automl-nb's loader, in labels
    picked = (expected[:, 0] >= 0.5).astype(int) if expected.shape[1] == 1 else expected.argmax(axis=1)
    assert list(labels) == [s.dataset.class_names[i] for i in picked]
    again = automl_nb.open(tmp_path / "s")
    assert again.ensemble_weights() == weights
    np.testing.assert_allclose(again.best_model().predict(x_val, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # a final fit retrains each trial of the ensemble on all the data, with the same weights
    final = s.final_fit(epochs=1)
    assert s.record.last_command.message == (
        "trials 0000, 0002 of the ensemble retrained on all data for 1, 1 epochs, with the same weights")
    assert final is s.best_model() and final.name == "ensemble"
    members = {tid: ensemble.predict(final.get_layer(f"trial_{tid}"), x_val) for tid in weights}
    np.testing.assert_allclose(final.predict(x_val, verbose=0), 0.75 * members["0000"] + 0.25 * members["0002"],
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(members["0000"], own["0000"])  # retrained, not the search's model
    s.export(tmp_path / "final.keras")
    meta = json.loads((tmp_path / "final.keras.json").read_text())
    assert meta["final_fit"] is True and meta["ensemble"] == weights
    assert s.record.last_command.message.startswith("exported the final fit of the ensemble of trials 0000, 0002")
    assert len(automl_nb.load(tmp_path / "final.keras").predict(pd.DataFrame(rows))) == len(rows["x"])


@pytest.mark.slow
def test_a_real_searchs_own_decision_mixes_trials_and_hands_back_their_weighted_sum(tmp_path):
    """Four one-epoch trials of a small noisy table, seeded and deterministic: they disagree
    enough that the search's own weighing mixes several, with a lower validation loss."""
    import automl_nb
    from automl_nb import SearchState
    from automl_nb.data.layers import model_inputs

    s = automl_nb.search(_frame(), target="label", oracle="random", trials=4, epochs=1, seed=0,
                         batch_size=16, deterministic=True, directory=tmp_path / "s")
    assert s.wait(300) is SearchState.DONE, s.error
    plans = [e for e in s.events() if e.kind == "plan" and e.decision == "ensemble"]
    assert len(plans) == 1
    weights = plans[0].detail["weights"]
    assert len(weights) >= 2, plans[0].message
    assert sum(weights.values()) == pytest.approx(1.0)
    assert plans[0].detail["ensemble_loss"] < plans[0].detail["best_loss"]
    assert s.ensemble_weights() == weights
    x_val = model_inputs(s.dataset.x_val)
    own = {tid: s.best_model(tid).predict(x_val, verbose=0) for tid in weights}
    expected = sum(w * own[tid] for tid, w in weights.items())
    np.testing.assert_allclose(s.best_model().predict(x_val, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert plans[0].detail["ensemble_loss"] == pytest.approx(
        ensemble.loss(expected, s.dataset.y_val, "classification"), rel=1e-4)


@pytest.mark.slow
def test_ensemble_false_hands_back_the_best_trial(tmp_path):
    import automl_nb
    from automl_nb import SearchState

    s = automl_nb.search(_frame(), target="label", oracle="random", trials=2, epochs=1, seed=0,
                         batch_size=16, directory=tmp_path / "s", ensemble=False)
    assert s.wait(300) is SearchState.DONE, s.error
    assert not [e for e in s.events() if e.kind == "plan" and e.decision == "ensemble"]
    assert s.ensemble_weights() == {} and s.best_model().name != "ensemble"


@pytest.mark.slow
def test_predictions_batch_by_batch_equal_predict_for_arrays_columns_and_streams():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1100, 3)).astype("float32")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="softmax")])
    np.testing.assert_allclose(ensemble.predict(plain, x, batch=500), plain.predict(x, verbose=0), atol=1e-6)
    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    columns = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    feed = {"a": x[:, :1], "b": x[:, 1:2]}
    np.testing.assert_allclose(ensemble.predict(columns, feed, batch=300), columns.predict(feed, verbose=0),
                               atol=1e-5)

    class Stream(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 400:(i + 1) * 400], np.zeros(len(x[i * 400:(i + 1) * 400]))

    np.testing.assert_allclose(ensemble.predict(plain, Stream()), plain.predict(x, verbose=0), atol=1e-6)
