"""Collapsible sections of the panel: what is not needed at first sight, one click away.

A :class:`Section` is an ipywidgets Accordion with one child, closed at first. Its state
lives in the Accordion's synced ``selected_index``, so a panel displayed again, or a page
reloaded, shows the same sections open. The panel is told when a section opens (its
charts then draw at the width they get).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets


class Section(widgets.Accordion):
    """One collapsible section: ``name`` (for code), a title, one child; closed at first."""

    def __init__(
        self,
        name: str,
        title: str,
        child: widgets.Widget,
        *,
        opened: bool = False,
        on_open: Callable[[str], Any] | None = None,
    ):
        super().__init__(children=[child], selected_index=0 if opened else None)
        self.add_class("amnb-section")
        self.add_class(f"amnb-section-{name}")
        self.name = name
        self.set_title(0, title)
        self.on_open = on_open
        self.observe(self._changed, names="selected_index")

    @property
    def is_open(self) -> bool:
        return self.selected_index == 0

    def expand(self) -> None:
        self.selected_index = 0

    def collapse(self) -> None:
        self.selected_index = None

    def _changed(self, change: Any) -> None:
        if change["new"] == 0 and self.on_open is not None:
            self.on_open(self.name)
