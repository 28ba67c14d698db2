"""Every notebook in notebooks/ runs top to bottom headless (nbclient): no error output, a
panel shown wherever a search or a replay starts, and what each notebook promises checked in
its own kernel by a cell the test appends (searches done with every trial, replays played to
the end, the quickstart's exported model predicting the digits it shows)."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# notebooks driven cell by cell in a real browser by tests/browser instead
BROWSER_ONLY = {"03_steer_a_search.ipynb"}
WIDGET = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"

#: Run last, in the notebook's kernel: what a reader of the notebook has been promised.
CHECKS = {
    "01_quickstart.ipynb": """
        assert s.state.value == "done", s.error
        assert len(s.results) == 6 and set(s.results.status) == {"completed"}, s.results
        assert s.results.score.between(0.5, 1).all(), s.results.score
    """,
    "02_what_is_automl.ipynb": """
        for search, n in ((rand, 4), (bayes, 4)):
            assert search.state.value == "done", search.error
            assert len(search.results) == n and set(search.results.status) == {"completed"}
        assert hb.state.value == "done", hb.error
        assert len(hb.results) == 6 and hb.results.parent_id.notna().any()  # a round trained on
        assert len(points["points"]) == 4 and view["ready"] and view["next"]["values"]
        played = {kind: (run.state.value, len(run.record.finished_trials())) for kind, run in runs.items()}
        assert played == {"random": ("done", 8), "bayesian": ("done", 8), "hyperband": ("done", 23)}, played
        assert final["ready"] and len(final["x"]) == len(final["mean"])
    """,
    "04_your_own_data.ipynb": """
        assert wines.state.value == "done", wines.error
        assert len(wines.results) == 6 and set(wines.results.status) == {"completed"}
        import os
        assert os.path.exists("wine_model.keras")
        assert set(model.predict(everything.drop(columns=["cultivar"]))) <= {"Barbera", "Barolo", "Grignolino"}
    """,
}


#: How many searches and replays each notebook shows (each must show as a panel).
PANELS = {"01_quickstart.ipynb": 1, "02_what_is_automl.ipynb": 5, "04_your_own_data.ipynb": 1}


def _outputs(cell) -> list[dict]:
    return cell.get("outputs", []) if cell.cell_type == "code" else []


def _stdout(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells for o in _outputs(c) if o.get("name") == "stdout")


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if p.name not in BROWSER_ONLY)
)
def test_notebook_runs_headless(name, tmp_path):
    assert name in CHECKS, f"say what {name} promises: add its check to CHECKS"
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "give the notebook its kernelspec"
    check = "\n".join(line[8:] for line in CHECKS[name].strip("\n").splitlines())
    nb.cells.append(nbformat.v4.new_code_cell(check + '\nprint("CHECKED")'))
    client = nbclient.NotebookClient(
        nb, timeout=400, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    for cell in nb.cells:
        for output in _outputs(cell):
            assert output.get("output_type") != "error", (
                f"{name}: {output.get('ename')}: {output.get('evalue')}\n{cell.source[:300]}"
            )
            if output.get("name") == "stderr":
                assert "Traceback" not in output["text"], f"{name}: {output['text'][-2000:]}"
    # wherever a search or a replay is shown, it is shown as its live panel
    shown = [o["data"] for c in nb.cells for o in _outputs(c)
             if o.get("data", {}).get("text/plain", "").startswith(("<Search ", "<Replay "))]
    assert len(shown) == PANELS[name] and all(WIDGET in data for data in shown), shown
    assert _stdout(nb).rstrip().endswith("CHECKED")
    if name == "01_quickstart.ipynb":
        text = _stdout(nb)
        predicted = re.search(r"predicted: (\[.*\])", text).group(1)
        true = re.search(r"true: +(\[.*\])", text).group(1)
        hits = sum(a == b for a, b in zip(ast.literal_eval(predicted), ast.literal_eval(true)))
        assert hits >= 6, f"the exported model got {hits} of 8 digits right: {predicted} vs {true}"
        assert (tmp_path / "digits_best.keras").exists()
    if name == "02_what_is_automl.ipynb":  # compare() draws its charts twice: live and replayed
        assert sum(PLOTLY in o.get("data", {}) for c in nb.cells for o in _outputs(c)) >= 2
