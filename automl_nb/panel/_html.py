"""Small HTML fragments of the panel (header, status, best card, trial details): pure functions.

:func:`escape` is the panel's one way to put text into HTML.
"""

from __future__ import annotations

import html
from typing import Any

from .._util import format_duration
from ..record import SearchRecord
from ..status import SearchState, TrialStatus
from ._colours import BEST, RUNNING
from ._data import BestInfo, HeaderInfo, finite, trial_curve

MUTED = "color: var(--jp-ui-font-color2, #666)"


def escape(text: Any) -> str:
    """``text`` (any value, as ``str``) safe inside HTML, quotes included."""
    return html.escape(str(text))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def header_html(info: HeaderInfo) -> str:
    """The header: name, data, oracle, objective, budget."""
    title = f"<b>automl-nb</b> · {escape(info.name)}" if info.name else "<b>automl-nb</b>"
    facts = [
        ("data", info.data),
        ("oracle", info.oracle),
        ("objective", info.objective),
        ("budget", info.budget),
    ]
    items = " &nbsp; ".join(f"<span style='{MUTED}'>{k}</span> {escape(v)}" for k, v in facts)
    return f"<div style='line-height:1.6'>{title}<br>{items}</div>"


def status_html(text: str, state: str) -> str:
    """The status line, with a coloured dot for the state."""
    colour = {
        SearchState.RUNNING: "#2ca02c",
        SearchState.PAUSED: "#ff7f0e",
        SearchState.STOPPING: "#ff7f0e",
        SearchState.DONE: "#1f77b4",
        SearchState.FAILED: "#d62728",
    }.get(state, "#999")
    return f"<span style='color:{colour}'>●</span> {escape(text)}"


def hp_table(values: dict[str, Any]) -> str:
    """Hyperparameters as a two-column table."""
    rows = "".join(
        f"<tr><td style='{MUTED};padding-right:12px'>{escape(str(k))}</td>"
        f"<td><code>{escape(_value(v))}</code></td></tr>"
        for k, v in values.items()
    )
    return f"<table style='border-collapse:collapse'>{rows}</table>"


def best_html(best: BestInfo | None) -> str:
    """The best-model line: trial, score, epoch; its hyperparameters folded under it."""
    if best is None:
        return f"<b>Best model</b> <span style='{MUTED}'>· no finished trial yet</span>"
    epoch = f" at epoch {best.best_epoch}" if best.best_epoch else ""
    mix = ""
    if best.ensemble:
        members = ", ".join(f"<code>{escape(tid)}</code> {weight:.0%}" for tid, weight in best.ensemble)
        note = f" <span style='{MUTED}'>· {escape(best.ensemble_note)}</span>" if best.ensemble_note else ""
        mix = f"<br>Export writes an <b>ensemble</b> of trials {members}{note}<br>"
    if best.referee:
        mix += f"<br><span style='{MUTED}'>Yardstick: {escape(best.referee)}</span><br>"
    return (
        f"<span style='color:{BEST['color']}'>★</span> "
        f"<b>Best model</b>: trial <code>{escape(best.trial_id)}</code> · "
        f"{escape(best.objective)} <b>{best.score:.4f}</b>{epoch} {mix}"
        f"<details style='display:inline-block;vertical-align:top'><summary style='{MUTED};"
        f"cursor:pointer'>hyperparameters</summary>{hp_table(best.hyperparameters)}</details>"
    )


def sparkline_svg(
    xs: tuple[int, ...], ys: tuple[float, ...], width: int = 260, height: int = 70
) -> str:
    """A small inline SVG line of a curve (the details view's chart)."""
    if not xs:
        return f"<span style='{MUTED}'>no epochs yet</span>"
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    sx = (width - 10) / ((x1 - x0) or 1)
    sy = (height - 16) / ((y1 - y0) or 1)
    points = " ".join(
        f"{5 + (x - x0) * sx:.1f},{height - 8 - (y - y0) * sy:.1f}"
        for x, y in zip(xs, ys, strict=True)
    )
    return (
        f"<svg width='{width}' height='{height}' style='overflow:visible'>"
        f"<polyline fill='none' stroke='{RUNNING[0]}' stroke-width='2' points='{points}'/>"
        f"<text x='0' y='10' font-size='10' fill='currentColor' opacity='0.7'>{y1:.4g}</text>"
        f"<text x='0' y='{height}' font-size='10' fill='currentColor' opacity='0.7'>{y0:.4g} · epochs {x0}–{x1}</text>"
        "</svg>"
    )


def details_html(record: SearchRecord, trial_id: str) -> str:
    """A trial's details: status, score, lineage, every hyperparameter, its curve."""
    trial = record.trials.get(trial_id)
    if trial is None:
        return f"no trial {escape(trial_id)} in this search"
    curve = trial_curve(record, trial_id)
    score = finite(trial.score)
    facts = [
        f"status <b>{escape(trial.status)}</b>",
        f"score <b>{score:.4f}</b>" if score is not None else "no score",
        f"epochs {trial.initial_epoch + 1 if trial.curve else trial.initial_epoch}–{trial.epochs}",
        f"took {format_duration(trial.duration_s, '—')}" if trial.duration_s is not None
        else str(TrialStatus.RUNNING),
    ]
    if trial.parent_id:
        facts.append(
            f"continues trial <code>{escape(trial.parent_id)}</code> ({escape(trial.source)})"
        )
    elif trial.source != "oracle":
        facts.append(escape(trial.source))
    info = getattr(trial, "info", None) or {}
    if info.get("worker"):
        host = f" on {escape(str(info['host']))}" if info.get("host") else ""
        facts.append(f"ran on worker <code>{escape(str(info['worker']))}</code>{host}")
    if "bracket" in info:
        facts.append(f"Hyperband bracket {info['bracket']}, round {info.get('round')}")
    if info.get("passes"):
        facts.append(f"an epoch goes over the training rows {info['passes']} times")
    reason = f"<br><span style='{MUTED}'>{escape(trial.reason)}</span>" if trial.reason else ""
    return (
        f"<b>Trial <code>{escape(trial_id)}</code></b> · "
        + " · ".join(facts)
        + reason
        + "<div style='display:flex;gap:24px;margin-top:6px'>"
        + f"<div>{hp_table(trial.hyperparameters)}</div>"
        + f"<div>{escape(record.objective or 'objective')} per epoch<br>"
        + sparkline_svg(curve.epochs, curve.values)
        + "</div></div>"
    )
