"""Trials per minute with parallel workers: ``workers=2`` against ``workers=1``.

The same seeded random search (digits, built-in CNN space, TRIALS trials x EPOCHS epochs,
batch 32) runs in one process (``workers=1``: the kernel trains) and with two worker processes
(``workers=2``: each worker capped at cores // 2 TensorFlow threads). The two alternate for
ROUNDS rounds after TensorFlow is imported once in this process, so the one-process runs do
not pay for that import, while the worker runs pay for their workers' start-up (each imports
TensorFlow and builds its tuner).

Printed per run and as medians:
- end to end: trials per minute from ``search()`` to the search's end (what a user waits);
- steady: trials per minute from the first ``TrialStarted`` to the last ``TrialEnded``
  (without the workers' start-up);
and the ratios workers=2 / workers=1 (target >= 1.5 end to end on a 2-core machine), and
whether both ran the same hyperparameters. Nothing is asserted: the machine may be shared.

    .venv/bin/python bench/workers.py [--rounds 2] [--trials 12] [--epochs 5] [--data digits]
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
from automl_nb.workers import cpu_count

SEED = 0


def run_once(data: str, workers: int, trials: int, epochs: int, root: Path, tag: str) -> dict:
    t0 = time.monotonic()
    s = automl_nb.search(
        data, oracle="random", trials=trials, epochs=epochs, seed=SEED, workers=workers,
        directory=root / tag, overwrite=True,
    )
    state = s.wait(1800)
    wall = time.monotonic() - t0
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
        "per_min": 60 * len(rows) / wall,
        "steady_per_min": 60 * len(rows) / steady,
        "values": [tuple(sorted(t.hyperparameters.items())) for t in s.record.trials.values()],
        "completed": int((rows.status == "completed").sum()),
        "workers_seen": sorted({e.info.get("worker", "kernel") for e in events if e.kind == "trial_started"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data", default="digits")
    args = parser.parse_args()

    import tensorflow as tf  # once, before any timing: the one-process runs start warm

    tf.config.experimental.enable_op_determinism()  # seeded searches turn it on anyway
    cores = cpu_count()
    print(
        f"bench/workers.py: {args.data}, random oracle, seed {SEED}, {args.trials} trials x "
        f"{args.epochs} epochs, batch 32, {args.rounds} rounds, {cores} cores "
        f"(workers=2: {max(1, cores // 2)} TensorFlow threads each; workers=1: TensorFlow's default)"
    )
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="automl_nb_bench_") as tmp:
        root = Path(tmp)
        for r in range(args.rounds):
            for workers in (1, 2) if r % 2 == 0 else (2, 1):
                out = run_once(args.data, workers, args.trials, args.epochs, root, f"r{r}-w{workers}")
                results[workers].append(out)
                print(
                    f"  round {r + 1} workers={workers}: {out['wall']:6.1f}s end to end "
                    f"({out['per_min']:5.1f} trials/min), {out['steady']:6.1f}s steady "
                    f"({out['steady_per_min']:5.1f} trials/min), {out['completed']} completed, "
                    f"ran on {', '.join(out['workers_seen'])}",
                    flush=True,
                )
    med = {w: statistics.median(o["per_min"] for o in results[w]) for w in (1, 2)}
    med_steady = {w: statistics.median(o["steady_per_min"] for o in results[w]) for w in (1, 2)}
    same = all(o["values"] == results[1][0]["values"] for o in results[1] + results[2])
    print(f"median trials/min, end to end: workers=1 {med[1]:.2f}, workers=2 {med[2]:.2f}")
    print(f"median trials/min, steady:     workers=1 {med_steady[1]:.2f}, workers=2 {med_steady[2]:.2f}")
    print(f"ratio workers=2 / workers=1, end to end: {med[2] / med[1]:.2f} (target >= 1.5)")
    print(f"ratio workers=2 / workers=1, steady:     {med_steady[2] / med_steady[1]:.2f}")
    print(f"same hyperparameters in every run: {same}")
    if os.getloadavg()[0] > cores:
        print(f"note: load average {os.getloadavg()[0]:.1f} on {cores} cores: other work shares the CPU")


if __name__ == "__main__":
    main()
