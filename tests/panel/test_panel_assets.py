"""The front-end files: one copy (widgets/), packaged into the wheel, working in a fake DOM."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from automl_nb.panel import _assets
from automl_nb.panel.table import TrialTable, asset

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = ROOT / "widgets"
FRONT_END = (".js", ".css")


def test_the_front_end_has_one_copy_and_the_panel_reads_it():
    names = sorted(p.name for p in SOURCES.iterdir() if p.suffix in FRONT_END)
    assert "trial_table.js" in names and "trial_table.css" in names
    copies = [p for p in (ROOT / "automl_nb").rglob("*") if p.suffix in FRONT_END]
    assert not copies, f"front-end files inside the package (their one copy is widgets/): {copies}"
    assert pathlib.Path(str(_assets.widgets_folder())) == SOURCES
    for name in names:
        assert asset(name) == (SOURCES / name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_wheel_carries_the_front_end_files(tmp_path):
    """pip builds the wheel (setuptools from the package index, as any install does), from a
    copy of the sources, so no build folder is left in the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("automl_nb", "widgets", "share", "jupyter-config"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(src)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode and "No matching distribution found for setuptools" in done.stderr:
        pytest.skip("pip could not fetch setuptools to build the wheel (offline)")
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("automl_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in SOURCES.iterdir():
        if source.suffix in FRONT_END:
            assert f"automl_nb/widgets/{source.name}" in names, sorted(names)
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "automl_nb").rglob("*.py")}
    assert modules <= names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert not any(n.startswith("widgets/") for n in names), "a top-level widgets package"
    # the prebuilt JupyterLab extension and its server config, as the wheel's data files
    data = "automl_nb-0.1.0.data/data/"
    assert f"{data}share/jupyter/labextensions/automl-nb/package.json" in names, sorted(names)
    assert f"{data}etc/jupyter/jupyter_server_config.d/automl_nb.json" in names


def test_the_table_loads_its_module_and_styles_from_the_front_end_folder():
    assert TrialTable._esm == asset("trial_table.js") == (SOURCES / "trial_table.js").read_text()
    assert TrialTable._css == asset("trial_table.css")
    assert "export default" in TrialTable._esm
    # every status badge the module can draw has a colour
    for status in ("running", "completed", "pruned", "stopped", "failed"):
        assert f".amnb-status-{status}" in TrialTable._css


HARNESS = r"""
class Node {
  constructor(tag) {
    this.tagName = tag; this.children = []; this.parent = null; this._text = "";
    this.className = ""; this.style = {}; this.title = ""; this.listeners = {};
    this.classList = { add: (c) => { this.className = `${this.className} ${c}`.trim(); } };
  }
  get textContent() {
    return this.children.length ? this.children.map((c) => c.textContent).join("") : this._text;
  }
  set textContent(v) { this.children = []; this._text = String(v); }
  append(...nodes) { for (const n of nodes) { if (n.parent) n.remove(); n.parent = this; this.children.push(n); } }
  replaceChildren(...nodes) { for (const c of this.children) c.parent = null; this.children = []; this.append(...nodes); }
  remove() { if (this.parent) { const p = this.parent.children; p.splice(p.indexOf(this), 1); this.parent = null; } }
  insertBefore(n, ref) {
    if (n.parent) n.remove(); n.parent = this;
    if (!ref) this.children.push(n); else this.children.splice(this.children.indexOf(ref), 0, n);
  }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  click() { for (const fn of this.listeners.click || []) fn(); }
  find(pred) { if (pred(this)) return this; for (const c of this.children) { const f = c.find(pred); if (f) return f; } return null; }
}
globalThis.document = { createElement: (tag) => new Node(tag) };

const state = JSON.parse(process.argv[3]);
const handlers = {};
const sent = [];
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; for (const f of handlers[`change:${k}`] || []) f(); },
  save_changes() { this.saved = true; },
  on: (e, f) => { (handlers[e] ||= []).push(f); },
  off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
  send: (m) => sent.push(m),
};
const mod = await import(process.argv[2]);
const root = new Node("div");
const cleanup = mod.default.render({ model, el: root });
const tbody = root.find((n) => n.tagName === "tbody");
const ids = () => tbody.children.map((tr) => tr.children[1].textContent);
const header = () => root.find((n) => n.tagName === "thead").children[0].children.map((th) => th.textContent);
const out = {
  order: ids(),
  header: header(),
  cells: tbody.children.map((tr) => tr.children.map((td) => td.textContent)),
};
const button = (tr, label) => tr.find((n) => n.tagName === "button" && n.textContent === label);
button(tbody.children[2], "Prune").click();
const promoteRow = tbody.children[0];
promoteRow.find((n) => n.tagName === "input").value = "9";
button(promoteRow, "Promote").click();
button(tbody.children[1], "Details").click();
// an epoch of the running trial arrives: the row updates in place
const keep = tbody.children[0];
model.set("live", { "0002": { ...state.rows[2], epochs: 3, score: 0.95 } });
out.samePromoteRow = tbody.children[0] === keep;
out.liveCells = tbody.children[2].children.map((td) => td.textContent);
// sort by score from the header
root.find((n) => n.tagName === "th" && n.className.includes("amnb-sortable")).click();
out.sorted = ids();
out.sort = state.sort;
out.saved = model.saved === true;
cleanup();
out.handlersLeft = Object.values(handlers).reduce((n, fs) => n + fs.length, 0);
out.sent = sent;
console.log(JSON.stringify(out));
"""


