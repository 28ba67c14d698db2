"""The panel at first sight, in JupyterLab on a 1366 x 768 laptop screen, light and dark.

A scripted search (no TensorFlow: a few seconds of CPU) plays through its states, and
each state is photographed in JupyterLab's light and dark themes (``artifacts/browser/
look-*.png``) and checked from the page:

 1. before it starts: every chart says in a sentence what will appear, and no axes;
    header, controls, status, table and the two main charts fit one screen
 2. paused mid-way: the charts are drawn, no chart title overlaps anything (bounding
    boxes), the parallel-coordinates labels overlap neither each other nor the title,
    trial and epoch axes have whole-number ticks, the learning curves name the best and
    the running trial, the best trial is a gold star in every chart, the progress bar
    stands inside the running trial, and in the dark theme every chart is dark
 3. the charts follow the window's width, narrower and wider (and the high-contrast theme
    in step 2)
 4. done: the message that said "paused" is gone (stale), the same checks again
 5. the panel shown again (a second view) has the same sections open: they remember

The theme is switched as a user switches it (JupyterLab's own command), and the charts
must follow without a new event from the kernel.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from .helpers import Notebook, Panel, Shots, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
step = pytest.mark.steps

PATH = "look/look.ipynb"
SCREEN = {"width": 1366, "height": 768}
SETUP = (
    "from automl_nb.testing import ScriptedTrainer, scripted_search\n"
    "s = scripted_search(ScriptedTrainer(batch_seconds=0.06, seed=0), directory='automl_runs/look',\n"
    "                    trials=5, epochs=8, start=False, name='look')\n"
    "s.panel()"
)
START = "s.start()"
AGAIN = "s.panel()  # the same panel, shown again"
THEMES = {
    "light": "JupyterLab Light",
    "dark": "JupyterLab Dark",
    "dark-contrast": "JupyterLab Dark High Contrast",
}

# Every visible chart's problems: a title that overlaps something drawn, parallel-coordinates
# labels that overlap each other, a plot wider than its place.
_LAYOUT_JS = r"""
(root) => {
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const name = (e) => (e.getAttribute("class") || e.tagName).split(" ")[0];
  const problems = [];
  const charts = [];
  for (const chart of root.querySelectorAll(".amnb-chart")) {
    if (!visible(chart)) continue;  // in a closed section
    const id = chart.dataset.chart;
    charts.push(id);
    const box = chart.getBoundingClientRect();
    const title = chart.querySelector(".amnb-chart-title");
    const drawn = [...chart.querySelectorAll(
      ".xtitle, .ytitle, .legend, .xtick text, .ytick text, .colorbar, .axis-title, " +
      ".axis .tick text, .amnb-chart-empty, .js-plotly-plot .main-svg")].filter(visible);
    if (title && visible(title)) {
      const t = title.getBoundingClientRect();
      if (t.left < box.left - 1 || t.right > box.right + 1) problems.push(`${id}: its title is wider than the chart`);
      for (const e of drawn) {
        if (e.classList.contains("main-svg")) continue;
        if (hit(t, e.getBoundingClientRect())) problems.push(`${id}: the title overlaps ${name(e)} "${e.textContent.slice(0, 30)}"`);
      }
    }
    const labels = [...chart.querySelectorAll(".axis-title")].filter(visible);
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        if (hit(labels[i].getBoundingClientRect(), labels[j].getBoundingClientRect())) {
          problems.push(`${id}: axis labels "${labels[i].textContent}" and "${labels[j].textContent}" overlap`);
        }
      }
      const plot = chart.querySelector(".js-plotly-plot");
      const r = labels[i].getBoundingClientRect();
      if (plot && r.top < plot.getBoundingClientRect().top - 1) problems.push(`${id}: axis label "${labels[i].textContent}" sticks out above the plot`);
    }
    const gd = chart.querySelector(".js-plotly-plot");
    if (gd && gd._fullLayout && visible(gd) && gd._fullLayout.width > box.width + 2) {
      problems.push(`${id}: drawn ${gd._fullLayout.width}px wide in ${Math.round(box.width)}px`);
    }
  }
  return {problems, charts};
}
"""

# What each chart shows: empty sentence, theme, width, background, tick labels, legend names.
_CHARTS_JS = r"""
(root) => {
  const out = {};
  for (const chart of root.querySelectorAll(".amnb-chart")) {
    const gd = chart.querySelector(".js-plotly-plot");
    const svg = gd && gd.querySelector(".main-svg");
    const empty = chart.querySelector(".amnb-chart-empty");
    const box = chart.getBoundingClientRect();
    out[chart.dataset.chart] = {
      empty: chart.dataset.empty === "true",
      sentence: empty && getComputedStyle(empty).display !== "none" ? empty.textContent : "",
      axes: !!(gd && gd.querySelector(".xtick, .axis")) && getComputedStyle(gd).display !== "none",
      theme: chart.dataset.theme || "",
      width: Math.round(box.width),
      drawn: gd && gd._fullLayout ? Math.round(gd._fullLayout.width) : 0,
      background: svg ? getComputedStyle(svg).backgroundColor : "",
      xticks: gd ? [...gd.querySelectorAll(".xtick text")].map((t) => t.textContent) : [],
      legend: gd ? [...gd.querySelectorAll(".legend .legendtext")].map((t) => t.textContent) : [],
      stars: gd ? (gd.data || []).filter((t) => t.marker && t.marker.symbol === "star" && (t.x || []).length).length : 0,
    };
  }
  return out;
}
"""


def _luminance(css: str) -> float:
    m = re.match(r"rgba?\(\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)", css or "")
    assert m, f"not a colour: {css!r}"
    r, g, b = (float(v) / 255 for v in m.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class Look:
    def __init__(self, page, nb, shots, server):
        self.page, self.nb, self.shots, self.server = page, nb, shots, server
        self.panel: Panel | None = None
        self.cell = None

    def theme(self, name: str) -> None:
        """Switch JupyterLab's theme as the user does (its command), and wait for the charts."""
        self.page.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
            THEMES[name],
        )
        poll(
            lambda: self.page.evaluate("() => document.body.dataset.jpThemeLight"),
            until=lambda v: v == ("true" if name.startswith("light") else "false"),
            timeout=30,
            what=f"JupyterLab to switch to its {name} theme",
        )
        assert self.panel is not None
        poll(
            lambda: {c["theme"] for c in self.charts().values() if c["width"]},
            until=lambda themes: themes == {name},
            timeout=15,
            what=f"every chart to follow the {name} theme",
        )

    def charts(self) -> dict:
        assert self.panel is not None
        return self.panel.root.evaluate(_CHARTS_JS)

    def layout_problems(self) -> dict:
        assert self.panel is not None
        return self.panel.root.evaluate(_LAYOUT_JS)

    def picture(self, name: str) -> None:
        """The panel alone as it is at first sight (the viewport's part it fills)."""
        assert self.panel is not None
        self.panel.root.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        self.page.mouse.move(2, 2)
        box = self.panel.root.bounding_box()
        assert box is not None
        bottom = self.page.evaluate(
            "() => document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')"
            "?.getBoundingClientRect().top ?? window.innerHeight"
        )
        self.page.screenshot(
            path=str(self.shots.folder / name),
            clip={"x": box["x"], "y": box["y"], "width": box["width"],
                  "height": min(box["height"], bottom - box["y"])},
        )

    def both_themes(self, state: str, check) -> None:
        """Photograph the panel at first sight and with its sections open, in both themes,
        and run ``check(theme)`` in each."""
        assert self.panel is not None
        for theme in ("light", "dark"):
            self.theme(theme)
            self.panel.root.evaluate("(el) => el.scrollIntoView({block: 'start'})")
            self.shots.take(self.page, f"{state}-{theme}", self.panel.root)
            self.shots.take(self.page, f"{state}-{theme}-sections", self.panel.section("teaching"), "end")
            check(theme)
        self.theme("light")


