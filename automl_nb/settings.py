"""A search's settings and its budget: typed, frozen, versioned.

:class:`Settings` is what a search was asked for when it was created: its data's
description, the oracle, the objective, the budget it started with and how trials train.
It is built in one place for every kind of search (:func:`automl_nb.search`, the scripted
searches of :mod:`automl_nb.testing`) and never changes afterwards; a change is a new object
(``dataclasses.replace``). :mod:`automl_nb.store` is the one module that writes it to the
search directory and reads it back (:meth:`Settings.to_dict` and :meth:`Settings.from_dict`
give the JSON; files written before settings had a ``version`` still read).

:class:`Budget` is how much a search may spend: trials, time and the epochs of a trial. The
budget a search runs on is the record's (:attr:`automl_nb.record.SearchRecord.budget`): the
one it started with, as every ``SearchStarted`` event says, changed only by ``extend()``'s
journaled ``BudgetChanged`` events, so a reopened search and a replay show the budget as
extended. ``Settings.budget`` keeps the budget as first asked for.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger("automl_nb")

#: The version of the settings' JSON that this code writes. Files without a ``version`` are 1.
SETTINGS_VERSION = 2
#: The directory format, written into the settings (and beside an export) since version 1.
FORMAT = "automl-nb/1"


@dataclass(frozen=True)
class Budget:
    """What a search may spend: ``trials`` of its own (None: no cap), ``time_budget_s`` seconds
    of running time (None: no limit) and ``epochs`` a trial (Hyperband's max_epochs)."""

    trials: int | None = None
    time_budget_s: float | None = None
    epochs: int | None = None

    def extended(self, *, trials: int | None = None, time_s: float | None = None,
                 spent_s: float = 0.0) -> Budget:
        """This budget with ``trials`` more trials (when it has a cap) and ``time_s`` more
        seconds after what is spent (``spent_s``) or after the limit, whichever is later (a
        search with no time limit gets one: ``spent_s + time_s``)."""
        budget = self
        if trials and budget.trials is not None:
            budget = dataclasses.replace(budget, trials=budget.trials + trials)
        if time_s:
            start = spent_s if budget.time_budget_s is None else max(budget.time_budget_s, spent_s)
            budget = dataclasses.replace(budget, time_budget_s=start + time_s)
        return budget


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Settings:
    """What a search was asked for. The field names are the keys of its JSON (the budget's
    fields sit at the top level there: ``trials``, ``time_budget_s``, ``epochs``)."""

    name: str
    data: dict[str, Any]  #: the data's summary, as shown (name, family, task, sizes, ...)
    oracle: str  #: an oracle's name, or the class name of a KerasTuner Oracle given
    objective: str
    direction: str  #: "max" or "min"
    budget: Budget = field(default_factory=Budget)  #: the budget as first asked for
    seed: int | None = None
    deterministic: bool = False
    batch_size: int | None = None
    space: str | None = None  #: "builtin", "custom" or "scripted"
    step: bool = False  #: pause after every trial
    warm_start: bool = False  #: the space's defaults and portfolio first
    patience: int | None = None  #: early stopping after this many epochs (None: off)
    ensemble: bool = True  #: weigh an ensemble of the best trials at the end
    referee: bool = True  #: a table search's yardstick (gradient-boosted trees)
    plan: bool = True  #: plan the epochs of a time budget (halving, promotions)
    max_params: int | None = None  #: a trial's model over this many parameters ends at build
    workers: int = 1  #: worker processes the trials run in (1: this process)
    space_ref: str | None = None  #: the space as "module:function", for worker processes
    dataset: dict[str, Any] = field(default_factory=dict)  #: what reads the data back (store)
    created: str = field(default_factory=_now)
    format: str = FORMAT
    version: int = SETTINGS_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of these settings, the budget's fields at the top level."""
        out: dict[str, Any] = {"version": self.version, "format": self.format}
        for f in dataclasses.fields(self):
            if f.name == "budget":
                out.update(dataclasses.asdict(self.budget))
            elif f.name not in out:
                out[f.name] = getattr(self, f.name)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Settings from their JSON object: one this code wrote, one written before settings
        had a version (version 1: the same keys, some of them missing, which take their
        defaults), or one from a newer version (keys this code does not know are left out).
        Raises TypeError when it is no settings object at all."""
        if not isinstance(data, dict):
            raise TypeError(f"settings must be a JSON object, not {type(data).__name__}")
        budget_keys = {f.name for f in dataclasses.fields(Budget)}
        known = {f.name for f in dataclasses.fields(cls)} - {"budget"}
        unknown = sorted(set(data) - known - budget_keys)
        if unknown:
            log.debug("settings keys left out (from a newer version?): %s", ", ".join(unknown))
        # version 1 (no "version" key) has the same keys as 2, which adds "version" itself
        # and writes every field: nothing to migrate yet, the object is of this version
        values = {k: v for k, v in data.items() if k in known and k != "version"}
        values["budget"] = Budget(**{k: data[k] for k in budget_keys if k in data})
        for required in ("name", "oracle", "objective", "direction"):
            if not isinstance(values.get(required), str):
                raise TypeError(f"its '{required}' is missing or not text")
        values.setdefault("data", {})
        return cls(**values)
