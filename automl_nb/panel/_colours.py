"""The panel's colours, one place for each: the best trial, running trials, statuses, scores.

The same values are in the front end's CSS (``widgets/*.css``, ``--amnb-best``); a test
checks they agree. Each reads on light and dark pages alike.
"""

from __future__ import annotations

from ..status import TrialStatus

#: How the best trial is drawn in every chart, the table and the best-model row.
BEST = {"color": "#f0a500", "symbol": "star", "outline": "#7a5300"}
#: Trials still training (several with workers), in the order they started.
RUNNING = ("#1f77b4", "#17becf", "#9467bd", "#e377c2")
#: Finished trials that are not the best: there, but quiet.
MUTED = "#8c8c8c"
STATUS_COLOURS = {
    TrialStatus.COMPLETED: "#2ca02c",
    TrialStatus.PRUNED: "#ff7f0e",
    TrialStatus.STOPPED: "#8c6d31",
    TrialStatus.FAILED: "#d62728",
    TrialStatus.RUNNING: RUNNING[0],
}
#: Scores from worst to best.
SCORE_COLOURS = ((0.0, "#8da0cb"), (0.5, "#4f8fbf"), (1.0, "#1b9e77"))