@pytest.fixture(scope="module")
def look(jupyter_server, new_page, artifacts):
    folder = jupyter_server.root / "look"
    folder.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, START, AGAIN)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "look.ipynb")
    kernel_id = jupyter_server.start_session(PATH)
    page = new_page()
    page.set_viewport_size(SCREEN)
    notebook = Notebook(page)
    notebook.open(jupyter_server.url(f"lab/tree/{PATH}"))
    notebook.wait_kernel_connected()
    notebook.collapse_left_sidebar()
    session = Look(page, notebook, Shots(artifacts, "look"), jupyter_server)
    yield session
    try:
        if not page.is_closed() and page.evaluate("() => !!window.jupyterapp"):
            session.theme("light")  # the theme is a user setting: leave it as it was
    finally:
        sessions = jupyter_server.sessions_for(PATH)
        jupyter_server.shutdown_kernels()
        assert [s["kernel"]["id"] for s in sessions] == [kernel_id], sessions


@step
def test_1_before_the_start_every_chart_says_what_will_appear_and_the_panel_fits_a_screen(look):
    nb = look.nb
    look.cell = nb.code_cell("scripted_search(")
    nb.run_cell(look.cell, timeout=90)
    panel = look.panel = Panel(look.page, look.cell)
    panel.wait_visible(timeout=60)
    panel.open_section("hyperparameters")
    charts = poll(
        look.charts,
        until=lambda c: {"objective", "curves", "parallel", "importance"} <= set(c),
        timeout=30,
        what="the four charts",
    )
    for name in ("objective", "curves", "parallel", "importance"):
        chart = charts[name]
        assert chart["empty"] and chart["sentence"], f"the empty {name} chart shows no sentence: {chart}"
        assert not chart["axes"], f"the empty {name} chart draws bare axes: {chart}"
    assert "as trials finish" in charts["objective"]["sentence"], charts["objective"]
    assert "first trial trains" in charts["curves"]["sentence"], charts["curves"]

    # at first sight, on a 1366 x 768 screen: header, controls, status, best model, the
    # two main charts and the table, with the panel's top at the top of the notebook
    panel.section("hyperparameters").locator(".jupyter-widget-Collapse-header").click()
    fits = panel.root.evaluate(
        """(root) => {
          root.scrollIntoView({block: "start"});
          let scroller = root.parentElement;
          while (scroller && !(scroller.scrollHeight > scroller.clientHeight + 4 &&
                 /(auto|scroll)/.test(getComputedStyle(scroller).overflowY))) scroller = scroller.parentElement;
          const bottom = Math.min(window.innerHeight, scroller ? scroller.getBoundingClientRect().bottom : 1e9);
          const parts = {header: ".amnb-header", status: ".amnb-status", table: ".amnb-table",
                         objective: ".amnb-chart[data-chart=objective]", curves: ".amnb-chart[data-chart=curves]"};
          const out = {bottom, parts: {}};
          for (const [name, sel] of Object.entries(parts)) {
            const r = root.querySelector(sel).getBoundingClientRect();
            out.parts[name] = {top: Math.round(r.top), bottom: Math.round(r.bottom)};
          }
          return out;
        }"""
    )
    outside = {k: v for k, v in fits["parts"].items() if v["bottom"] > fits["bottom"] + 1}
    assert not outside, f"parts below the first screen (its bottom at {fits['bottom']}px): {outside}"
    look.both_themes("1-empty", lambda theme: _no_overlap(look))


