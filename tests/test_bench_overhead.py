"""bench/overhead.py's interval for the per-round ratio (the script itself trains: a bench)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def overhead():
    spec = importlib.util.spec_from_file_location("bench_overhead", BENCH / "overhead.py")
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)  # it puts the project's root on sys.path
        yield module
    finally:
        sys.path[:] = path


def test_the_median_interval_takes_order_statistics_with_the_coverage_asked(overhead):
    assert overhead.median_interval([1.0] * 5) is None  # min..max covers 15/16 < 95%
    low, high, coverage = overhead.median_interval([0.9, 1.2, 1.0, 0.95, 1.01, 0.99])
    assert (low, high) == (0.9, 1.2) and coverage == pytest.approx(1 - 2 / 64)
    values = [1.05, 0.9, 1.0, 0.97, 0.98, 1.02, 0.99, 0.96, 1.01]  # 9 rounds: 2nd..8th
    low, high, coverage = overhead.median_interval(values)
    assert (low, high) == (0.96, 1.02) and coverage == pytest.approx(1 - 2 * 10 / 512)
    low, high, coverage = overhead.median_interval(values, level=0.99)
    assert (low, high) == (0.9, 1.05)  # only min..max covers 99% with 9 rounds


def test_a_run_is_cut_where_its_epochs_begin_and_the_least_disturbed_parts_are_the_minimums(overhead):
    cut = overhead.parts(10.0, [10.5, 12.0, 13.0], 15.0)
    assert cut == [0.5, 1.5, 1.0, 2.0] and sum(cut) == 15.0 - 10.0
    runs = [[0.5, 1.5, 1.0, 2.0], [0.4, 2.5, 0.9, 2.1], [0.6, 1.4, 3.0, 1.9]]
    assert overhead.least_disturbed(runs) == [0.4, 1.4, 0.9, 1.9]
    assert overhead.least_disturbed([[1.0, 2.0], [1.0]]) is None  # not cut the same way
    assert overhead.least_disturbed([]) is None
