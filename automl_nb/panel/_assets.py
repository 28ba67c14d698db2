"""Where the panel's front-end files are: the ES modules and CSS of its anywidgets.

Their one copy is the repository's top-level ``widgets/`` folder. An installed wheel
carries it as ``automl_nb/widgets/`` (setup.py maps the package there); a source checkout
or an editable install reads the folder itself. :func:`asset` finds a file either way.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

#: The source checkout's folder (automl_nb/panel/_assets.py -> the repository root).
SOURCE = Path(__file__).resolve().parents[2] / "widgets"


def widgets_folder() -> Traversable:
    """The folder that holds the front-end files: packaged, else the source checkout's."""
    packaged = resources.files("automl_nb").joinpath("widgets")
    if packaged.is_dir():
        return packaged
    if SOURCE.is_dir():
        return SOURCE
    raise FileNotFoundError(
        f"the panel's front-end files are missing: neither {packaged} (an installed wheel) nor "
        f"{SOURCE} (a source checkout) exists; reinstall automl-nb"
    )


def asset(name: str) -> str:
    """The text of one front-end file (``trial_table.js``, ``hyperband.css``, ...)."""
    return widgets_folder().joinpath(name).read_text(encoding="utf-8")