def _no_overlap(look: Look) -> dict:
    found = look.layout_problems()
    assert found["charts"], "no chart visible"
    assert not found["problems"], "\n".join(found["problems"])
    return found


@step
def test_2_paused_mid_way_the_charts_read_well_in_both_themes(look):
    nb, panel = look.nb, look.panel
    assert panel is not None
    nb.run_cell(nb.code_cell(START), timeout=60)
    snap = panel.wait(
        lambda s: sum(r["status"] == "completed" for r in s.rows) >= 2
        and len(s.running()) == 1
        and 2 <= s.epochs_done(s.running()[0]) <= 6,
        timeout=90,
        what="two trials done and a third past its second epoch",
    )
    panel.button("Pause").click()
    snap = panel.wait(lambda s: s.state == "paused", timeout=15, what="the status to say paused")
    running = snap.running()[0]
    done = sum(r["status"] == "completed" for r in snap.rows)
    # the bar stands inside the running trial: past the finished trials, short of the next
    value = float(panel.root.locator(".widget-hprogress .progress-bar, .widget-hprogress [role=progressbar]").first
                  .evaluate("(e) => e.style.width ? parseFloat(e.style.width) / 100 : Number(e.getAttribute('aria-valuenow'))"))
    assert done / 5 < value < (done + 1) / 5, (
        f"the progress bar is at {value:.2f} with {done} of 5 trials done and trial "
        f"{running['id']} at {running['epochs']}"
    )
    panel.open_section("hyperparameters")
    charts = poll(
        look.charts,
        until=lambda c: all(c[n]["drawn"] for n in ("objective", "curves", "parallel")),
        timeout=30,
        what="the objective, curves and parallel-coordinates charts to be drawn",
    )
    for name in ("objective", "curves", "parallel"):
        assert not charts[name]["empty"], charts[name]
    for name in ("objective", "curves"):
        ticks = charts[name]["xticks"]
        assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), f"{name}: x ticks {ticks}"
    legend = " | ".join(charts["curves"]["legend"])
    assert f"trial {running['id']} · running" in legend and "best" in legend, legend
    assert charts["objective"]["stars"] == 1 and charts["curves"]["stars"] == 1, charts
    star_row = panel.table.locator("tr.amnb-row-best")
    assert star_row.count() == 1 and "★" in star_row.inner_text()

    def check(theme: str) -> None:
        _no_overlap(look)
        for name, chart in look.charts().items():
            if not chart["width"] or chart["empty"]:
                continue
            lum = _luminance(chart["background"])
            if theme == "dark":
                assert lum < 0.2, f"{name} in the dark theme has a light background {chart['background']}"
            else:
                assert lum > 0.7, f"{name} in the light theme has a dark background {chart['background']}"

    look.both_themes("2-paused", check)
    look.theme("dark-contrast")  # JupyterLab's high-contrast theme: the charts follow it too
    look.shots.take(look.page, "2-paused-dark-contrast", panel.root)
    check("dark")
    look.theme("light")
    look.picture("look-panel.png")  # README's picture: paused mid-way, at first sight


