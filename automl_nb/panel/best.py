"""The best-model row: what the best trial is, Export (in a format) and Final fit.

:class:`BestBox` shows :func:`~automl_nb.panel._data.best_info` in one line and runs the
two commands that act on the best model. Export writes ``.keras`` by default, or the
format chosen beside it (SavedModel, TFLite), through ``search.export(path, format=...)``;
it answers at once. A final fit retrains on a thread (seconds to minutes), with its
progress in ``final_fit_status``. Both report through the panel's ``command`` and ``say``
(the one status message).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..record import SearchRecord
from ..view import SearchView
from . import _html
from ._data import best_info
from ._widgets import assign, sentence

log = logging.getLogger("automl_nb")

#: Export's formats: (label, the value ``search.export(format=...)`` takes).
FORMATS = ((".keras", "keras"), ("SavedModel", "savedmodel"), ("TFLite", "tflite"))


def takes_format(export: Any) -> bool:
    """Whether a search's ``export`` takes ``format=`` (older ones write .keras only)."""
    try:
        params = inspect.signature(export).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "format" or p.kind is p.VAR_KEYWORD for p in params)


class BestBox(widgets.HBox):
    """``best_html``, ``export_path``, ``export_format``, ``export_button``, ``final_fit_button``,
    ``final_fit_status``.

    Args:
        search: the Search (``export``, ``final_fit``, ``directory``).
        command: calls a Search command and shows its sentence (never raises).
        say: shows a sentence of the panel's own.
        record: the panel's record (which trial is best, for the final fit's words).
    """

    def __init__(
        self,
        search: SearchView,
        *,
        command: Callable[..., Any],
        say: Callable[[str], None],
        record: Callable[[], SearchRecord],
    ):
        self.search = search
        self._command = command
        self._say = say
        self._record = record
        self.closed = False
        self.final_fit_thread: threading.Thread | None = None
        self.best_html = widgets.HTML(_html.best_html(None))
        self.best_html.add_class("amnb-best")
        self.export_path = widgets.Text(
            value="",
            placeholder="path (default: in the search's folder)",
            tooltip="Where to write the model; empty: the search's folder",
            layout=widgets.Layout(width="240px"),
        )
        self.export_format = widgets.Dropdown(
            options=list(FORMATS), value="keras", tooltip="The format Export writes",
            layout=widgets.Layout(width="112px"),
        )
        self.export_button = widgets.Button(
            description="Export", icon="download", tooltip="Write the best model in the chosen format"
        )
        self.final_fit_button = widgets.Button(
            description="Final fit",
            icon="cogs",
            tooltip="Retrain the best trial on training + validation data (the search must be done)",
        )
        self.final_fit_status = widgets.HTML("")
        self.export_button.on_click(lambda _b: self.export())
        self.final_fit_button.on_click(lambda _b: self.final_fit())
        super().__init__(
            [
                self.best_html,
                widgets.HBox(
                    [self.export_path, self.export_format, self.export_button, self.final_fit_button,
                     self.final_fit_status],
                    layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
                ),
            ],
            layout=widgets.Layout(
                width="100%", align_items="center", flex_flow="row wrap", justify_content="space-between"
            ),
        )

    def update(self, record: SearchRecord) -> int:
        """Show the record's best trial; 1 if the card changed, else 0."""
        return assign(self.best_html, "value", _html.best_html(best_info(record)))

    def export(self) -> Any:
        """Export the best model (or the final fit's) in the chosen format, to the path typed
        or the search's default."""
        path = self.export_path.value.strip() or None
        fmt = self.export_format.value
        kwargs: dict[str, Any] = {"path": path}
        if takes_format(self.search.export):
            kwargs["format"] = fmt
        elif fmt != "keras":
            self._say(f"this version of automl-nb exports .keras only; choose .keras, not {fmt}")
            return None
        result = self._command(self.search.export, **kwargs)
        if result is not None:
            self._say(f"exported the best model to {result}")
        return result

    def final_fit(self) -> threading.Thread | None:
        """Retrain the best model (the best trial, or each trial of the ensemble) on training +
        validation data, on a thread."""
        if self.final_fit_thread is not None and self.final_fit_thread.is_alive():
            self._say("a final fit is already running")
            return None
        best = best_info(self._record())
        if best and best.ensemble:
            which = f"the ensemble of trials {', '.join(tid for tid, _ in best.ensemble)}"
        else:
            which = f"trial {best.trial_id}" if best else "the best trial"
        self.final_fit_button.disabled = True
        self.final_fit_status.value = f"final fit of {which} on training + validation data…"
        thread = threading.Thread(
            target=self._final_fit_worker, args=(which,), name="automl_nb-final-fit", daemon=True
        )
        self.final_fit_thread = thread
        thread.start()
        return thread

    def _final_fit_worker(self, which: str) -> None:
        try:
            self.search.final_fit()
        except Exception as exc:
            if not isinstance(exc, ValueError | RuntimeError | OSError | KeyError):
                log.exception("final fit failed")
            text = sentence(exc)
            self.final_fit_status.value = f"final fit did not run: {_html.escape(text)}"
            self._say(text)
        else:
            self.final_fit_status.value = (
                f"final fit of {which} done; Export now writes the retrained model"
            )
        finally:
            if not self.closed:
                self.final_fit_button.disabled = False
