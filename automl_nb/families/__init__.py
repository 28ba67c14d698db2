"""The data families a search knows, registered: text (asked first), tabular, image and
sequence.

Each family is one module with one :class:`~automl_nb.families.base.DataFamily` (how it
recognises, describes, loads and stores its data, its preprocessing layers, what its exported
model's predictor accepts, its built-in space and portfolio); this module registers them, in
the order :func:`recognise` asks them. A new family is one new module and one line here
(``register(text.FAMILY, before="tabular")``, for a family that must be asked first); a test's
toy family registers and unregisters itself. Importing this imports no TensorFlow.
"""

from __future__ import annotations

from typing import Any

from . import image, sequence, tabular, text
from .base import (
    DataFamily,
    get,
    model_inputs,
    recognise,
    refuse_options,
    register,
    registered,
    source_family,
    unregister,
)

__all__ = ["DataFamily", "describe", "get", "model_inputs", "recognise", "refuse_options", "register",
           "registered", "source_family", "spec_family", "unregister"]

register(tabular.FAMILY)
register(image.FAMILY)
register(sequence.FAMILY)
register(text.FAMILY, before="tabular")


def spec_family(spec: dict[str, Any]) -> DataFamily:
    """The family whose ``preprocessing`` spec this is (``spec["family"]``, which every
    Dataset's spec carries); a spec without one (written by hand) is the tabular family's,
    whose layers take columns and arrays alike."""
    return get(spec.get("family") or tabular.FAMILY.name)


def describe(dataset: Any) -> dict[str, Any]:
    """``dataset.summary()`` with the family's line on it (``description``), for
    ``search.json``'s ``data``, which the panel's header and the command line show."""
    summary = dataset.summary()
    try:
        family = get(dataset.family)
    except KeyError:  # a Dataset made by hand for a family no one registered
        return summary
    summary["description"] = family.describe(dataset)
    return summary
