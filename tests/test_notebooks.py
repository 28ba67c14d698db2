"""Every notebook in notebooks/ runs top to bottom headless (nbclient), with no error output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# notebooks driven cell by cell in a real browser by tests/browser instead
BROWSER_ONLY = {"03_steer_a_search.ipynb"}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if p.name not in BROWSER_ONLY)
)
def test_notebook_runs_headless(name, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "give the notebook its kernelspec"
    client = nbclient.NotebookClient(
        nb, timeout=400, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{name}: {output.get('ename')}: {output.get('evalue')}"
            )
    if name == "01_quickstart.ipynb":
        text = "".join(
            o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout"
        )
        assert "predicted:" in text
        assert (tmp_path / "digits_best.keras").exists()
