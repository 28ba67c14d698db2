"""Overhead of automl-nb: one fixed trial against plain ``model.fit``, and a search against
plain KerasTuner. Both on the default path: no TensorFlow op determinism (a user gets it
only with ``search(deterministic=True)``, and only while that search runs).

1. A search (``--rounds``, default 3): the bundled digits set (``load_data("digits",
   seed=0)``), the built-in space for it (``automl_nb.spaces.get_space(None, dataset)``), a
   seeded RandomSearchOracle on val_accuracy, 8 trials x 5 epochs, batch size 32. The
   oracle gets the same seed in both (automl-nb hands KerasTuner ``seed + 1``; we do the
   same for the plain one), so both train the same sequence of hyperparameters; the script
   checks that and says so.

   - plain:     ``keras_tuner.Tuner(oracle=RandomSearchOracle(...), hypermodel=space, ...)``
                then ``tuner.search(...)`` on this thread.
   - automl_nb: ``automl_nb.search(dataset, oracle="random", ...)`` with one subscriber that
                counts events, then ``.wait()``; timed from the call to wait() returning.

   Target: at most 1.05 times plain KerasTuner.

2. One fixed trial (``--fit-rounds``, default 3): the same fixed CNN (no hyperparameter to
   choose) trained for 10 epochs of 100 batches of 32 (digits tiled with noise to 3,200
   training and 800 validation images), validated every epoch:

   - plain:     build, compile, ``model.fit(..., validation_data=..., epochs=10)``;
   - automl_nb: ``automl_nb.search((x, y), validation=..., space=build, trials=1, epochs=10)``
                then ``wait()``: everything a user waits for (argument and data checks, the
                search's directory, the tuner, the callbacks, checkpoints, events).

   Target (issue 15): at most 1.03 times plain ``model.fit``.

After one small warm-up of each (imports, thread pools, first tracing), the two variants
alternate, with the order flipped every other round (three take each place in turn). It
prints per-round wall times (and the process's CPU time, less sensitive to other load on a
shared machine), the median of each, the ratio automl_nb / plain of the medians (and of the
minimums, the run least disturbed by other load), a distribution-free 95% interval for the
median of the per-round ratios (from 6 rounds; the target is shown met only when the
interval's upper end is under it), the least-disturbed ratio (each run cut where its epochs
begin, each part's minimum over the rounds summed: other load only ever adds time, and it
rarely spares a whole run), where automl_nb's time goes outside training (before fit, after
it), the time spent inside automl_nb's own hooks (HookTimer.TARGETS: the script stops with a
sentence if one of them no longer exists) and the events per trial. Nothing is asserted: the
machine may be shared and noisy.

``--plain-built`` adds a third variant to 2.: plain fit with the optimizer's and metrics'
variables made before it, as automl_nb makes them; automl_nb against it is what automl_nb adds
with the faster first epoch that making them early gives set apart.

    .venv/bin/python bench/overhead.py [--fit-rounds 3] [--rounds 3] [--trials 8] [--epochs 5]
                                       [--only fit|search] [--plain-built]
"""

from __future__ import annotations

import argparse
import itertools
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
FIT_EPOCHS = 10
FIT_BATCHES = 100  # training batches an epoch
FIT_VAL_BATCHES = 25


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


def fixed_data():
    """Digits (8x8, scaled to [0, 1]) drawn with replacement, plus a little noise, to 100
    training batches and 25 validation batches of BATCH_SIZE."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    rng = np.random.default_rng(SEED)
    n_train, n_val = FIT_BATCHES * BATCH_SIZE, FIT_VAL_BATCHES * BATCH_SIZE
    pick = rng.integers(0, len(x), n_train + n_val)
    xs = x[pick] + rng.normal(0.0, 0.05, (len(pick), 8, 8, 1)).astype("float32")
    ys = digits.target[pick]
    return (xs[:n_train], ys[:n_train]), (xs[n_train:], ys[n_train:])


def build_fixed(hp=None):
    """A fixed CNN: nothing for a tuner to choose."""
    import keras

    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def epoch_clock():
    """A callback that notes when each epoch begins (perf_counter) in its ``begins``; epoch
    hooks only, so it adds nothing to a batch."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begins: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.begins.append(time.perf_counter())

    return EpochClock()


