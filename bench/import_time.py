"""How long `import automl_nb` takes, against `import numpy` (its one heavy dependency at import).

Prints the median of 7 fresh interpreters for each, alternating, and the ratio. Target: the
import itself under 0.5 s; TensorFlow is imported only on a search's own thread.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def once(mod: str) -> float:
    out = subprocess.run([sys.executable, "-c", CODE.format(mod=mod)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def main() -> None:
    ours, numpy = [], []
    for _ in range(7):
        numpy.append(once("numpy"))
        ours.append(once("automl_nb"))
    a, b = statistics.median(ours), statistics.median(numpy)
    print(f"import automl_nb: median {a:.3f} s (target < 0.5 s)")
    print(f"import numpy:     median {b:.3f} s")
    print(f"ratio automl_nb / numpy: {a / b:.2f}")


if __name__ == "__main__":
    main()
