"""Page helpers of the browser tests: a notebook in JupyterLab / Notebook 7, and the panel in it.

Everything waits on a condition with a time limit (:func:`poll`, Playwright's auto-waiting),
never on a bare sleep, and a failed wait says what it waited for and what it saw last.

Selectors of the panel (``automl_nb/panel/panel.py``, ``widgets/trial_table.js``,
``widgets/chart.js``), all here in one place (:class:`Panel` and ``_SNAPSHOT_JS``):

- the panel: the ipywidgets VBox with the class ``amnb-panel``;
- its buttons, ``button.widget-button`` by exact label: Pause / Resume, Stop, Run next,
  Export, Final fit, Export this trial, Close;
- the status line: ``.amnb-status .widget-html-content`` (``● <state> · ...``); the one
  status message: the Label ``.amnb-message``;
- the collapsible sections (``.amnb-section-<name>``: hyperparameters, teaching, enqueue),
  opened by a click on their ``.jupyter-widget-Collapse-header``;
- the trial table: ``.amnb-table`` rows ``tbody tr``, the id cell ``td.amnb-id`` (``0003`` or
  ``0003 ← 0001`` for a trial that continues 0001), the badge ``.amnb-badge`` (its text is
  the status), the row buttons Prune / Promote / Details, the epochs box ``input.amnb-epochs``,
  and the column headers (``thead th``) naming each hyperparameter cell;
- the charts: ``.amnb-chart[data-chart=<name>]`` (objective, curves, parallel, importance,
  points, bayesian), each with an HTML title ``.amnb-chart-title``, a sentence
  ``.amnb-chart-empty`` while it has nothing to draw, and the plot, a ``.js-plotly-plot``
  read through Plotly's ``gd.data`` (the learning curves: one trace a trial, its id in
  ``meta``);
- the details box: the panel's VBox child holding the "Export this trial" button; the best
  card: the HTML that starts with "Best model"; the enqueue form: the inputs of the VBox with
  the "Run next" button, found by their label text (in the "enqueue" section).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

# Toasts (news, update checks, kernel notices) can cover the panel's buttons: hide them.
HIDE_TOASTS = ".Toastify, .jp-toast-container { display: none !important; }"


def poll(
    fn: Callable[[], Any],
    *,
    until: Callable[[Any], bool] = bool,
    timeout: float,
    what: str,
    interval: float = 0.25,
) -> Any:
    """Call ``fn`` until ``until(value)`` holds (returns that value) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while True:
        value = fn()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            shown = repr(value)
            if len(shown) > 1500:
                shown = shown[:1500] + "..."
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last seen: {shown}"
            )
        time.sleep(interval)


class Shots:
    """Numbered screenshots of each step in artifacts/browser/."""

    def __init__(self, folder: Path, prefix: str):
        self.folder = folder
        self.prefix = prefix
        self.n = 0

    def take(
        self, page: Page, name: str, focus: Locator | None = None, block: str = "start"
    ) -> Path:
        """The viewport, with ``focus`` scrolled to its ``block`` (start, center, end) first.

        (An element screenshot of the panel does not work: the panel is taller than the
        window, inside the notebook's own scrolling box.)
        """
        self.n += 1
        path = self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"
        try:
            if focus is not None:
                focus.evaluate("(el, block) => el.scrollIntoView({block})", block)
            page.mouse.move(2, 2)  # no hover label over a chart
            page.screenshot(path=str(path), timeout=20_000)
        except Exception as exc:  # noqa: BLE001 - a screenshot is evidence, not the check
            print(f"screenshot {path.name} failed: {exc}")
        return path


# -- the notebook -----------------------------------------------------------------------------


