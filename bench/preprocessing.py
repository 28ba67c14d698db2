"""What the preprocessing inside the model costs a trial: the model with its layers against the
space's model alone, fed features encoded beforehand.

For digits (``Rescaling`` + a channel axis) and a DataFrame of 8,000 rows (numbers with
missing values, two text columns: ``Normalization``, fill, ``StringLookup``), in one process,
alternating ROUNDS times: the time to build the model, and to fit it for EPOCHS epochs.
The plain side gets the very features the layers compute (taken from the composed model), so
the difference is the layers' own cost. It prints wall time and the process's CPU time (all
threads; less sensitive to other load on a shared machine): read the ratios of the medians.

    python bench/preprocessing.py [--rounds 5] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def frame_data():
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 8000
    frame = pd.DataFrame({
        "area": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(4, 0.5, n)),
        "rooms": rng.integers(1, 7, n),
        "city": rng.choice([f"city{i}" for i in range(60)], n),
        "kind": rng.choice(["flat", "house", None], n),
    })
    frame["price"] = (frame["area"].fillna(50) * 1000 + frame["rooms"] * 5000).round()
    return frame, {"target": "price", "task": "regression"}


def measure(name, dataset, rounds, epochs):
    import keras
    import keras_tuner

    from automl_nb import spaces
    from automl_nb.data.layers import compose, fit_data, input_layers, model_inputs

    hypermodel = spaces.get_space(None, dataset)
    hp = keras_tuner.HyperParameters()
    inputs, features = input_layers(dataset.preprocessing)
    encode = keras.Model(inputs, features)
    x_train = encode.predict(model_inputs(dataset.x_train), verbose=0, batch_size=1024)
    x_val = encode.predict(model_inputs(dataset.x_val), verbose=0, batch_size=1024)
    args, kwargs = fit_data(dataset, 32, 0)
    times: dict[str, tuple[list, list]] = {"build": ([], []), "fit": ([], []), "fit CPU": ([], [])}
    for r in range(rounds):
        for composed in ((False, True) if r % 2 == 0 else (True, False)):
            keras.backend.clear_session()
            t = time.perf_counter()
            inner = hypermodel.build(hp)
            model = compose(inner, dataset.preprocessing) if composed else inner
            times["build"][composed].append(time.perf_counter() - t)
            t, cpu = time.perf_counter(), time.process_time()
            if composed:
                model.fit(*args, epochs=epochs, verbose=0, **kwargs)
            else:
                model.fit(x_train, dataset.y_train, validation_data=(x_val, dataset.y_val), epochs=epochs,
                          batch_size=32, shuffle=True, verbose=0)
            times["fit"][composed].append(time.perf_counter() - t)
            times["fit CPU"][composed].append(time.process_time() - cpu)
    print(f"\n{name}: {len(dataset.y_train):,} training rows, {epochs} epochs a fit, {rounds} rounds")
    for what, (plain, ours) in times.items():
        a, b = statistics.median(plain), statistics.median(ours)
        print(f"  {what:7}  space's model alone {a:6.2f}s   with the preprocessing layers {b:6.2f}s   "
              f"ratio {b / a:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    from automl_nb.data import load_data

    print(f"preprocessing inside the model; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
          "cores (timings are noisy; read the ratios)")
    measure("digits (Rescaling, channel axis)", load_data("digits", seed=0), args.rounds, args.epochs)
    frame, kwargs = frame_data()
    measure("a DataFrame (Normalization, fill, StringLookup)", load_data(frame, seed=0, **kwargs),
            args.rounds, args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