def parts(start: float, begins: list[float], end: float) -> list[float]:
    """A run cut where each epoch begins: the set-up (to the first epoch), every epoch but the
    last (to the next one's start), and the last epoch with what follows it (to the end).
    They sum to the run's wall time."""
    marks = [start, *begins, end]
    return [b - a for a, b in itertools.pairwise(marks)]


def fit_plain(train, val, epochs: int, build_state: bool = False) -> tuple[float, float, int, float, list[float]]:
    """Plain Keras; returns (wall s, process CPU s, epochs trained, s to build and compile,
    the run's :func:`parts`). ``build_state``: the optimizer's and metrics' variables made
    before fit, as automl_nb makes them (``automl_nb.backends.tuner._build_state``)."""
    seed_everything(SEED)
    clock = epoch_clock()
    start, cpu = time.perf_counter(), time.process_time()
    model = build_fixed()
    if build_state:
        from automl_nb.backends.tuner import _build_state

        _build_state(model, *train)
    built = time.perf_counter() - start
    history = model.fit(*train, validation_data=val, epochs=epochs, batch_size=BATCH_SIZE, verbose=0,
                        callbacks=[clock])
    end = time.perf_counter()
    return end - start, time.process_time() - cpu, len(history.history["loss"]), built, parts(
        start, clock.begins, end)


def fit_ours(train, val, epochs: int, directory: Path) -> tuple[float, float, int, dict[str, float], list[float]]:
    """One trial of automl_nb with the same fixed model; returns (wall s, CPU s, epochs
    trained, phases, the run's :func:`parts`). The phases: the seconds from the call to fit's
    start (``before``: checks, directory, tuner, the model built and compiled, its state, fit's
    own set-up), inside automl_nb's callbacks during fit (``hooks``), and from fit's end to
    ``wait()`` returning (``after``: the trial's end, the thread's end)."""
    import automl_nb

    seed_everything(SEED)
    HOOKS.reset()
    start, cpu = time.perf_counter(), time.process_time()
    search = automl_nb.search(train, validation=val, space=build_fixed, oracle="random", trials=1,
                              epochs=epochs, seed=SEED, batch_size=BATCH_SIZE, directory=directory,
                              overwrite=True)
    state = search.wait()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if str(state) != "done" or search.error:
        raise SystemExit(f"overhead.py: the one-trial search ended {state}: {search.error}")
    with search.lock:
        trained = sum(t.epochs - t.initial_epoch for t in search.record.trials.values())
    phases = {}
    if HOOKS.train_began is not None and HOOKS.train_ended is not None:
        end = start + seconds
        phases = {
            "before": HOOKS.train_began - start,
            "hooks": sum(seconds for name, seconds in HOOKS.by_name.items()  # the callbacks'
                         if name.startswith(("_StreamCallback.", "_BestEpoch."))),
            "after": end - HOOKS.train_ended,
        }
    return seconds, cpu, trained, phases, parts(start, HOOKS.epoch_begins, start + seconds)


