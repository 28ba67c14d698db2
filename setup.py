"""Packaging beyond pyproject.toml: the front end's one copy (widgets/) ships as automl_nb/widgets/.

pyproject.toml holds the metadata; this adds only what ``[tool.setuptools.packages.find]``
cannot express: the package ``automl_nb.widgets`` mapped to the top-level ``widgets/``
folder (package data: its ``*.js`` and ``*.css``, listed in pyproject.toml). The recorded
searches, ``automl_nb/recordings/`` (JSON only, no ``__init__.py``), are named as a data
package of their own: ``find_packages`` skips a folder without ``__init__.py``, and setuptools
warns about a folder Python could import that the ``packages`` list does not name.

The prebuilt JupyterLab extension (``share/jupyter/labextensions/automl-nb/``, built by
``make labextension`` and committed; kept outside the package, whose one front-end copy is
widgets/) and the server extension's switch (``jupyter-config/``) are data files: the wheel
installs them to ``share/jupyter/labextensions/automl-nb/`` and
``etc/jupyter/jupyter_server_config.d/``, where JupyterLab finds them (users need no Node).
"""

from pathlib import Path

from setuptools import find_packages, setup

LABEXTENSION = Path("share/jupyter/labextensions/automl-nb")
LAB_DEST = "share/jupyter/labextensions/automl-nb"


def _labextension_files() -> list[tuple[str, list[str]]]:
    """(install folder, files) for each folder of the built extension, relative paths."""
    by_folder: dict[str, list[str]] = {}
    for path in sorted(LABEXTENSION.rglob("*")):
        if path.is_file():
            folder = path.parent.relative_to(LABEXTENSION).as_posix()
            dest = LAB_DEST if folder == "." else f"{LAB_DEST}/{folder}"
            by_folder.setdefault(dest, []).append(path.as_posix())
    return sorted(by_folder.items())


setup(
    packages=[*find_packages(include=["automl_nb*"]), "automl_nb.recordings", "automl_nb.widgets"],
    package_dir={"automl_nb.widgets": "widgets"},
    data_files=[
        *_labextension_files(),
        ("etc/jupyter/jupyter_server_config.d", ["jupyter-config/server-config/automl_nb.json"]),
    ],
)