class Notebook:
    """A notebook open in JupyterLab or Notebook 7 (the same cell DOM in both)."""

    def __init__(self, page: Page):
        self.page = page

    def open(self, url: str) -> None:
        page = self.page
        page.goto(url, wait_until="domcontentloaded", timeout=90_000)
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(state="visible", timeout=90_000)
        page.add_style_tag(content=HIDE_TOASTS)
        self.dismiss_dialogs()

    def wait_kernel_connected(self, timeout: float = 90) -> None:
        """The notebook shows its kernel (toolbar) and the kernel's status is known (idle or busy)."""
        name = self.page.locator(".jp-Toolbar-kernelName").first
        poll(
            lambda: name.inner_text() if name.count() else "",
            until=lambda t: "Python 3" in t,
            timeout=timeout,
            what="the toolbar to name the Python 3 kernel",
        )
        indicator = self.page.locator(".jp-Notebook-ExecutionIndicator").first
        poll(
            lambda: indicator.get_attribute("data-status") if indicator.count() else "none",
            until=lambda st: st in ("idle", "busy", "none"),
            timeout=timeout,
            what="the kernel to be connected (idle or busy)",
        )
        self.dismiss_dialogs()

    def collapse_left_sidebar(self) -> None:
        """JupyterLab: close the file browser so the panel gets the page's width."""
        tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if tab.count():
            tab.first.click()
            poll(
                lambda: tab.count(),
                until=lambda n: n == 0,
                timeout=10,
                what="the left sidebar to collapse",
            )

    def dismiss_dialogs(self) -> list[str]:
        """Close any modal dialog with its dismissing button; returns their texts.

        Dismiss, not accept: the tests start each notebook's kernel before opening it, so
        on a "Select Kernel" dialog (JupyterLab asks when it opened the notebook before it
        had the kernel specs) Cancel keeps the session's kernel where Select would start
        another, and on a "Build Recommended" notice Cancel skips a rebuild. A dialog with
        one button (an error notice) is acknowledged with it.
        """
        seen = []
        dialogs = self.page.locator(".jp-Dialog")
        for _ in range(3):
            if not dialogs.count():
                break
            dialog = dialogs.first
            try:
                text = dialog.inner_text(timeout=2_000)
                seen.append(text)
                button = dialog.locator(".jp-Dialog-button.jp-mod-reject")
                if not button.count():
                    button = dialog.locator(".jp-Dialog-button.jp-mod-accept")
                if button.count():
                    button.first.click(timeout=5_000)
                else:
                    self.page.keyboard.press("Escape")
                dialog.wait_for(state="detached", timeout=5_000)
            except Exception as exc:  # noqa: BLE001 - it closed on its own meanwhile
                print(f"a dialog closed before it could be dismissed: {exc}")
        if seen:
            print("closed dialogs:", seen)
        return seen

    def code_cell(self, first_line: str) -> Locator:
        """The code cell whose source contains ``first_line``."""
        page = self.page
        cells = page.locator(".jp-Notebook .jp-CodeCell").filter(
            has=page.locator(".jp-InputArea-editor", has_text=first_line)
        )
        poll(
            cells.count,
            until=lambda n: n == 1,
            timeout=30,
            what=f"one code cell containing {first_line!r}",
        )
        return cells.first

    def prompt(self, cell: Locator) -> str:
        return cell.locator(".jp-InputPrompt").first.inner_text(timeout=10_000).strip()

    def run_cell(self, cell: Locator, timeout: float = 120) -> str:
        """Run one cell (click its editor, Ctrl+Enter) and wait until its prompt shows a number.

        The first keystroke after the page opens is sometimes lost while JupyterLab
        moves focus into the notebook: when the prompt has not changed after a few
        seconds (so the cell was not queued), click and press again.
        """
        before = self.prompt(cell)
        for attempt in range(4):
            self.dismiss_dialogs()
            cell.locator(".jp-InputArea-editor .cm-content").click()
            self.page.keyboard.press("Control+Enter")
            try:
                poll(
                    lambda: self.prompt(cell),
                    until=lambda p: p != before,
                    timeout=5,
                    what="the cell to be queued",
                )
                break
            except AssertionError:
                print(f"run_cell: the cell was not queued (attempt {attempt + 1}); pressing again")
        else:
            raise AssertionError(f"the cell did not start running; its prompt stayed {before!r}")
        return poll(
            lambda: self.prompt(cell),
            until=lambda p: re.fullmatch(r"\[\d+\]:", p) is not None,
            timeout=timeout,
            what="the cell to finish (a number in its prompt)",
        )

    def output(self, cell: Locator) -> Locator:
        return cell.locator(".jp-OutputArea")

    def output_text(self, cell: Locator) -> str:
        out = self.output(cell)
        return out.inner_text(timeout=10_000) if out.count() else ""


# -- the panel ------------------------------------------------------------------------------

