"""Overhead of automl-nb over plain KerasTuner on the same seeded search.

Both variants run the same search: the bundled digits set (``load_data("digits", seed=0)``),
the built-in space for it (``automl_nb.spaces.get_space(None, dataset)``), a seeded
RandomSearchOracle on val_accuracy, 8 trials x 5 epochs, batch size 32. The oracle gets the
same seed in both (automl-nb hands KerasTuner ``seed + 1``; we do the same for the plain one),
so both train the same sequence of hyperparameters; the script checks that and says so.

- plain:    ``keras_tuner.Tuner(oracle=RandomSearchOracle(...), hypermodel=space, ...)``
            then ``tuner.search(...)`` on this thread.
- automl_nb: ``automl_nb.search(dataset, oracle="random", ...)`` with one subscriber that
            counts events, then ``.wait()``; timed from the call to wait() returning.

automl-nb turns on TensorFlow's op determinism when it gets a seed, for the whole process, so
this script turns it on before any run: both variants are timed under it.

After one small warm-up of each (imports, thread pools, first tracing), the two variants
alternate, ROUNDS rounds of (plain, automl_nb) with the order flipped every other round.
It prints per-round wall times (and the process's CPU time, less sensitive to other load on
a shared machine), the median of each, the ratio automl_nb / plain of the medians (and of the minimums, the
run least disturbed by other load), and the
events per trial. Nothing is asserted: the machine may be shared and noisy.

    .venv/bin/python bench/overhead.py [--rounds 3] [--trials 8] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = 0
BATCH_SIZE = 32
OBJECTIVE = "val_accuracy"


def seed_everything(seed: int) -> None:
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # Python, NumPy and the backend (TensorFlow)


def run_plain(dataset, directory: Path, trials: int, epochs: int) -> tuple[float, float, list[dict]]:
    """Plain KerasTuner; returns (wall s, process CPU s, hyperparameters of each trial in order)."""
    import keras_tuner

    from automl_nb import spaces
    from automl_nb.oracles import kt_seed

    seed_everything(SEED)
    start, cpu = time.perf_counter(), time.process_time()
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective(OBJECTIVE, "max"),
        max_trials=trials,
        seed=kt_seed(SEED),  # what automl_nb gives KerasTuner for seed=SEED
    )
    tuner = keras_tuner.Tuner(
        oracle=oracle,
        hypermodel=spaces.get_space(None, dataset),
        directory=str(directory),
        project_name="kt",
        overwrite=True,
    )
    tuner.search(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_val, dataset.y_val),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = sorted(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id))
    hps = [_strip(t.hyperparameters.values) for t in done]
    return seconds, cpu, hps


def run_ours(dataset, directory: Path, trials: int, epochs: int) -> tuple[float, float, list[dict], int, str]:
    """automl_nb; returns (wall s, process CPU s, hyperparameters of each trial, events, final state)."""
    import automl_nb

    seed_everything(SEED)
    count = [0]

    def counter(event) -> None:
        count[0] += 1

    HOOKS.reset()
    start, cpu = time.perf_counter(), time.process_time()
    search = automl_nb.search(
        dataset,
        oracle="random",
        trials=trials,
        epochs=epochs,
        seed=SEED,
        batch_size=BATCH_SIZE,
        directory=directory,
        overwrite=True,
    )
    search.subscribe(counter, replay=True)  # replay: the events published before it subscribed
    state = search.wait()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    with search.lock:
        ordered = sorted(search.record.trials.values(), key=lambda t: int(t.trial_id))
        hps = [_strip(t.hyperparameters) for t in ordered]
    if search.error:
        print(f"  automl_nb search failed: {search.error}")
    return seconds, cpu, hps, count[0], str(state)


class HookTimer:
    """Time spent inside automl_nb's own additions to a search, summed over calls.

    Wraps (in this process only) the per-batch and per-epoch callback hooks, the trial
    start/end bookkeeping (journal writes and subscribers), the optimizer-state save and the
    writing of the search directory. KerasTuner's and Keras's own work is not counted. The
    wrappers cost a few microseconds a call, charged to automl_nb: an upper bound.
    """

    TARGETS = (
        ("automl_nb.backends.tuner", "_StreamCallback", "on_train_batch_end"),
        ("automl_nb.backends.tuner", "_StreamCallback", "on_epoch_end"),  # includes Engine.epoch_end
        ("automl_nb.backends.tuner", "AutoMLTuner", "save_optimizer_state"),  # where the library has it
        ("automl_nb.backends.engine", "Engine", "begin_trial"),
        ("automl_nb.backends.engine", "Engine", "end_trial"),
        ("automl_nb._search", None, "_create_directory"),
    )

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._depth = 0

    def install(self) -> list[str]:
        """Wraps what exists; returns the names timed."""
        import importlib

        timed = []
        for module_name, owner_name, attr in self.TARGETS:
            module = importlib.import_module(module_name)
            owner = module if owner_name is None else getattr(module, owner_name, None)
            original = getattr(owner, attr, None) if owner is not None else None
            if original is None:
                continue
            setattr(owner, attr, self._wrap(original))
            timed.append(f"{owner_name or module_name.rsplit('.', 1)[-1]}.{attr}")
        return timed

    def _wrap(self, fn):
        timer = self

        def timed(*args, **kwargs):
            if timer._depth:  # nested (on_epoch_end -> save_optimizer_state): count once
                return fn(*args, **kwargs)
            timer._depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - start
                timer.calls += 1
                timer._depth -= 1

        return timed

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


HOOKS = HookTimer()


def _strip(values: dict) -> dict:
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    import tensorflow as tf

    # automl_nb enables op determinism (process-wide) whenever a seed is given: enable it
    # now so the plain runs are timed under the same setting as ours.
    tf.config.experimental.enable_op_determinism()

    from automl_nb.data import load_data

    hooks = HOOKS.install()  # imports automl_nb.backends.tuner (TensorFlow is already imported)

    dataset = load_data("digits", seed=SEED)
    print(
        f"overhead: digits ({len(dataset.x_train)} train / {len(dataset.x_val)} val), built-in space, "
        f"random oracle seed {SEED}, {args.trials} trials x {args.epochs} epochs, batch {BATCH_SIZE}"
    )
    print(
        "TF op determinism: enabled before every run (automl_nb enables it process-wide when "
        "seeded), so both variants run under it"
    )
    print(f"automl_nb hooks timed: {', '.join(hooks)}")
    print(f"TF threads: intra {tf.config.threading.get_intra_op_parallelism_threads()}, "
          f"inter {tf.config.threading.get_inter_op_parallelism_threads()} (0 = TF default); "
          f"CPUs {os.cpu_count()}")

    with tempfile.TemporaryDirectory(prefix="automl_nb_bench_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        w_plain = run_plain(dataset, root / "warm-plain", trials=2, epochs=1)[0]
        w_ours = run_ours(dataset, root / "warm-ours", trials=2, epochs=1)[0]
        print(f"warm-up (2 trials x 1 epoch each, not counted): plain {w_plain:.1f}s, "
              f"automl_nb {w_ours:.1f}s ({time.perf_counter() - t0:.1f}s)")

        wall = {"plain": [], "automl_nb": []}
        cpu = {"plain": [], "automl_nb": []}
        events_per_trial: list[float] = []
        hook_seconds: list[float] = []
        same_hps = True
        reference: list[dict] | None = None
        for r in range(args.rounds):
            order = ("plain", "automl_nb") if r % 2 == 0 else ("automl_nb", "plain")
            line = []
            for variant in order:
                directory = root / f"{variant}-{r}"
                if variant == "plain":
                    seconds, cpu_s, hps = run_plain(dataset, directory, args.trials, args.epochs)
                    extra = ""
                else:
                    seconds, cpu_s, hps, events, state = run_ours(
                        dataset, directory, args.trials, args.epochs
                    )
                    events_per_trial.append(events / max(len(hps), 1))
                    hook_seconds.append(HOOKS.seconds)
                    extra = f", {events} events, {state}, {HOOKS.seconds:.2f}s in its hooks"
                wall[variant].append(seconds)
                cpu[variant].append(cpu_s)
                line.append(f"{variant} {seconds:6.2f}s (cpu {cpu_s:6.2f}s{extra})")
                if len(hps) != args.trials:
                    same_hps = False
                    line.append(f"[{variant}: {len(hps)} trials!]")
                if reference is None:
                    reference = hps
                elif hps != reference:
                    same_hps = False
            ratio = wall["automl_nb"][-1] / wall["plain"][-1]
            print(f"round {r + 1}: " + ", ".join(line) + f"  -> ratio {ratio:.3f}")

    print(f"same hyperparameter sequence in every run of both variants: {'yes' if same_hps else 'NO'}")
    for label, data in (("wall", wall), ("cpu", cpu)):
        for variant in ("plain", "automl_nb"):
            times = data[variant]
            print(f"{label:4s} {variant:9s} median {statistics.median(times):6.2f}s  "
                  f"(rounds: {', '.join(f'{t:.2f}' for t in times)})")
    for label, data in (("wall", wall), ("cpu", cpu)):
        per_round = [o / p for o, p in zip(data["automl_nb"], data["plain"])]
        ratio = statistics.median(data["automl_nb"]) / statistics.median(data["plain"])
        best = min(data["automl_nb"]) / min(data["plain"])
        print(f"ratio automl_nb / plain ({label} time): {ratio:.3f} of medians, {best:.3f} of minimums "
              f"(per round {', '.join(f'{x:.3f}' for x in per_round)}), target <= 1.05")
    print(f"time inside automl_nb's own hooks (callbacks, journal, subscribers, optimizer-state "
          f"and directory writes) a search: median {statistics.median(hook_seconds):.2f}s = "
          f"{statistics.median(hook_seconds) / statistics.median(wall['automl_nb']):.1%} of its "
          f"median wall time")
    print(f"events per trial (all events / trials, search-level events included): "
          f"{statistics.median(events_per_trial):.2f}")


if __name__ == "__main__":
    main()
