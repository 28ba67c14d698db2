"""The README's and the docs' results tables, generated from bench/results/*.json, never typed.

Reads every bench/quality.py results file (bench/records.py; other benches' files and smoke
runs are skipped), and for one group (``report`` by default) prints a markdown table: a row a
task, a column a system, each cell the median test score over the runs found for that task,
system and budget, with the number of runs; then the mean over the tasks every system has,
and the files it came from. ``--out FILE`` writes it to FILE instead, or, when FILE holds the
markers ``<!-- quality:GROUP -->`` and ``<!-- /quality:GROUP -->``, between them.

    .venv/bin/python bench/tables.py                      # the report group, printed
    .venv/bin/python bench/tables.py --group tuning --out bench/README.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import records


def collect(directory: Path, group: str, smoke: bool = False) -> tuple[dict, list[str]]:
    """{(budget, task, system): [test scores]} and the files read."""
    cells: dict[tuple[float, str, str], list[float]] = {}
    files = []
    for path, data in records.read_all(directory, bench="quality"):
        if bool(data.get("smoke")) != smoke:
            continue
        used = False
        for run in data.get("runs", []):
            if run.get("group") != group or run.get("test") is None:
                continue
            cells.setdefault((float(run["budget_s"]), run["task"], run["system"]), []).append(
                float(run["test"]))
            used = True
        if used:
            commit = (data.get("commit") or {}).get("hash") or "?"
            files.append(f"{path.name} (commit {commit[:8]}, {data.get('date')})")
    return cells, files


def markdown(cells: dict, files: list[str], group: str) -> str:
    if not cells:
        return f"(no {group} results)\n"
    lines = []
    for budget in sorted({b for b, _, _ in cells}):
        mine = {(t, s): v for (b, t, s), v in cells.items() if b == budget}
        tasks = sorted({t for t, _ in mine})
        systems = sorted({s for _, s in mine}, key=lambda s: (s != "automl_nb", s))
        lines.append(f"{group} group, {budget:.0f} s a system: test score (accuracy or R2), "
                     "median of the runs (their number in brackets when more than one)")
        lines.append("")
        lines.append("| task | " + " | ".join(systems) + " |")
        lines.append("|---|" + "---|" * len(systems))
        for task in tasks:
            row = []
            for system in systems:
                v = mine.get((task, system))
                row.append("-" if not v else f"{np.median(v):.3f}"
                           + (f" ({len(v)})" if len(v) > 1 else ""))
            lines.append(f"| {task} | " + " | ".join(row) + " |")
        full = [t for t in tasks if all((t, s) in mine for s in systems)]
        if full:
            means = [np.mean([np.median(mine[(t, s)]) for t in full]) for s in systems]
            lines.append(f"| mean of {len(full)} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
        lines.append("")
    lines.append("From " + "; ".join(files) + ".")
    return "\n".join(lines) + "\n"


def write(text: str, out: Path, group: str) -> None:
    begin, end = f"<!-- quality:{group} -->", f"<!-- /quality:{group} -->"
    old = out.read_text() if out.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        text = head + begin + "\n" + text + end + rest.split(end, 1)[1]
    out.write_text(text)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(records.RESULTS), metavar="DIR")
    parser.add_argument("--group", default="report", choices=("report", "tuning", "held_out"))
    parser.add_argument("--smoke", action="store_true", help="the smoke runs' files instead")
    parser.add_argument("--out", default=None, help="write to this file (between its markers)")
    args = parser.parse_args(argv)
    cells, files = collect(Path(args.results), args.group, args.smoke)
    text = markdown(cells, files, args.group)
    if args.out:
        write(text, Path(args.out), args.group)
    else:
        print(text, end="")
    return text


if __name__ == "__main__":
    main()