_SNAPSHOT_JS = r"""
(root) => {
  const text = (el) => (el ? el.textContent.replace(/\s+/g, " ").trim() : null);
  const out = {rows: [], curves: {}, objective: null, status: null, message: null};
  const table = root.querySelector(".amnb-table");
  if (table) {
    const heads = [...table.querySelectorAll("thead th")].map(
      (th) => th.textContent.replace(/[↕▾]/g, "").trim());
    for (const tr of table.querySelectorAll("tbody tr")) {
      const cells = [...tr.children];
      const row = {};
      heads.forEach((h, i) => { if (h && cells[i]) row[h] = text(cells[i]); });
      const idText = text(tr.querySelector("td.amnb-id")) || "";
      const m = idText.match(/^(\S+)(?:\s*←\s*(\S+))?/);
      row.id = m ? m[1] : idText;
      row.parent = m && m[2] ? m[2] : null;
      row.status = text(tr.querySelector(".amnb-badge"));
      row.buttons = [...tr.querySelectorAll("button")].map((b) => text(b));
      row.selected = tr.classList.contains("amnb-row-selected");
      out.rows.push(row);
    }
  }
  for (const chart of root.querySelectorAll(".amnb-chart")) {
    const gd = chart.querySelector(".js-plotly-plot");
    const traces = ((gd && gd.data) || []).map((t) => ({
      name: t.name || "", meta: t.meta == null ? "" : String(t.meta),
      x: Array.from(t.x || []), y: Array.from(t.y || []),
    }));
    if (chart.dataset.chart === "curves") {
      for (const t of traces) if (t.meta) out.curves[t.meta] = t;
    } else if (chart.dataset.chart === "objective") {
      out.objective = traces;
    }
  }
  out.status = text(root.querySelector(".amnb-status .widget-html-content"));
  out.message = text(root.querySelector(".amnb-message"));
  return out;
}
"""


class Snapshot:
    """What the panel shows at one moment (read in one round trip)."""

    def __init__(self, data: dict[str, Any]):
        self.rows: list[dict[str, Any]] = data["rows"]
        self.curves: dict[str, dict[str, Any]] = data["curves"]
        self.objective = data["objective"]
        self.status: str = data["status"] or ""
        self.message: str = data["message"] or ""

    @property
    def state(self) -> str:
        """The status line's first word: running, paused, stopping, done, failed, idle."""
        words = self.status.replace("●", " ").split()
        return words[0] if words else ""

    @property
    def points(self) -> int:
        """Points on the learning-curves chart, all trials together."""
        return sum(len(c["x"]) for c in self.curves.values())

    def row(self, trial_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["id"] == trial_id), None)

    def running(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == "running"]

    def epochs_left(self, row: dict[str, Any]) -> int:
        """Epochs a running row has still to train (from its ``12/30`` epochs cell)."""
        m = re.fullmatch(r"(\d+)/(\d+)", row.get("epochs") or "")
        return int(m.group(2)) - int(m.group(1)) if m else 0

    def epochs_done(self, row: dict[str, Any]) -> int:
        """The last epoch a running row has finished (``12`` of ``12/30``; 0 before the first)."""
        m = re.fullmatch(r"(\d+)/(\d+)", row.get("epochs") or "")
        return int(m.group(1)) if m else 0

    def __repr__(self) -> str:
        rows = ", ".join(
            f"{r['id']}{'<-' + r['parent'] if r['parent'] else ''}:{r['status']}:{r.get('epochs')}"
            for r in self.rows
        )
        return (
            f"<panel status={self.status!r} message={self.message!r} rows=[{rows}] "
            f"points={self.points}>"
        )


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