def compare_fit(rounds: int, root: Path, plain_built: bool = False) -> None:
    train, val = fixed_data()
    print(f"2. one fixed trial: a fixed CNN, {FIT_EPOCHS} epochs x {FIT_BATCHES} batches of "
          f"{BATCH_SIZE} ({len(train[0])} train / {len(val[0])} val images), validated every epoch")
    t0 = time.perf_counter()
    warm = fit_plain(train, val, 1)[0], fit_ours(train, val, 1, root / "fit-warm")[0]
    variants = ["plain", "automl_nb"] + (["plain_built"] if plain_built else [])
    cut: dict[str, list[list[float]]] = {v: [] for v in variants}  # parts() of each round
    phases: dict[str, list[float]] = {"plain build": []}
    by_name: list[dict[str, float]] = []  # automl_nb's hooks, one dict a round
    print(f"   warm-up (1 epoch each, not counted): plain {warm[0]:.1f}s, automl_nb {warm[1]:.1f}s "
          f"({time.perf_counter() - t0:.1f}s)")
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    hooks: list[float] = []
    for r in range(rounds):
        # two variants swap places every round; three take each place in turn
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        line = []
        for variant in order:
            if variant == "plain_built":
                seconds, cpu_s, epochs, _, run_parts = fit_plain(train, val, FIT_EPOCHS, build_state=True)
                extra = ""
            elif variant == "plain":
                seconds, cpu_s, epochs, built, run_parts = fit_plain(train, val, FIT_EPOCHS)
                phases["plain build"].append(built)
                extra = ""
            else:
                seconds, cpu_s, epochs, ours, run_parts = fit_ours(train, val, FIT_EPOCHS, root / f"fit-{r}")
                hooks.append(HOOKS.seconds)
                by_name.append(dict(HOOKS.by_name))
                for name, value in ours.items():
                    phases.setdefault(name, []).append(value)
                extra = f", {HOOKS.seconds:.2f}s in its hooks"
            if epochs != FIT_EPOCHS:
                raise SystemExit(f"overhead.py: {variant} trained {epochs} epochs, not {FIT_EPOCHS}")
            wall[variant].append(seconds)
            cpu[variant].append(cpu_s)
            cut[variant].append(run_parts)
            line.append(f"{variant} {seconds:6.2f}s (cpu {cpu_s:6.2f}s{extra})")
        print(f"   round {r + 1}: " + ", ".join(line)
              + f"  -> ratio {wall['automl_nb'][-1] / wall['plain'][-1]:.3f}")
    if phases.get("before"):
        median = {name: statistics.median(values) for name, values in phases.items()}
        print(f"   where automl_nb's time goes outside training (medians): {median['before']:.2f}s from the "
              f"call to fit's start (plain: {median['plain build']:.2f}s to build and compile), "
              f"{median['hooks']:.2f}s in its hooks during fit, {median['after']:.2f}s from fit's end "
              f"to wait() returning")
        names = sorted({name for one in by_name for name in one})
        each = {name: statistics.median(one.get(name, 0.0) for one in by_name) for name in names}
        print("   its hooks one by one (medians): " + ", ".join(
            f"{name} {seconds * 1000:.0f} ms" for name, seconds in sorted(each.items(), key=lambda i: -i[1])))
    least = {variant: least_disturbed(runs) for variant, runs in cut.items()}
    if least["plain"] is not None and least["automl_nb"] is not None:
        print(f"   least disturbed (each part's minimum over the rounds: the set-up, each epoch, the last "
              f"epoch with the end; other load only ever adds time): plain {sum(least['plain']):.2f}s "
              f"(set-up {least['plain'][0]:.2f}s), automl_nb {sum(least['automl_nb']):.2f}s (set-up "
              f"{least['automl_nb'][0]:.2f}s): ratio {sum(least['automl_nb']) / sum(least['plain']):.3f}, "
              f"target <= 1.03")
    if plain_built:
        per_round = [o / p for o, p in zip(wall["automl_nb"], wall["plain_built"])]
        interval = median_interval(per_round)
        said = "" if interval is None else f", {interval[2]:.0%} interval {interval[0]:.3f}..{interval[1]:.3f}"
        built = least_disturbed(cut["plain_built"])
        print(f"   against plain with its state built first (what automl_nb adds, its faster first "
              f"epoch apart): plain_built median {statistics.median(wall['plain_built']):.2f}s, ratio of "
              f"medians {statistics.median(wall['automl_nb']) / statistics.median(wall['plain_built']):.3f}, "
              f"per-round median {statistics.median(per_round):.3f}{said}"
              + ("" if built is None or least["automl_nb"] is None else
                 f", least disturbed {sum(least['automl_nb']) / sum(built):.3f}"))
    report({k: wall[k] for k in ("plain", "automl_nb")}, {k: cpu[k] for k in ("plain", "automl_nb")},
           hooks, target="1.03", indent="   ")


