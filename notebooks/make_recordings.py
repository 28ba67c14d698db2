"""Record the small searches the classroom notebooks replay (run from the repository root).

    .venv/bin/python notebooks/make_recordings.py

They are written to automl_nb/recordings/ (the package's data folder: they ship in the
wheel, and ``automl_nb.replay("digits-hyperband")`` finds them by name).

Three searches on the bundled digits with one budget of about 75 epochs of training
(at most 9 epochs a trial, seed 0): random search and Bayesian optimisation run 8
trials of 9 epochs; Hyperband (max_epochs 9, factor 3) plays one full iteration, 23
trials that train 75 epochs in all. A budget in epochs, not seconds, keeps what the
recordings show the same however busy the recording machine was. Each
recording keeps only JSON: the journal (events.jsonl) and the settings (search.json);
the Bayesian one also keeps teaching.json, the oracle's Gaussian process as it stood
when it chose each trial (automl_nb.replays.bayesian_snapshots). Models, data and
KerasTuner's files are left behind, so all three together stay small.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "automl_nb" / "recordings"
TRIALS = 8  # random and Bayesian: 8 x 9 = 72 epochs; Hyperband's iteration is 75
EPOCHS = 9
SEED = 0
#: Hyperparameters whose Gaussian-process slices the Bayesian recording keeps.
SLICES = ("learning_rate", "filters", "dropout", "dense_units", "blocks")


def bayesian_oracle():
    import keras_tuner

    from automl_nb.oracles import kt_seed

    # KerasTuner's default waits for 3 random trials a hyperparameter (24 here) before it
    # fits its Gaussian process; 3 lets an 8-trial search show the model at work.
    return keras_tuner.oracles.BayesianOptimizationOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"),
        max_trials=None,
        num_initial_points=3,
        seed=kt_seed(SEED),
    )


def main() -> None:
    import automl_nb
    from automl_nb.replays import bayesian_snapshots, save_recording

    work = Path(tempfile.mkdtemp(prefix="automl-recordings-"))
    os.chdir(work)
    for oracle in ("random", "bayesian", "hyperband"):
        name = f"digits-{oracle}"
        arg = bayesian_oracle() if oracle == "bayesian" else oracle
        started = time.time()
        search = automl_nb.search(
            "digits", oracle=arg, trials=None if oracle == "hyperband" else TRIALS,
            epochs=EPOCHS, seed=SEED, directory=name,
        )
        search.wait()
        trials = list(search.record.trials)
        print(f"{name}: {len(trials)} trials in {time.time() - started:.0f}s, {search.state}",
              flush=True)
        snapshots = None
        if oracle == "bayesian":
            snapshots = bayesian_snapshots(search.oracle, trials, n=30)
            for snap in snapshots:
                snap["surrogates"] = {k: v for k, v in snap["surrogates"].items() if k in SLICES}
        target = HERE / name
        shutil.rmtree(target, ignore_errors=True)
        save_recording(name, target, snapshots=snapshots)
    for path in sorted(HERE.glob("*/*")):
        print(f"{path.relative_to(HERE)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    sys.exit(main())