class Panel:
    """The automl-nb panel in one cell's output."""

    def __init__(self, page: Page, cell: Locator):
        self.page = page
        self.cell = cell
        self.root = cell.locator(".jp-OutputArea-output .amnb-panel").first

    def wait_visible(self, timeout: float = 120) -> None:
        self.root.wait_for(state="visible", timeout=timeout * 1000)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.root.evaluate(_SNAPSHOT_JS))

    def wait(
        self, until: Callable[[Snapshot], Any], *, timeout: float, what: str, interval: float = 0.2
    ) -> Snapshot:
        return poll(self.snapshot, until=until, timeout=timeout, what=what, interval=interval)

    def button(self, name: str) -> Locator:
        """A panel button by its label (an ipywidgets Button; its icon is not part of the text)."""
        return self.root.locator("button.widget-button", has_text=_exactly(name))

    def row(self, trial_id: str) -> Locator:
        return self.root.locator(".amnb-table tbody tr").filter(
            has=self.page.locator(
                "td.amnb-id", has_text=re.compile(rf"^\s*{re.escape(trial_id)}(\s|$)")
            )
        )

    def row_button(self, trial_id: str, name: str) -> Locator:
        return self.row(trial_id).locator("button", has_text=_exactly(name))

    @property
    def table(self) -> Locator:
        return self.root.locator(".amnb-table")

    @property
    def best_card(self) -> Locator:
        """The "Best model" line's text."""
        return self.root.locator(".amnb-best .widget-html-content")

    def section(self, name: str) -> Locator:
        """A collapsible section: hyperparameters, teaching or enqueue."""
        return self.root.locator(f".amnb-section-{name}")

    def open_section(self, name: str) -> None:
        """Open a collapsible section (a click on its header) unless it is open already."""
        section = self.section(name)
        if not section.locator(".jupyter-widget-Collapse-open").count():
            section.locator(".jupyter-widget-Collapse-header").first.click()
        poll(
            lambda: section.locator(".jupyter-widget-Collapse-open").count(),
            until=lambda n: n > 0,
            timeout=10,
            what=f"the {name} section to open",
        )

    def chart(self, name: str) -> Locator:
        """A chart by its name (objective, curves, parallel, importance, points, bayesian)."""
        return self.root.locator(f".amnb-chart[data-chart={name}]")

    def watch_badge(self, trial_id: str, status: str) -> None:
        """Note (page clock) when ``trial_id``'s badge first says ``status``, and every click.

        Read with :meth:`badge_latency`. The page's own clock and a MutationObserver time
        the change when the DOM shows it, even if the page is then busy for a while (the
        first WebGL draw of the parallel-coordinates chart takes seconds in software
        rendering) and a probe from the test could only run after that.
        """
        self.root.evaluate(
            r"""(root, [tid, status]) => {
              window.__amnb = window.__amnb || {marks: {}, click: null};
              if (!window.__amnb.clickHook) {
                document.addEventListener("click", () => { window.__amnb.click = Date.now(); }, true);
                window.__amnb.clickHook = true;
              }
              const key = tid + ":" + status;
              const table = root.querySelector(".amnb-table");
              const check = () => {
                if (window.__amnb.marks[key]) return;
                for (const tr of table.querySelectorAll("tbody tr")) {
                  const id = (tr.querySelector("td.amnb-id") || {}).textContent || "";
                  const badge = tr.querySelector(".amnb-badge");
                  if (id.trim().split(/\s/)[0] === tid && badge && badge.textContent === status) {
                    window.__amnb.marks[key] = Date.now();
                    observer.disconnect();
                  }
                }
              };
              const observer = new MutationObserver(check);
              observer.observe(table, {subtree: true, childList: true, characterData: true});
              check();
            }""",
            [trial_id, status],
        )

    def badge_latency(self, trial_id: str, status: str) -> float | None:
        """Seconds from the last click to the badge change :meth:`watch_badge` saw (None: not yet)."""
        ms = self.page.evaluate(
            "([key]) => { const a = window.__amnb; return a && a.marks[key] && a.click"
            " ? a.marks[key] - a.click : null; }",
            [f"{trial_id}:{status}"],
        )
        return None if ms is None else ms / 1000.0

    @property
    def details(self) -> Locator:
        """The details box (shown by a row's Details button)."""
        return self.root.locator(":scope > .widget-vbox").filter(
            has=self.page.locator("button", has_text=_exactly("Export this trial"))
        )

    @property
    def header(self) -> Locator:
        return self.root.locator(".amnb-header").first

    # -- the enqueue form ----------------------------------------------------------------
    def form_input(self, name: str) -> Locator:
        """The input of hyperparameter ``name`` in the "Try these next" form (its section
        must be open: :meth:`open_section`)."""
        form = (
            self.root.locator(".widget-vbox")
            .filter(has=self.page.locator("button", has_text=_exactly("Run next")))
            .last
        )
        return (
            form.locator(".widget-inline-hbox")
            .filter(has=self.page.locator(f"label:text-is('{name}'), span:text-is('{name}')"))
            .first
        )

    def choose(self, name: str, value: str) -> None:
        select = self.form_input(name).locator("select")
        select.select_option(value)
        poll(
            lambda: select.input_value(),
            until=lambda v: v == value,
            timeout=10,
            what=f"the form's {name} to show {value}",
        )

    def check(self, name: str, value: bool = True) -> None:
        box = self.form_input(name).locator("input[type=checkbox]")
        box.set_checked(value)

    def set_slider(self, name: str, value: str) -> None:
        """Type a value into a slider's editable readout (Enter commits it)."""
        widget = self.form_input(name)
        readout = widget.locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(value)
        self.page.keyboard.press("Enter")
        handle = widget.locator("[role=slider]")
        poll(
            lambda: handle.get_attribute("aria-valuenow"),
            until=lambda v: v is not None and float(v) == float(value),
            timeout=10,
            what=f"the form's {name} slider to hold {value}",
        )
