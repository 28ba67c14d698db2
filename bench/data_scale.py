"""Data scale: an image folder searched as a stream, at 2,000, 8,000 and 32,000 images.

For each size the script makes a folder of synthetic 64x64x3 PNGs (two classes, made once and
kept in --root), then runs a 1-trial x 1-epoch search on it in a fresh process (TensorFlow
imported before the measurement starts) and prints:

- memory growth: the process's peak resident memory during the search minus before it,
  against the images' size as uint8 (N x 64 x 64 x 3 bytes), and the growth between two sizes
  per byte of images (the constant for the model and TensorFlow cancels out);
- bytes written to the search's directory, against the folder's bytes on disk;
- time to the first epoch (from the search() call to the trial's start: listing, headers,
  fingerprint, building the model) and the epoch's time (every file decoded, then cached).

Targets (issue 14): growth <= 1.5x the uint8 size plus a constant; bytes written <= 5% of the
folder's; time to the first epoch not growing with N. Timings on a shared machine are noisy;
the ratios are what to read.

    python bench/data_scale.py                  # 2000 8000 32000
    python bench/data_scale.py --sizes 2000 8000 --root /tmp/automl_nb_scale
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIDE = 64


def make_folder(root: Path, n: int) -> Path:
    """``n`` synthetic 64x64x3 PNGs in two class folders (kept: made once per size)."""
    import numpy as np
    from PIL import Image

    folder = root / f"images_{n}"
    done = folder / ".complete"
    if done.exists():
        return folder
    rng = np.random.default_rng(n)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    for c, name in enumerate(("stripes", "rings")):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n // 2):
            period = rng.uniform(4, 16)
            phase = rng.uniform(0, 2 * np.pi)
            if c == 0:
                wave = np.sin(2 * np.pi * (xx * np.cos(phase) + yy * np.sin(phase)) / period)
            else:
                r = np.hypot(xx - rng.uniform(16, 48), yy - rng.uniform(16, 48))
                wave = np.sin(2 * np.pi * r / period + phase)
            colour = rng.uniform(0.3, 1.0, 3)
            pixels = (127.5 + 100 * wave[..., None] * colour + rng.normal(0, 12, (SIDE, SIDE, 3)))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / name / f"{i:05d}.png")
    done.touch()
    return folder


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


CHILD = r"""
import json, os, sys, threading, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow, keras  # imported before the measurement: a kernel that searched before
import automl_nb

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

folder, directory = sys.argv[1], sys.argv[2]
peak, stop = [rss()], threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.02)
before = rss()
threading.Thread(target=sample, daemon=True).start()
t0, wall0 = time.monotonic(), time.time()
s = automl_nb.search(folder, oracle="random", trials=1, epochs=1, seed=0, directory=directory,
                     batch_size=64)
returned = time.monotonic() - t0
s.wait()
stop.set()
events = s.events()
start = next(e.time for e in events if e.kind == "trial_started")
epoch = next(e.time for e in events if e.kind == "epoch_ended")
print(json.dumps({
    "state": s.state.value, "error": s.error, "returned_s": returned,
    "first_epoch_s": start - wall0, "epoch_s": epoch - start,
    "growth": peak[0] - before, "n_train": s.dataset.summary()["n_train"],
}))
"""


def run(folder: Path, n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="automl_nb-scale-") as tmp:
        directory = Path(tmp) / "search"
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(directory)],
                             capture_output=True, text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode != 0 or not lines:
            raise SystemExit(f"the search on {n} images failed:\n{out.stderr[-3000:]}")
        result = json.loads(lines[-1])
        result["written"] = tree_bytes(directory)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 32000])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "automl_nb_scale")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"data scale: image folders of 64x64x3 PNGs, 1 trial x 1 epoch each; load average "
          f"{load:.1f} on {os.cpu_count()} cores (timings are noisy; read the ratios)")
    rows = []
    for n in args.sizes:
        t = time.monotonic()
        folder = make_folder(args.root, n)
        made = time.monotonic() - t
        result = run(folder, n)
        if result["state"] != "done":
            raise SystemExit(f"the search on {n} images ended {result['state']}: {result['error']}")
        uint8 = n * SIDE * SIDE * 3
        on_disk = tree_bytes(folder)
        rows.append((n, uint8, result))
        print(f"\n{n:,} images ({uint8 / 2**20:.0f} MiB as uint8, {on_disk / 2**20:.0f} MiB of PNG; "
              f"folder made in {made:.0f}s)")
        print(f"  memory growth      {result['growth'] / 2**20:7.0f} MiB = {result['growth'] / uint8:.2f}x "
              f"the uint8 size")
        print(f"  bytes written      {result['written'] / 2**10:7.0f} KiB = "
              f"{100 * result['written'] / on_disk:.2f}% of the folder")
        print(f"  time to 1st epoch  {result['first_epoch_s']:7.1f} s   (search() returned in "
              f"{result['returned_s']:.2f} s)")
        print(f"  epoch              {result['epoch_s']:7.1f} s   ({n / result['epoch_s']:.0f} images/s, "
              "decoding every file)")
    if len(rows) > 1:
        print("\nbetween sizes (the constant for the model and TensorFlow cancels out):")
        for (n0, u0, r0), (n1, u1, r1) in itertools.pairwise(rows):
            slope = (r1["growth"] - r0["growth"]) / (u1 - u0)
            print(f"  {n0:,} -> {n1:,}: memory grows {slope:.2f}x the added uint8 bytes; "
                  f"time to 1st epoch x{r1['first_epoch_s'] / r0['first_epoch_s']:.2f} for x{n1 / n0:.0f} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
