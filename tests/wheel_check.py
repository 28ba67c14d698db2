"""`make wheel-test`: the wheel a user installs works outside the source tree.

Builds the wheel from pyproject.toml, checks what it holds (the front-end files and the
recordings), installs it into a fresh virtual environment in a temporary folder, and from
there (another working directory, no PYTHONPATH) runs

    python -m automl_nb search iris --trials 1 --epochs 1
    automl_nb.replay("digits-hyperband")      (and its panel, whose front end is in the wheel)

The fresh environment reuses the dependencies already installed beside this interpreter
(TensorFlow would take minutes to install again): a ``.pth`` file puts that environment's
site-packages at the end of its path. ``.pth`` files inside a folder named by a ``.pth``
line are not run, so the editable install of the source tree found there is not loaded:
``automl_nb`` is imported from the wheel, and the script checks that it is.

    python tests/wheel_check.py [--keep]     # --keep leaves the temporary folder for a look
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ("digits-bayesian", "digits-hyperband", "digits-random")


def run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    shown = " ".join(str(c) for c in cmd)
    print(f"  {shown[:110]}  ({time.monotonic() - started:.0f}s)", flush=True)
    if done.returncode != 0:
        sys.exit(f"wheel-test: `{shown}` exited with {done.returncode}:\n"
                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def check_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = ["automl_nb/__init__.py", "automl_nb/py.typed"]
    # the front end's one copy, the top-level widgets/ folder, ships as automl_nb/widgets/
    wanted += [f"automl_nb/widgets/{p.name}" for p in sorted((ROOT / "widgets").glob("*.*s"))]
    for name in RECORDINGS:
        wanted += [f"automl_nb/recordings/{name}/events.jsonl",
                   f"automl_nb/recordings/{name}/search.json"]
    missing = [n for n in wanted if n not in names]
    if missing:
        sys.exit(f"wheel-test: {wheel.name} lacks {', '.join(missing)}")
    stray = sorted(n for n in names if n.startswith(("tests/", "notebooks/", "bench/")))
    if stray:
        sys.exit(f"wheel-test: {wheel.name} holds files that are not the package's: {stray[:5]}")
    print(f"  {wheel.name}: {len(names)} files, widgets and {len(RECORDINGS)} recordings in it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="automl-nb-wheel-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        print(f"wheel-test in {work}", flush=True)
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"),
             str(ROOT)], cwd=work, env=env)
        wheel = next((work / "dist").glob("automl_nb-*.whl"))
        check_contents(wheel)

        venv = work / "venv"
        run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work, env=env)
        python = venv / "bin" / "python"
        fresh = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=work, env=env).strip())
        (fresh / "_reuse_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
             "--no-index", str(wheel)], cwd=work, env=env)

        user = work / "elsewhere"  # a user's folder: no source tree in sight
        user.mkdir()
        where = run([str(python), "-c", "import automl_nb; print(automl_nb.__file__)"],
                    cwd=user, env=env).strip()
        if not Path(where).is_relative_to(fresh):
            sys.exit(f"wheel-test: automl_nb was imported from {where}, not from the wheel in {fresh}")
        usage = run([str(venv / "bin" / "automl-nb"), "--help"], cwd=user, env=env)
        if "search" not in usage:
            sys.exit(f"wheel-test: the automl-nb command printed no usage:\n{usage[-2000:]}")
        out = run([str(python), "-m", "automl_nb", "search", "iris", "--trials", "1", "--epochs", "1",
                   "--seed", "0"], cwd=user, env=env)
        if "trial 0000 completed" not in out:
            sys.exit(f"wheel-test: the search printed no finished trial:\n{out[-2000:]}")
        code = (
            "import automl_nb\n"
            "from automl_nb.panel._assets import widgets_folder\n"
            "from automl_nb.testing.panel import recording_comms\n"
            "r = automl_nb.replay('digits-hyperband', speed=float('inf'))\n"
            "assert r.wait(30).value == 'done', r.state\n"
            "with recording_comms():\n"
            "    r.panel().close()  # its widgets read their ES modules from the wheel\n"
            "print(r.directory, len(r.record.trials), widgets_folder())\n"
        )
        found, trials, widgets = run([str(python), "-c", code], cwd=user, env=env).split()
        if not Path(found).is_relative_to(fresh) or int(trials) < 5:
            sys.exit(f"wheel-test: replay played {found} ({trials} trials), not the wheel's recording")
        if not Path(widgets).is_relative_to(fresh):
            sys.exit(f"wheel-test: the panel read its front end from {widgets}, not from the wheel")
        print(f"wheel-test: passed (the search ran; replay played {trials} trials from the wheel "
              "and showed its panel with the wheel's front end)")
    finally:
        if options.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