def least_disturbed(runs: list[list[float]]) -> list[float] | None:
    """Each part's minimum over the runs (the runs cut by :func:`parts`); None when the runs
    were not cut the same way."""
    if not runs or len({len(run) for run in runs}) != 1:
        return None
    return [min(values) for values in zip(*runs)]


def report(wall: dict, cpu: dict, hooks: list[float], target: str, indent: str) -> None:
    for label, data in (("wall", wall), ("cpu", cpu)):
        for variant in ("plain", "automl_nb"):
            times = data[variant]
            print(f"{indent}{label:4s} {variant:9s} median {statistics.median(times):6.2f}s  "
                  f"(rounds: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"{indent}time inside automl_nb's own hooks: median {statistics.median(hooks):.2f}s = "
          f"{statistics.median(hooks) / statistics.median(wall['automl_nb']):.1%} of its median wall time")
    for label, data in (("cpu", cpu), ("wall", wall)):
        per_round = [o / p for o, p in zip(data["automl_nb"], data["plain"])]
        ratio = statistics.median(data["automl_nb"]) / statistics.median(data["plain"])
        best = min(data["automl_nb"]) / min(data["plain"])
        print(f"{indent}ratio automl_nb / plain ({label} time): {ratio:.3f} of medians, {best:.3f} of "
              f"minimums (per round {', '.join(f'{x:.3f}' for x in per_round)}), target <= {target}")
        interval = median_interval(per_round)
        if interval is None:
            print(f"{indent}  (an interval for the per-round ratio needs at least 6 rounds)")
            continue
        low, high, coverage = interval
        verdict = "under the target" if high <= float(target) else "not shown under the target"
        print(f"{indent}  per-round ratio: median {statistics.median(per_round):.3f}, "
              f"{coverage:.0%} interval {low:.3f}..{high:.3f} ({verdict})")


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float] | None:
    """A distribution-free interval for the median of ``values`` (one ratio a round; the rounds
    independent): the k-th smallest and k-th largest value, with the largest k whose coverage,
    1 - 2 P(Binomial(n, 1/2) < k), is still at least ``level``. (low, high, coverage), or None
    when even k = 1 (the minimum and maximum) covers less: fewer than 6 rounds."""
    from math import comb

    n = len(values)
    ordered = sorted(values)
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1.0 - 2.0 * sum(comb(n, i) for i in range(k)) / 2.0**n
        if coverage < level:
            break
        best = (ordered[k - 1], ordered[n - k], coverage)
    return best