@step
def test_3_the_charts_follow_the_window_width(look):
    panel = look.panel
    assert panel is not None
    first = {n: c["drawn"] for n, c in look.charts().items() if c["drawn"]}
    assert {"objective", "curves"} <= set(first), first

    def fitted(c) -> bool:  # every drawn chart exactly as wide as its place
        return all(c[n]["drawn"] and abs(c[n]["drawn"] - c[n]["width"]) <= 2 for n in first)

    look.page.set_viewport_size({"width": 1200, "height": SCREEN["height"]})
    seen = poll(
        look.charts,
        until=lambda c: fitted(c) and all(c[n]["drawn"] < first[n] for n in first),
        timeout=20,
        what="every chart to redraw narrower at the width of its place (window 1200 px)",
    )
    look.page.set_viewport_size({"width": 800, "height": SCREEN["height"]})
    seen = poll(
        look.charts,
        until=lambda c: fitted(c) and c["objective"]["drawn"] != seen["objective"]["drawn"],
        timeout=20,
        what="every chart to redraw at the width of its place (window 800 px: one column)",
    )
    look.shots.take(look.page, "3-narrow", panel.root)
    _no_overlap(look)
    look.page.set_viewport_size(SCREEN)
    poll(
        look.charts,
        until=lambda c: fitted(c) and all(abs(c[n]["drawn"] - first[n]) <= 2 for n in first),
        timeout=20,
        what="every chart to redraw at its first width",
    )


@step
def test_4_done_the_stale_message_is_gone(look):
    panel = look.panel
    assert panel is not None
    panel.button("Resume").click()
    snap = panel.wait(
        lambda s: s.state == "done" and s.rows and not s.running(), timeout=120, what="the search to end"
    )
    assert "paused" not in snap.message and "resum" not in snap.message, snap.message
    assert "stopping" not in snap.message, snap.message
    look.both_themes("4-done", lambda theme: _no_overlap(look))


@step
def test_5_the_sections_remember_how_they_were_left(look):
    panel = look.panel
    assert panel is not None
    assert panel.section("hyperparameters").locator(".jupyter-widget-Collapse-open").count()
    cell = look.nb.code_cell(AGAIN)
    look.nb.run_cell(cell, timeout=60)
    again = Panel(look.page, cell)
    again.wait_visible(timeout=30)
    opened = {
        name: again.section(name).locator(".jupyter-widget-Collapse-open").count() > 0
        for name in ("hyperparameters", "teaching", "enqueue")
    }
    assert opened == {"hyperparameters": True, "teaching": False, "enqueue": False}, opened
