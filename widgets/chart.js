// automl-nb chart: an anywidget ES module that draws one Plotly chart with plotly.js
// (plain JS, no build step). Python side: automl_nb/panel/chart.py.
//
// Model traits (synced from Python):
//   name     what the chart is ("objective", "curves", ...): the element's data-chart
//   title    the chart's title, drawn in HTML above the plot (it wraps; it never overlaps)
//   data     the traces; plot_layout: the layout, without colours (the theme adds them here)
//   empty    a sentence shown instead of axes while the chart has nothing to draw
//   height   the plot's height in px; the width follows the cell
//   library  the model id of the PlotlyLibrary widget whose `source` is plotly.min.js
//            (shipped once per kernel, not once per chart)
// Custom messages from Python: {kind: "delta", traces: {index: {"line.width": 3, ...}},
//   layout: {"xaxis.dtick": 5, ...}}: applied to the model (every view, and a view made
//   later, shows the same) and drawn with Plotly.react. Nothing is ever sent back.
// Theme: colours come from JupyterLab's --jp-* CSS variables (light, dark, high contrast),
//   else from the colours around the chart (VS Code, Colab); the chart redraws when the
//   theme changes. Width: a ResizeObserver redraws at the cell's width; a chart in a closed
//   section waits until it has one.

const LIBRARIES = (globalThis.__amnbPlotly = globalThis.__amnbPlotly || new Map());
const CONFIG = { displaylogo: false, responsive: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

// -- pure helpers (exported for the tests) ---------------------------------------------------

/** A copy of `obj` with the dotted `path` set to `value` (objects along the path are copied). */
export function setPath(obj, path, value) {
  const keys = path.split(".");
  const root = Array.isArray(obj) ? obj.slice() : { ...(obj || {}) };
  let node = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = node[keys[i]];
    node[keys[i]] = next && typeof next === "object" ? (Array.isArray(next) ? next.slice() : { ...next }) : {};
    node = node[keys[i]];
  }
  node[keys[keys.length - 1]] = value;
  return root;
}

/** New data and layout with a delta message applied (the inputs are not changed). */
export function applyDelta(data, layout, msg) {
  let outData = data;
  for (const [index, props] of Object.entries(msg.traces || {})) {
    if (outData === data) outData = data.slice();
    let trace = outData[Number(index)] || {};
    for (const [path, value] of Object.entries(props)) trace = setPath(trace, path, value);
    outData[Number(index)] = trace;
  }
  let outLayout = layout;
  for (const [path, value] of Object.entries(msg.layout || {})) outLayout = setPath(outLayout, path, value);
  return { data: outData, layout: outLayout };
}