class HookTimer:
    """Time spent inside automl_nb's own additions to a search, summed over calls.

    Wraps (in this process only) the per-batch and per-epoch callback hooks, the restore of a
    parent's checkpoint, the best epoch kept in memory and written at the trial's end, the model state built before fit, the trial start/end bookkeeping
    (journal writes and subscribers) and the writing of the search directory. KerasTuner's
    and Keras's own work is not counted. The wrappers cost a few microseconds a call,
    charged to automl_nb: an upper bound. A target that no longer exists stops the script
    (the package moved it: update TARGETS) instead of being left out in silence.
    """

    TARGETS = (
        ("automl_nb.backends.tuner", "_StreamCallback", "on_epoch_begin"),
        ("automl_nb.backends.tuner", "_StreamCallback", "on_train_batch_end"),
        ("automl_nb.backends.tuner", "_StreamCallback", "on_train_begin"),  # a parent's checkpoint
        ("automl_nb.backends.tuner", "_StreamCallback", "on_epoch_end"),  # includes Engine.epoch_end
        ("automl_nb.backends.tuner", "_BestEpoch", "on_epoch_end"),  # the best epoch, in memory
        ("automl_nb.backends.tuner", "_BestEpoch", "on_train_end"),  # ... written once
        ("automl_nb.backends.tuner", None, "_build_state"),
        ("automl_nb.backends.engine", "Engine", "begin_trial"),
        ("automl_nb.backends.engine", "Engine", "end_trial"),
        ("automl_nb.store", "Store", "create"),  # settings and data written to the directory
    )

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.by_name: dict[str, float] = {}
        self.train_began: float | None = None  # perf_counter at the first on_train_begin
        self.train_ended: float | None = None  # ... and when the last _BestEpoch.on_train_end returned
        self.epoch_begins: list[float] = []  # perf_counter as each on_epoch_begin is called
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
                raise SystemExit(f"overhead.py: {module_name}.{owner_name or ''}{'.' if owner_name else ''}"
                                 f"{attr} no longer exists; update HookTimer.TARGETS")
            name = f"{owner_name or module_name.rsplit('.', 1)[-1]}.{attr}"
            setattr(owner, attr, self._wrap(original, name))
            timed.append(name)
        return timed

    def _wrap(self, fn, name: str):
        timer = self

        def timed(*args, **kwargs):
            if timer._depth:  # nested (on_epoch_end -> save_optimizer_state): count once
                return fn(*args, **kwargs)
            timer._depth += 1
            start = time.perf_counter()
            if name == "_StreamCallback.on_train_begin" and timer.train_began is None:
                timer.train_began = start
            elif name == "_StreamCallback.on_epoch_begin":
                timer.epoch_begins.append(start)
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                timer.seconds += end - start
                timer.by_name[name] = timer.by_name.get(name, 0.0) + end - start
                timer.calls += 1
                timer._depth -= 1
                if name == "_BestEpoch.on_train_end":
                    timer.train_ended = end

        return timed

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0
        self.by_name = {}
        self.train_began = self.train_ended = None
        self.epoch_begins = []


HOOKS = HookTimer()


def _strip(values: dict) -> dict:
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def compare_search(args, root: Path) -> None:
    from automl_nb.data import load_data

    dataset = load_data("digits", seed=SEED)
    print(
        f"1. a search: digits ({len(dataset.x_train)} train / {len(dataset.x_val)} val), built-in "
        f"space, random oracle seed {SEED}, {args.trials} trials x {args.epochs} epochs, batch {BATCH_SIZE}"
    )
    t0 = time.perf_counter()
    w_plain = run_plain(dataset, root / "warm-plain", trials=2, epochs=1)[0]
    w_ours = run_ours(dataset, root / "warm-ours", trials=2, epochs=1)[0]
    print(f"   warm-up (2 trials x 1 epoch each, not counted): plain {w_plain:.1f}s, "
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
                seconds, cpu_s, hps, events, state = run_ours(dataset, directory, args.trials, args.epochs)
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
        print(f"   round {r + 1}: " + ", ".join(line) + f"  -> ratio {ratio:.3f}")
    print(f"   same hyperparameter sequence in every run of both variants: {'yes' if same_hps else 'NO'}")
    print(f"   events per trial (all events / trials, search-level events included): "
          f"{statistics.median(events_per_trial):.2f}")
    report(wall, cpu, hook_seconds, target="1.05", indent="   ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-rounds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--only", choices=("fit", "search"), default=None)
    parser.add_argument("--plain-built", action="store_true",
                        help="also time plain fit with its state built first, as automl_nb does")
    args = parser.parse_args()

    import tensorflow as tf

    hooks = HOOKS.install()  # imports automl_nb.backends.tuner (TensorFlow is already imported)
    print("overhead: the default path (TF op determinism off, as a user has it without "
          "search(deterministic=True); neither variant turns it on)")
    print(f"automl_nb hooks timed: {', '.join(hooks)}")
    print(f"TF threads: intra {tf.config.threading.get_intra_op_parallelism_threads()}, "
          f"inter {tf.config.threading.get_inter_op_parallelism_threads()} (0 = TF default); "
          f"CPUs {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="automl_nb_bench_") as tmp:
        root = Path(tmp)
        if args.only in (None, "search"):
            compare_search(args, root)
        if args.only in (None, "fit"):
            compare_fit(args.fit_rounds, root, args.plain_built)  # last: its ratio is the last line


if __name__ == "__main__":
    main()
