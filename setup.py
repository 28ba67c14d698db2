"""Packaging beyond pyproject.toml: the front end's one copy (widgets/) ships as automl_nb/widgets/.

pyproject.toml holds the metadata; this adds only what ``[tool.setuptools.packages.find]``
cannot express: the package ``automl_nb.widgets`` mapped to the top-level ``widgets/``
folder (package data: its ``*.js`` and ``*.css``, listed in pyproject.toml). The recorded
searches, ``automl_nb/recordings/`` (JSON only, no ``__init__.py``), are named as a data
package of their own: ``find_packages`` skips a folder without ``__init__.py``, and setuptools
warns about a folder Python could import that the ``packages`` list does not name.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["automl_nb*"]), "automl_nb.recordings", "automl_nb.widgets"],
    package_dir={"automl_nb.widgets": "widgets"},
)