/** Relative luminance (0 black .. 1 white) of a CSS colour: #rgb, #rrggbb, rgb(), rgba(). */
export function luminance(colour) {
  const c = String(colour || "").trim();
  let rgb = null;
  let m = c.match(/^#([0-9a-f]{3})$/i);
  if (m) rgb = m[1].split("").map((h) => parseInt(h + h, 16));
  m = c.match(/^#([0-9a-f]{6})/i);
  if (!rgb && m) rgb = [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = c.match(/^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+))?/i);
  if (!rgb && m) {
    if (m[4] !== undefined && Number(m[4]) === 0) return null; // transparent
    rgb = [m[1], m[2], m[3]].map(Number);
  }
  if (!rgb) return null;
  const [r, g, b] = rgb.map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The theme from CSS variables and the page's colours.
 * `read(name)` gives a CSS variable's value ("" when unset); `around` is the background
 * behind the chart; `page` JupyterLab's body data set ({jpThemeLight, jpThemeName}).
 */
export function themeFrom(read, around, page, text) {
  // the colour behind the chart (a section's box is not the notebook's), else the theme's
  const background = around || read("--jp-layout-color0") || "#ffffff";
  const lum = luminance(background);
  let dark = lum !== null ? lum < 0.4 : false;
  if (page && page.jpThemeLight) dark = page.jpThemeLight === "false";
  const contrast = /high contrast/i.test((page && page.jpThemeName) || "");
  const font = (contrast && read("--jp-ui-font-color0")) || read("--jp-ui-font-color1") || text || (dark ? "#e0e0e0" : "#222222");
  return {
    name: (dark ? "dark" : "light") + (contrast ? "-contrast" : ""),
    dark,
    contrast,
    background,
    font,
    muted: read("--jp-ui-font-color2") || (dark ? "#aaaaaa" : "#666666"),
    grid: read("--jp-border-color2") || (dark ? "#3c3c3c" : "#e8e8e8"),
    axis: read("--jp-border-color1") || (dark ? "#777777" : "#bbbbbb"),
    family: read("--jp-ui-font-family") || "system-ui, sans-serif",
  };
}

/** Plotly's template for the theme: plotly_white's or plotly_dark's look, in the page's colours. */
export function template(theme) {
  const axis = {
    gridcolor: theme.grid,
    zerolinecolor: theme.grid,
    linecolor: theme.axis,
    tickcolor: theme.axis,
    showline: theme.contrast, // high contrast: the axes drawn as lines too
    automargin: true,
    title: { standoff: 6 },
  };
  return {
    layout: {
      paper_bgcolor: theme.background,
      plot_bgcolor: theme.background,
      font: { color: theme.font, family: theme.family, size: 12 },
      colorway: theme.dark
        ? ["#5fa8e8", "#7fd17f", "#c39bd3", "#e6a05a", "#e377c2", "#4fd1d9", "#d4d45a", "#b0b0b0"]
        : ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"],
      xaxis: axis,
      yaxis: axis,
      legend: { bgcolor: "rgba(0,0,0,0)", font: { size: 11 } },
      hoverlabel: { font: { family: theme.family } },
      coloraxis: { colorbar: { outlinewidth: 0 } },
    },
    data: {
      // the range labels repeat the ticks at each end of an axis: drawn, but not seen
      parcoords: [{ labelfont: { color: theme.font, size: 11 }, tickfont: { color: theme.muted, size: 10 }, rangefont: { color: "rgba(0,0,0,0)", size: 1 } }],
    },
  };
}

/** The layout to draw: Python's layout at this width and height, in the theme's colours. */
export function themed(layout, theme, width, height) {
  const out = { ...(layout || {}) };
  out.template = template(theme);
  out.paper_bgcolor = theme.background;
  out.plot_bgcolor = theme.background;
  out.font = { ...(out.font || {}), color: theme.font, family: theme.family };
  out.width = width;
  out.height = height;
  out.autosize = false;
  return out;
}

// -- the page ------------------------------------------------------------------------------

function background(el) {
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (luminance(bg) !== null) return bg;
  }
  return "";
}

function readTheme(el) {
  const style = getComputedStyle(el);
  const read = (name) => style.getPropertyValue(name).trim();
  return themeFrom(read, background(el.parentElement || el), document.body.dataset, style.color);
}

/** Every chart on the page hears of a theme change once (JupyterLab sets data-jp-theme-* on
 * body when the user switches, and adds the theme's style sheet to head). */
const THEME_LISTENERS = (globalThis.__amnbThemeListeners = globalThis.__amnbThemeListeners || new Set());
if (!globalThis.__amnbThemeObserver && typeof MutationObserver !== "undefined" && typeof document !== "undefined") {
  const notify = () => THEME_LISTENERS.forEach((fn) => fn());
  const observer = new MutationObserver((records) => {
    notify();
    // a theme's style sheet applies once it has loaded: look again then
    for (const record of records) {
      for (const node of record.addedNodes || []) {
        if (node.tagName === "LINK" || node.tagName === "STYLE") node.addEventListener("load", notify, { once: true });
      }
    }
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class", "style"] });
  observer.observe(document.head, { childList: true });
  if (globalThis.matchMedia) {
    globalThis.matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", notify);
  }
  globalThis.__amnbThemeObserver = observer;
}

function idle() {
  // anywidget gives each model 2 s to load and initialize: start the heavy work (plotly.js
  // is 4.8 MB) once the page is idle, after the panel's other models have initialized
  return new Promise((resolve) =>
    globalThis.requestIdleCallback ? globalThis.requestIdleCallback(resolve, { timeout: 1500 }) : setTimeout(resolve, 0),
  );
}

async function loadPlotly(model) {
  const id = model.get("library");
  if (!LIBRARIES.has(id)) {
    LIBRARIES.set(
      id,
      (async () => {
        const library = await model.widget_manager.get_model(id);
        await idle();
        // plotly.min.js is a UMD bundle: as an ES module (compiled off the main thread) with a
        // CommonJS module to fill; it also sets window.Plotly, which is put back as it was
        const before = globalThis.Plotly;
        const source =
          "const module = { exports: {} }; const exports = module.exports;\n" +
          library.get("source") +
          "\nexport default module.exports;\n";
        const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
        try {
          const plotly = (await import(/* webpackIgnore: true */ url)).default;
          if (before !== undefined) globalThis.Plotly = before;
          return plotly;
        } finally {
          URL.revokeObjectURL(url);
        }
      })(),
    );
  }
  return LIBRARIES.get(id);
}

// -- the widget ----------------------------------------------------------------------------

function initialize({ model }) {
  const onMessage = (msg) => {
    if (!msg || msg.kind !== "delta") return;
    const out = applyDelta(model.get("data") || [], model.get("plot_layout") || {}, msg);
    if (out.layout !== model.get("plot_layout")) model.set("plot_layout", out.layout);
    if (out.data !== model.get("data")) model.set("data", out.data);
  };
  model.on("msg:custom", onMessage);
  return () => model.off("msg:custom", onMessage);
}

function render({ model, el }) {
  el.classList.add("amnb-chart");
  const title = document.createElement("div");
  title.className = "amnb-chart-title";
  const plot = document.createElement("div");
  plot.className = "amnb-chart-plot";
  const empty = document.createElement("div");
  empty.className = "amnb-chart-empty";
  el.append(title, plot, empty);

  let Plotly = null;
  let frame = 0;
  let disposed = false;
  let lastWidth = 0;

  function draw() {
    frame = 0;
    if (disposed) return;
    const sentence = model.get("empty") || "";
    const height = model.get("height") || 280;
    el.dataset.chart = model.get("name") || "";
    el.dataset.empty = sentence ? "true" : "false";
    title.textContent = model.get("title") || "";
    title.hidden = !title.textContent;
    empty.textContent = sentence;
    empty.style.display = sentence ? "" : "none";
    empty.style.height = `${height}px`;
    plot.style.display = sentence ? "none" : "";
    const theme = readTheme(el);
    el.dataset.theme = theme.name;
    if (sentence || !Plotly) return;
    const width = Math.floor(el.getBoundingClientRect().width);
    if (width < 40) return; // not laid out yet, or in a closed section: the observer calls again
    lastWidth = width;
    Plotly.react(plot, model.get("data") || [], themed(model.get("plot_layout"), theme, width, height), CONFIG);
  }

  function schedule() {
    if (!frame && !disposed) frame = requestAnimationFrame(draw);
  }

  const resize = new ResizeObserver(() => {
    const width = Math.floor(el.getBoundingClientRect().width);
    if (width !== lastWidth) schedule();
  });
  resize.observe(el);
  THEME_LISTENERS.add(schedule);
  const events = ["data", "plot_layout", "empty", "title", "height"].map((n) => `change:${n}`);
  for (const name of events) model.on(name, schedule);
  draw(); // the title and an empty chart's sentence at once, before plotly.js has loaded
  loadPlotly(model).then(
    (lib) => {
      Plotly = lib;
      schedule();
    },
    (error) => {
      empty.style.display = "";
      empty.textContent = `This chart could not load plotly.js: ${error}`;
    },
  );
  return () => {
    disposed = true;
    if (frame) cancelAnimationFrame(frame);
    resize.disconnect();
    THEME_LISTENERS.delete(schedule);
    for (const name of events) model.off(name, schedule);
    if (Plotly) Plotly.purge(plot);
  };
}

export default { initialize, render };
