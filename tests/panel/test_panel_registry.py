"""The chart registry: every registered chart passes one conformance test, and a new chart is
one module and one registration."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from automl_nb.events import jsonable
from automl_nb.panel import registry
from automl_nb.panel.chart import Chart
from automl_nb.panel.registry import PLACES, ChartOptions, chart_kinds
from automl_nb.record import SearchRecord
from automl_nb.testing.panel import started, trial_events


def two_trials(fake):
    fake.publish(started(trials=5, epochs=4))
    fake.feed(trial_events("0000", {"units": 32, "activation": "relu"}, 4))
    fake.feed(trial_events("0001", {"units": 128, "activation": "tanh"}, 4))
    return fake.record


@pytest.mark.parametrize("kind", chart_kinds(), ids=lambda k: k.name)
def test_every_registered_chart_draws_its_data_on_an_empty_and_a_two_trial_record(
    kind, fake, comms
):
    options = ChartOptions()
    assert kind.place in PLACES and kind.refresh.events and kind.refresh.every > 0
    renderer = kind.renderer(options)
    try:
        assert isinstance(renderer.widget, Chart) and renderer.widget.name == kind.name
        empty = kind.data(SearchRecord(), options)
        assert empty == kind.data(SearchRecord(), options)  # pure: the same record, the same data
        renderer.draw(empty)
        assert renderer.widget.empty  # nothing to draw: the chart says so in its sentence

        record = two_trials(fake)
        data = kind.data(record, options)
        jsonable(data)  # plain data: numbers, strings, tuples, no widgets
        assert data == kind.data(record, options)
        sent = renderer.draw(data)
        assert isinstance(sent, int) and sent >= 0
        assert renderer.draw(data) == 0  # the same data again: nothing to send
        drawn = [t for t in renderer.widget.data if t.get("x") or t.get("dimensions")]
        # it draws the two trials, or says why not (importance needs three): never a blank
        assert bool(drawn) != bool(renderer.widget.empty), kind.name
        assert drawn or sent == 0
    finally:
        renderer.close()


def test_the_panel_is_built_from_the_registry(fake, make_panel):
    panel = make_panel(fake)
    kinds = chart_kinds()
    assert list(panel.chart_renderers) == [k.name for k in kinds]
    assert all(getattr(panel, k.attribute) is panel.chart_renderers[k.name] for k in kinds)
    placed = {
        "charts": panel.charts.children,
        "hyperparameters": panel.sections["hyperparameters"].children[-1].children,
    }
    for place, children in placed.items():
        assert list(children) == [panel.chart_renderers[k.name].widget
                                  for k in kinds if k.place == place]
    for kind in kinds:
        assert panel.parts[kind.name][0] == kind.refresh.every


TOY = '''
"""A toy chart: the epochs each trial trained, as bars."""

from automl_nb.panel.chart import Chart
from automl_nb.panel.registry import ChartKind, Refresh, register


def epochs_data(record, options):
    return tuple((t.trial_id, t.epochs) for t in record.trials.values())


class EpochsFigure:
    def __init__(self):
        self.chart = Chart("epochs", [{"type": "bar", "x": [], "y": []}], {}, empty="none yet")

    @property
    def widget(self):
        return self.chart

    def draw(self, data):
        sent = self.chart.push({0: {"x": [t for t, _ in data], "y": [e for _, e in data]}})
        return sent + self.chart.say("" if data else "none yet")

    def close(self):
        self.chart.close()


KIND = register(ChartKind(
    name="epochs",
    place="hyperparameters",
    data=epochs_data,
    renderer=lambda options: EpochsFigure(),
    refresh=Refresh(frozenset({"trial_ended"}), every=1.0),
))
'''


def test_a_new_chart_is_one_module_and_one_registration(tmp_path, monkeypatch, fake, make_panel):
    monkeypatch.setattr(registry, "_CHARTS", dict(registry._CHARTS))
    (tmp_path / "toy_chart.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        toy = importlib.import_module("toy_chart")
        assert chart_kinds()[-1] is toy.KIND
        panel = make_panel(fake)
        grid = panel.sections["hyperparameters"].children[-1]
        assert grid.children[-1] is panel.epochs_chart.widget
        assert panel.epochs_chart.widget.empty == "none yet"
        two_trials(fake)
        panel.flush()
        assert panel.epochs_chart.widget.data[0]["y"] == [4, 4]
        assert panel.epochs_chart.widget.empty == ""
        with pytest.raises(ValueError, match="a new name"):
            registry.register(toy.KIND)
    finally:
        sys.modules.pop("toy_chart", None)
