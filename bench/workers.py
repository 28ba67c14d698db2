"""Trials per minute with parallel workers: ``workers=2`` against ``workers=1``.

The same seeded random search (digits, built-in CNN space, TRIALS trials x EPOCHS epochs,
batch 32) runs in one process (``workers=1``: the kernel trains) and with two worker processes
(``workers=2``: each worker capped at cores // 2 TensorFlow threads). The two alternate for
ROUNDS rounds after TensorFlow is imported once in this process, so the one-process runs do
not pay for that import (as in a kernel that has run a search before), while the worker runs
pay for their workers' start-up (each imports TensorFlow and builds its tuner).

The default search (16 trials x 6 epochs) takes about half a minute in one process on a
quiet 2-core CPU, and the script finishes within ``--max-minutes`` (5): after each round it
starts another only if one more round fits in what is left, so a loaded machine gets fewer
rounds, not a longer wait (it says so). A search with workers pays a fixed start-up (a few
seconds: each worker imports TensorFlow) that a short search cannot earn back, so the script
also prints that start-up and the length of search from which workers=2 is 1.5 times as fast
end to end. ``--trials 24 --epochs 10 --max-minutes 15`` measures a minute-long search.
Both on the default path: no TensorFlow op determinism (as without ``deterministic=True``).

Printed per run and as medians:
- end to end: trials per minute from ``search()`` to the search's end (what a user waits);
- steady: trials per minute from the first ``TrialStarted`` to the last ``TrialEnded``;
- start-up (``search()`` to the first ``TrialStarted``) and wind-down (the last
  ``TrialEnded`` to the end of ``wait()``);
and the ratios workers=2 / workers=1 (target >= 1.5 end to end on a 2-core machine), and
whether every run ran the same hyperparameters. The end-to-end ratio is the last line.
Nothing is asserted: the machine may be shared.

    .venv/bin/python bench/workers.py [--rounds 3] [--trials 16] [--epochs 6] [--data digits]
                                      [--max-minutes 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl_nb
from automl_nb.backends.workers import cpu_count

SEED = 0
TARGET = 1.5


def run_once(data: str, workers: int, trials: int, epochs: int, root: Path, tag: str) -> dict:
    t0 = time.time()
    s = automl_nb.search(
        data, oracle="random", trials=trials, epochs=epochs, seed=SEED, workers=workers,
        directory=root / tag, overwrite=True,
    )
    state = s.wait(3600)
    t1 = time.time()
    wall = t1 - t0
    if state.value != "done":
        raise SystemExit(f"{tag}: the search ended {state.value}: {s.error}")
    events = s.events()
    starts = [e.time for e in events if e.kind == "trial_started"]
    ends = [e.time for e in events if e.kind == "trial_ended"]
    steady = max(ends) - min(starts)
    rows = s.results
    return {
        "wall": wall,
        "steady": steady,
        "startup": min(starts) - t0,
        "winddown": t1 - max(ends),
        "per_min": 60 * len(rows) / wall,
        "steady_per_min": 60 * len(rows) / steady,
        "values": [tuple(sorted(t.hyperparameters.items())) for t in s.record.trials.values()],
        "completed": int((rows.status == "completed").sum()),
        "workers_seen": sorted({e.info.get("worker", "kernel") for e in events if e.kind == "trial_started"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="at most this many rounds")
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--data", default="digits")
    parser.add_argument("--max-minutes", type=float, default=5.0,
                        help="start no round that would end after this (default 5)")
    args = parser.parse_args()

    started = time.monotonic()
    deadline = started + 60 * args.max_minutes
    load_before = os.getloadavg()[0]  # other work on the machine (the runs add their own)
    import tensorflow  # noqa: F401 - once, before any timing: the one-process runs start warm

    cores = cpu_count()
    print(
        f"bench/workers.py: {args.data}, random oracle, seed {SEED}, {args.trials} trials x "
        f"{args.epochs} epochs, batch 32, {args.rounds} rounds, {cores} cores "
        f"(workers=2: {max(1, cores // 2)} TensorFlow threads each; workers=1: TensorFlow's default)"
    )
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="automl_nb_bench_") as tmp:
        root = Path(tmp)
        first_round = time.monotonic()
        for r in range(args.rounds):
            if r:
                per_round = (time.monotonic() - first_round) / r
                if time.monotonic() + per_round > deadline:
                    print(f"  (no round {r + 1}: one takes about {per_round:.0f}s and "
                          f"--max-minutes {args.max_minutes:g} would be passed)", flush=True)
                    break
            for workers in (1, 2) if r % 2 == 0 else (2, 1):
                out = run_once(args.data, workers, args.trials, args.epochs, root, f"r{r}-w{workers}")
                results[workers].append(out)
                print(
                    f"  round {r + 1} workers={workers}: {out['wall']:6.1f}s end to end "
                    f"({out['per_min']:5.1f} trials/min), {out['steady']:6.1f}s steady "
                    f"({out['steady_per_min']:5.1f} trials/min), start-up {out['startup']:4.1f}s, "
                    f"wind-down {out['winddown']:4.1f}s, {out['completed']} completed, "
                    f"ran on {', '.join(out['workers_seen'])}",
                    flush=True,
                )

    def median(workers: int, key: str) -> float:
        return statistics.median(o[key] for o in results[workers])

    med = {w: median(w, "per_min") for w in (1, 2)}
    med_steady = {w: median(w, "steady_per_min") for w in (1, 2)}
    same = all(o["values"] == results[1][0]["values"] for o in results[1] + results[2])
    ratio, steady_ratio = med[2] / med[1], med_steady[2] / med_steady[1]
    # what workers=2 pays once a search: its start-up and wind-down beyond one process's
    fixed = (median(2, "startup") + median(2, "winddown")) - (median(1, "startup") + median(1, "winddown"))
    print(f"median trials/min, end to end: workers=1 {med[1]:.2f}, workers=2 {med[2]:.2f}")
    print(f"median trials/min, steady:     workers=1 {med_steady[1]:.2f}, workers=2 {med_steady[2]:.2f}")
    print(
        f"workers=2 start-up + wind-down beyond one process: {fixed:.1f}s a search "
        f"(median one-process search here: {median(1, 'wall'):.0f}s)"
    )
    if steady_ratio > TARGET:
        # L / (L / steady_ratio + fixed) >= TARGET  <=>  L >= TARGET * fixed / (1 - TARGET / steady_ratio)
        longer = TARGET * max(0.0, fixed) / (1 - TARGET / steady_ratio)
        print(f"end to end reaches {TARGET}x for searches of more than about {longer:.0f}s in one process")
    print(f"same hyperparameters in every run: {same}")
    if load_before > 0.5:
        print(f"note: load average {load_before:.1f} on {cores} cores before the first run: other work shares the CPU")
    print(f"{len(results[1])} rounds in {(time.monotonic() - started) / 60:.1f} min")
    print(f"ratio workers=2 / workers=1, steady:     {steady_ratio:.2f}")
    print(f"ratio workers=2 / workers=1, end to end: {ratio:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
