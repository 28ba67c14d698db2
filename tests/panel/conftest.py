"""Panel fixtures: a recording comm for every widget, a fake search, panels closed at teardown."""

from __future__ import annotations

import pytest

from automl_nb.testing.panel import FakeSearch, recording_comms


@pytest.fixture(scope="session", autouse=True)
def _plotly_library():
    """The kernel's one PlotlyLibrary (plotly.js, shared by every chart) is made once, before
    any test counts the comms its panels open."""
    from automl_nb.panel.chart import plotly_library

    with recording_comms():
        plotly_library()


@pytest.fixture
def comms():
    """Every widget made in the test opens a RecordingComm; the log lists them all."""
    with recording_comms() as log:
        yield log


@pytest.fixture
def fake(tmp_path):
    return FakeSearch(directory=tmp_path)


@pytest.fixture
def make_panel(comms):
    """Factory: ``make_panel(search, **kwargs)`` (no flusher thread unless asked); closed after."""
    from automl_nb.panel import Panel

    made = []

    def make(search, **kwargs):
        kwargs.setdefault("autostart", False)
        panel = Panel(search, **kwargs)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()
