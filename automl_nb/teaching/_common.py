"""What every teaching data function shares: where a record or an oracle comes from.

:func:`record_of` takes a SearchRecord or anything that holds one (a Search, a Replay);
:func:`oracle_of` the KerasTuner oracle of a live Search. (What kind an oracle is, and what
it can show, is :func:`automl_nb.oracles.kind_of`'s to say.)
"""

from __future__ import annotations

from typing import Any

from ..record import SearchRecord


def record_of(source: Any) -> SearchRecord:
    """A SearchRecord, or the record of a Search, Replay or anything with ``.record``."""
    if isinstance(source, SearchRecord):
        return source
    record = getattr(source, "record", None)
    if isinstance(record, SearchRecord):
        return record
    raise TypeError(
        "record must be a SearchRecord or a search (automl_nb.search, open or replay); "
        f"got {type(source).__name__}"
    )


def oracle_of(source: Any) -> Any:
    """The oracle itself, or a live Search's oracle (once its thread has built it)."""
    if hasattr(source, "populate_space"):
        return source
    if hasattr(source, "record") and hasattr(source, "state"):
        oracle = getattr(source, "oracle", None)
        if oracle is None:
            raise RuntimeError(
                "this search has no oracle yet: it builds one when it starts (a reopened "
                "search after start(), a replay never; a replay's recording may carry snapshots: "
                "replay.surrogate(name))"
            )
        return oracle
    return source

