"""The "Try these next" form: one input a hyperparameter, typed by its kind, and Run next.

:class:`EnqueueForm` (re)builds its inputs when the search's space becomes known and
hands back the values typed as the space says (:meth:`EnqueueForm.values`); the panel
sends them to ``Search.enqueue``.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from ._widgets import close_tree


class EnqueueForm(widgets.VBox):
    """A sentence, one input a hyperparameter (``inputs``: name -> widget) and ``button``."""

    def __init__(self) -> None:
        self.inputs: dict[str, widgets.Widget] = {}
        self.rows = widgets.VBox([])
        self.button = widgets.Button(
            description="Run next", icon="forward", tooltip="Run these values as the next trial"
        )
        self._space: list[dict[str, Any]] | None = None
        super().__init__(
            [
                widgets.HTML(
                    "<span style='color: var(--jp-ui-font-color2, #666)'>Values for the next "
                    "trial (it runs before the oracle's next one); each starts at the space's "
                    "default.</span>"
                ),
                self.rows,
                self.button,
            ],
            layout=widgets.Layout(flex="1 1 0%", min_width="0"),
        )

    def build(self, space: list[dict[str, Any]]) -> bool:
        """(Re)build the inputs when the space is new; True if it was."""
        if not space or space == self._space:
            return False
        old = list(self.inputs.values())
        self.inputs = {}
        rows = []
        for spec in space:
            made = input_for(spec)
            if made is None:
                continue
            self.inputs[spec["name"]] = made
            rows.append(made)
        self.rows.children = rows
        for w in old:
            close_tree(w)
        self._space = list(space)
        return True

    def values(self) -> dict[str, Any]:
        """The form's values, typed as the space says (fixed ones are left out)."""
        return {name: typed(w) for name, w in self.inputs.items() if not w.disabled}


def input_for(spec: dict[str, Any]) -> widgets.Widget | None:
    """An input typed by the hyperparameter's kind (see ``SearchStarted.space``)."""
    name = str(spec.get("name", "?"))
    kind = spec.get("kind")
    default = spec.get("default")
    lo, hi, step = spec.get("min"), spec.get("max"), spec.get("step")
    common: dict[str, Any] = {
        "description": name,
        "style": {"description_width": "120px"},
        "layout": widgets.Layout(width="95%"),
    }
    if kind == "choice":
        values = list(spec.get("values") or [])
        if not values:
            return None
        value = default if default in values else values[0]
        return widgets.Dropdown(options=[(str(v), v) for v in values], value=value, **common)
    if kind == "boolean":
        return widgets.Checkbox(value=bool(default), indent=False, **common)
    if kind == "fixed":
        return widgets.Text(value=str(default), disabled=True, **common)
    if kind == "int":
        if lo is None or hi is None:
            return widgets.IntText(value=int(default or 0), **common)
        value = int(default) if default is not None else int(lo)
        return widgets.IntSlider(
            value=min(max(value, int(lo)), int(hi)),
            min=int(lo),
            max=int(hi),
            step=int(step or 1),
            continuous_update=False,
            **common,
        )
    if kind == "float":
        if lo is None or hi is None:
            return widgets.FloatText(value=float(default or 0.0), **common)
        lo, hi = float(lo), float(hi)
        value = float(default) if default is not None else lo
        value = min(max(value, lo), hi)
        if spec.get("sampling") in ("log", "reverse_log") and lo > 0:
            a, b = math.log10(lo), math.log10(hi)
            return widgets.FloatLogSlider(
                value=value,
                base=10,
                min=a,
                max=b,
                step=(b - a) / 100,
                readout_format=".2e",
                continuous_update=False,
                **common,
            )
        if hi > lo:
            return widgets.FloatSlider(
                value=value,
                min=lo,
                max=hi,
                step=float(step or (hi - lo) / 100),
                readout_format=".3g",
                continuous_update=False,
                **common,
            )
        return widgets.BoundedFloatText(value=value, min=lo, max=hi, **common)
    return None


def typed(w: widgets.Widget) -> Any:
    value = w.value
    if isinstance(w, widgets.IntSlider | widgets.IntText):
        return int(value)
    if isinstance(
        w,
        widgets.FloatLogSlider | widgets.FloatSlider | widgets.FloatText | widgets.BoundedFloatText,
    ):
        return float(value)
    if isinstance(w, widgets.Checkbox):
        return bool(value)
    return value
