"""Quantized TFLite export: what each mode saves in file size and costs in accuracy, in one run.

For each task (bench/quality.py's ``digits`` and ``mnist1d``, the same splits) one automl-nb
search runs with its defaults for the time budget, then its best model is exported as float32
TFLite and in each quantization mode ("dynamic", "float16", "int8"). Every file is scored by the
TFLite interpreter on the validation rows (the export's own report) and on the test rows. The
targets (issue 34): the int8 file at most 30% of the float32 file's size, its validation
accuracy within one point of the float model's.

A JSON results file goes to bench/results/ (commit, date, machine, load, task, seed, each
mode's size and scores); the figures in the docs are read from those files.

    .venv/bin/python bench/quantize.py                       # digits and mnist1d
    .venv/bin/python bench/quantize.py --task digits --time 20 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np
import quality

import automl_nb
from automl_nb import export as exporting
from automl_nb.predictor import class_indices

MODES = (None, "dynamic", "float16", "int8")
TASKS = ("digits", "mnist1d")


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def test_accuracy(path: Path, x_test: np.ndarray, y_test: np.ndarray) -> float:
    runner = exporting.interpreter(path.read_bytes())
    outs = [exporting.tflite_predict(runner, x_test[i:i + 256]) for i in range(0, len(x_test), 256)]
    return float(np.mean(class_indices(np.concatenate(outs)) == y_test))


def run_task(name: str, budget: float | None, seed: int, folder: Path) -> dict:
    task = quality.TASKS[name](False)
    budget = budget or task.budget_s
    started = time.monotonic()
    s = automl_nb.search(task.ours_train, validation=task.ours_val, time=budget, seed=seed,
                         directory=folder / name)
    s.wait()
    searched = time.monotonic() - started
    rows = []
    for mode in MODES:
        path = folder / f"{name}-{mode or 'float32'}.tflite"
        t0 = time.monotonic()
        s.export(path, format="tflite", quantize=mode)
        seconds = time.monotonic() - t0
        meta = json.loads(Path(str(path) + ".json").read_text())
        report = meta.get("quantization")
        row = {"mode": mode or "float32", "size_bytes": path.stat().st_size,
               "export_s": round(seconds, 2),
               "validation_accuracy": report["score"] if report else None,
               "float_validation_accuracy": report["float_score"] if report else None,
               "size_ratio": report["size_ratio"] if report else 1.0,
               "test_accuracy": test_accuracy(path, task.ours_test, task.y_test)}
        rows.append(row)
    return {"task": name, "budget_s": budget, "seed": seed, "search_s": round(searched, 1),
            "trials": len(s.results), "modes": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default=",".join(TASKS), help="comma-separated: digits,mnist1d")
    parser.add_argument("--time", type=float, default=None, help="seconds a search (task's own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for the results file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    results = {"bench": "quantize", "commit": _commit(), "date": time.strftime("%Y-%m-%d %H:%M"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "load": os.getloadavg()[0], "tasks": []}
    with tempfile.TemporaryDirectory(prefix="automl_nb-quantize-") as tmp:
        for name in args.task.split(","):
            found = run_task(name.strip(), args.time, args.seed, Path(tmp))
            results["tasks"].append(found)
            print(f"\n{name}: {found['trials']} trials in {found['search_s']} s")
            print(f"  {'mode':8} {'size':>10} {'ratio':>6} {'val acc':>8} {'float':>8} {'test acc':>8}")
            for row in found["modes"]:
                val = row["validation_accuracy"]
                fl = row["float_validation_accuracy"]
                print(f"  {row['mode']:8} {row['size_bytes'] / 1024:9.1f}K {row['size_ratio']:6.0%} "
                      f"{'' if val is None else f'{val:.4f}':>8} {'' if fl is None else f'{fl:.4f}':>8} "
                      f"{row['test_accuracy']:8.4f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"quantize-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
