"""Small ipywidgets helpers every part of the panel shares.

- :func:`assign`: set a trait only when its value changes, and count the message it sends;
- :func:`close_tree`: close a widget and every widget it holds (no comm left open);
- :func:`sentence`: what an exception says, as the one sentence a button shows.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets


def assign(widget: widgets.Widget, name: str, value: Any) -> int:
    """Set a trait; 1 if that sends a message (the value changed), else 0."""
    if getattr(widget, name) == value:
        return 0
    setattr(widget, name, value)
    return 1


def sentence(exc: BaseException) -> str:
    """The sentence an exception carries (a KeyError's own, not its repr)."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    return text


def close_tree(
    widget: widgets.Widget, seen: set[int] | None = None, close_root: bool = True
) -> None:
    """Close a widget and every widget it holds (children, layout, style)."""
    seen = set() if seen is None else seen
    if id(widget) in seen:
        return
    seen.add(id(widget))
    for name in list(getattr(widget, "keys", ())):
        value = getattr(widget, name, None)
        items = value if isinstance(value, list | tuple) else (value,)
        for item in items:
            if isinstance(item, widgets.Widget):
                close_tree(item, seen)
    if close_root:
        widget.close()
