"""Packaging beyond pyproject.toml: the front end's one copy (widgets/) ships as automl_nb/widgets/.

pyproject.toml holds the metadata; this adds only what ``[tool.setuptools.packages.find]``
cannot express: the package ``automl_nb.widgets`` mapped to the top-level ``widgets/``
folder (package data: its ``*.js`` and ``*.css``, listed in pyproject.toml).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["automl_nb*"]), "automl_nb.widgets"],
    package_dir={"automl_nb.widgets": "widgets"},
)