def _row(tid, n, status, score, epochs, info=None, **hp):
    return {
        "trial_id": tid,
        "n": n,
        "status": status,
        "score": score,
        "epochs": epochs,
        "target": 5,
        "duration_s": 12.0,
        "parent_id": None,
        "source": "oracle",
        "reason": None,
        "info": info or {},
        "hp": hp,
    }


def _render(tmp_path, rows) -> dict:
    """Render the table in node's fake DOM, click its buttons, and return what it showed and sent."""
    module = tmp_path / "trial_table.mjs"
    module.write_text(asset("trial_table.js"))
    harness = tmp_path / "harness.mjs"
    harness.write_text(HARNESS)
    state = {
        "rows": rows,
        "live": {},
        "columns": ["units", "lr"],
        "objective": "val_accuracy",
        "direction": "max",
        "sort": "",
        "selected": "",
        "default_epochs": 5,
    }
    done = subprocess.run(
        ["node", str(harness), module.as_uri(), json.dumps(state)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the ES module")


@needs_node
def test_trial_table_module_renders_rows_and_sends_actions(tmp_path):
    out = _render(tmp_path, [
        _row("0000", 1, "completed", 0.81, 5, units=32, lr=0.001),
        _row("0001", 2, "pruned", 0.62, 2, units=64, lr=0.01),
        _row("0002", 3, "running", 0.5, 1, units=16, lr=0.0001),
    ])
    assert out["order"] == ["0000", "0001", "0002"]
    assert out["header"][:6] == ["#", "trial", "status", "val_accuracy ↕", "epochs", "time"]
    assert "worker" not in out["header"]  # one process: no worker column
    first = out["cells"][0]
    assert first[:6] == ["1", "0000", "completed", "0.8100", "5", "12s"]
    assert first[6:8] == ["32", "0.001"]
    assert out["sent"] == [
        {"action": "prune", "trial_id": "0002"},
        {"action": "promote", "trial_id": "0000", "epochs": 9},
        {"action": "details", "trial_id": "0001"},
    ]
    assert out["samePromoteRow"]  # updated in place, so a typed epochs value survives
    assert out["liveCells"][3:5] == ["0.9500", "3/5"]
    assert out["sorted"] == ["0002", "0000", "0001"] and out["sort"] == "score" and out["saved"]
    assert out["handlersLeft"] == 0


@needs_node
def test_trial_table_shows_the_worker_that_ran_each_trial(tmp_path):
    out = _render(tmp_path, [
        _row("0000", 1, "completed", 0.81, 5, {"worker": "w1"}, units=32, lr=0.001),
        _row("0001", 2, "pruned", 0.62, 2, {"worker": "w0"}, units=64, lr=0.01),
        _row("0002", 3, "running", 0.5, 1, {"worker": "w1"}, units=16, lr=0.0001),
    ])
    assert out["header"][6] == "worker" and out["header"][7:9] == ["units", "lr"]
    assert [cells[6] for cells in out["cells"]] == ["w1", "w0", "w1"]
    assert out["cells"][0][7:9] == ["32", "0.001"]  # the hyperparameters move one column on
    assert out["liveCells"][6] == "w1"  # a live epoch keeps the worker
    assert out["sent"][0] == {"action": "prune", "trial_id": "0002"}


CHART_HARNESS = r"""
const m = await import(process.argv[2]);
const data = [{x: [1], line: {width: 1, color: "a"}}, {x: [9]}];
const layout = {xaxis: {title: {text: "trial"}}};
const out = m.applyDelta(data, layout, {traces: {"0": {"x": [1, 2], "line.width": 3}}, layout: {"xaxis.dtick": 1}});
const light = m.themeFrom((n) => ({"--jp-layout-color0": "#ffffff", "--jp-ui-font-color1": "rgba(0, 0, 0, 0.87)",
                                   "--jp-border-color2": "#e0e0e0"})[n] || "", "", {jpThemeLight: "true", jpThemeName: "JupyterLab Light"}, "");
const dark = m.themeFrom((n) => ({"--jp-layout-color0": "#111111", "--jp-ui-font-color1": "rgba(255, 255, 255, 0.87)"})[n] || "",
                         "rgb(33, 33, 33)", {jpThemeLight: "false", jpThemeName: "JupyterLab Dark"}, "");
const contrast = m.themeFrom((n) => ({"--jp-ui-font-color0": "#ffffff", "--jp-ui-font-color1": "#eeeeee"})[n] || "",
                             "#000000", {jpThemeLight: "false", jpThemeName: "JupyterLab Dark High Contrast"}, "");
const plain = m.themeFrom(() => "", "rgb(30, 30, 30)", {}, "rgb(220, 220, 220)");  // VS Code: no --jp-*
const drawn = m.themed({margin: {t: 10}}, dark, 640, 250);
console.log(JSON.stringify({
  traces: out.data, layout: out.layout, untouched: data[0].line.width === 1 && data[1] === out.data[1] && layout.xaxis.dtick === undefined,
  lum: [m.luminance("#ffffff"), m.luminance("#000"), m.luminance("rgba(0, 0, 0, 0)"), m.luminance("nonsense")],
  light: [light.name, light.background, light.grid], dark: [dark.name, dark.background, dark.font],
  contrast: [contrast.name, contrast.font], plain: [plain.name, plain.font],
  drawn: [drawn.width, drawn.height, drawn.autosize, drawn.paper_bgcolor, drawn.template.layout.plot_bgcolor, drawn.margin.t],
}));
"""


@needs_node
def test_chart_module_applies_deltas_and_reads_the_theme(tmp_path):
    module = tmp_path / "chart.mjs"
    module.write_text(asset("chart.js"))
    harness = tmp_path / "harness.mjs"
    harness.write_text(CHART_HARNESS)
    done = subprocess.run(["node", str(harness), module.as_uri()], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["traces"][0] == {"x": [1, 2], "line": {"width": 3, "color": "a"}}
    assert out["layout"] == {"xaxis": {"title": {"text": "trial"}, "dtick": 1}}
    assert out["untouched"]  # a delta makes new objects; what the views hold is not mutated
    assert out["lum"][:2] == [1, 0] and out["lum"][2:] == [None, None]
    assert out["light"] == ["light", "#ffffff", "#e0e0e0"]
    # the colour behind the chart wins over --jp-layout-color0 (a section's box is lighter)
    assert out["dark"] == ["dark", "rgb(33, 33, 33)", "rgba(255, 255, 255, 0.87)"]
    assert out["contrast"] == ["dark-contrast", "#ffffff"]
    assert out["plain"] == ["dark", "rgb(220, 220, 220)"]  # no --jp-*: the page's own colours
    assert out["drawn"] == [640, 250, False, "rgb(33, 33, 33)", "rgb(33, 33, 33)", 10]
