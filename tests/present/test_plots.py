import matplotlib

matplotlib.use("Agg")  # tests only; notebooks keep the inline backend

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from workbench.present.plots import (
    correlation_heatmap,
    hour_weekday_heatmaps,
    metrics_timeline,
)


@pytest.fixture()
def week():
    index = pd.date_range("2026-01-05", periods=7 * 96, freq="15min", tz="UTC")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"request_rate": rng.random(len(index)), "cpu_usage": rng.random(len(index)), "latency_p99": rng.random(len(index))}, index=index)


def test_figures_are_returned_and_nothing_is_written(week, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    incidents = pd.DataFrame({"start": [week.index[10]], "end": [week.index[20]]})
    events = pd.DataFrame({"start": [week.index[30], week.index[40]], "end": [week.index[35], week.index[41]], "type": ["campaign", "deploy"]})
    figures = [metrics_timeline(week, incidents, events, title="t"), hour_weekday_heatmaps(week), correlation_heatmap(week)]
    assert all(isinstance(f, Figure) for f in figures)
    assert len(figures[0].axes) == 3
    assert len([a for a in figures[1].axes if a.get_visible() and a.get_title()]) == 3
    assert list(tmp_path.iterdir()) == []


def test_timeline_without_labels(week):
    assert len(metrics_timeline(week).axes) == 3
