"""Quantized TFLite export: the file is smaller, and the score it reports is the one a user's
TFLite interpreter gets on the validation data, in a fresh process without automl-nb.

One tiny digits search (2 trials, 2 epochs) and one DataFrame search run in this process; each
is exported as float32 and in every quantization mode; a fresh process loads each file with
TensorFlow's interpreter, predicts the validation rows from the raw input, and its accuracy must
equal the score the export's ``.json`` reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl_nb
from automl_nb.errors import SearchError
from automl_nb.export import QUANTIZE, check_quantize

pytestmark = pytest.mark.slow


def test_quantize_is_checked_in_one_sentence():
    assert check_quantize(None, "keras") is None
    assert check_quantize(" INT8 ", "tflite") == "int8"
    with pytest.raises(SearchError, match=r"must be one of 'dynamic', 'float16', 'int8' or None; "
                                          r"got 'int4'") as caught:
        check_quantize("int4", "tflite")
    assert caught.value.argument == "quantize"
    with pytest.raises(SearchError, match=r"applies to format='tflite' only; got format 'keras'"):
        check_quantize("int8", "keras")


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quantize")
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(10, 3, n),
                          "colour": rng.choice(["red", "green", "blue"], n)})
    frame["label"] = np.where(frame.a + (frame.colour == "red") > 0.3, "yes", "no")
    out = {}
    for name, data, kwargs in (("digits", "digits", {}), ("frame", frame, {"target": "label"})):
        s = automl_nb.search(data, trials=2, epochs=2, seed=0, directory=tmp / name,
                             ensemble=False, **kwargs)
        assert s.wait(timeout=300) is automl_nb.SearchState.DONE
        out[name] = s
    return tmp, out


FRESH = textwrap.dedent("""
    import json, sys, warnings
    sys.modules["automl_nb"] = None  # a machine without automl-nb
    import numpy as np, tensorflow as tf
    plan, scores = json.load(open(sys.argv[1])), {}
    for key, case in plan.items():
        with np.load(case["raw"], allow_pickle=True) as raw:
            y = raw["y"]
            if case["columns"]:
                x = {name: raw[f"c{i}"] for i, name in enumerate(case["columns"])}
            else:
                x = raw["x"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = tf.lite.Interpreter(model_path=case["path"]).get_signature_runner()
        details = runner.get_input_details()
        if isinstance(x, dict):
            feed = {k: (v.reshape(-1, 1).astype(bytes) if v.dtype == object
                        else v.reshape(-1, 1).astype(details[k]["dtype"])) for k, v in x.items()}
        else:
            (name, detail), = details.items()
            feed = {name: x.astype(detail["dtype"])}
        out = np.asarray(next(iter(runner(**feed).values()))).reshape(len(y), -1)
        picked = (out[:, 0] >= 0.5).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
        scores[key] = float(np.mean(picked == y))
    json.dump(scores, open(sys.argv[2], "w"))
""")


def test_quantized_exports_report_what_a_fresh_interpreter_scores(searches):
    tmp, found = searches
    plan, reports = {}, {}
    for name, s in found.items():
        x_val, y_val = s.dataset.x_val, s.dataset.y_val
        raw = tmp / f"{name}-raw.npz"
        if isinstance(x_val, dict):
            np.savez(raw, y=y_val, **{f"c{i}": np.asarray(v) for i, v in enumerate(x_val.values())})
        else:
            np.savez(raw, x=x_val, y=y_val)
        for mode in (None, *QUANTIZE):
            path = s.export(tmp / f"{name}-{mode}.tflite", format="tflite", quantize=mode)
            meta = json.loads(Path(str(path) + ".json").read_text())
            answer = s.record.last_command
            if mode is None:
                assert "quantization" not in meta and "quantized" not in answer.message
                continue
            report = meta["quantization"]
            reports[f"{name}.{mode}"] = report
            assert report["mode"] == mode and report["metric"] == "accuracy"
            assert report["size_bytes"] == path.stat().st_size
            assert report["size_bytes"] < report["float_size_bytes"], report
            assert f"quantized {mode}: " in answer.message and "float32" in answer.message
            plan[f"{name}.{mode}"] = {"path": str(path), "raw": str(raw),
                                      "columns": list(x_val) if isinstance(x_val, dict) else None}
    (tmp / "plan.json").write_text(json.dumps(plan))
    result = subprocess.run([sys.executable, "-c", FRESH, str(tmp / "plan.json"), str(tmp / "got.json")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads((tmp / "got.json").read_text())
    assert set(got) == set(reports)
    for key, report in reports.items():
        assert got[key] == pytest.approx(report["score"], abs=1e-9), key
    # int8 and dynamic store weights in a byte: well under half of the float32 file
    assert reports["digits.int8"]["size_ratio"] < 0.5
    assert reports["digits.dynamic"]["size_ratio"] < 0.5


def test_a_bad_quantize_leaves_nothing_written(searches):
    tmp, found = searches
    s = found["digits"]
    with pytest.raises(SearchError, match="applies to format='tflite' only"):
        s.export(tmp / "x.keras", quantize="int8")
    assert not (tmp / "x.keras").exists()
