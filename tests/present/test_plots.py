import matplotlib

matplotlib.use("Agg")  # tests only; notebooks keep the inline backend

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from workbench.contracts import ALERT_COLUMNS
from workbench.features.windows import to_windows
from workbench.forecast.backtest import backtest_summary
from workbench.forecast.outlook import Forecast
from workbench.labels.incidents import in_range, read_events, read_incidents
from workbench.present import plots
from workbench.present.plots import (
    alerts_timeline,
    backtest_chart,
    correlation_heatmap,
    forecast_panel,
    hour_weekday_heatmaps,
    metrics_timeline,
    score_histogram,
    shap_bars,
)
from workbench.sources import load_service


@pytest.fixture()
def week():
    index = pd.date_range("2026-01-05", periods=7 * 96, freq="15min", tz="UTC")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"request_rate": rng.random(len(index)), "cpu_usage": rng.random(len(index)), "latency_p99": rng.random(len(index))}, index=index)


@pytest.fixture(autouse=True)
def _writes_nothing(tmp_path, monkeypatch):
    """Every builder runs in an empty folder that must stay empty; figures are closed after."""
    monkeypatch.chdir(tmp_path)
    yield
    plt.close("all")
    assert list(tmp_path.iterdir()) == [], "a figure builder wrote a file"


def legend_labels(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_every_builder_is_covered():
    tested = {
        "metrics_timeline", "hour_weekday_heatmaps", "correlation_heatmap", "alerts_timeline", "score_histogram", "shap_bars",
        "forecast_panel", "backtest_chart", "drift_timeline", "improvement_intervals",
    }  # fmt: skip
    assert set(plots.__all__) == tested


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


# -- metrics_timeline ----------------------------------------------------------------------


def test_metrics_timeline_shades_and_lines(week):
    idx = week.index
    incidents = pd.DataFrame({"start": [idx[10], idx[100]], "end": [idx[20], idx[110]]})
    events = pd.DataFrame(
        {
            "start": [idx[30], idx[40], idx[50], idx[60]],
            "end": [idx[35], idx[41], idx[55], idx[61]],
            "type": ["campaign", "deploy", "maintenance", "unknown kind"],
        }
    )
    fig = metrics_timeline(week, incidents, events, title="checkout, one week")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig._suptitle.get_text() == "checkout, one week"
    assert [ax.get_ylabel() for ax in fig.axes] == ["request rate\n(req/s)", "cpu usage\n(%)", "latency p99\n(ms)"]
    for ax, metric in zip(fig.axes, week.columns):
        assert len(ax.patches) == 2 + 2  # two incidents, one campaign, one maintenance; unknown types skipped
        assert len(ax.lines) == 1 + 1  # the metric and one deploy
        assert np.allclose(ax.lines[0].get_ydata(), week[metric].to_numpy())
        assert ax.lines[1].get_linestyle() == ":"
    assert legend_labels(fig.axes[0]) == ["incident", "campaign", "maintenance", "deploy"]
    assert all(ax.get_legend() is None for ax in fig.axes[1:])


def test_metrics_timeline_plots_each_metric(week):
    fig = metrics_timeline(week[["cpu_usage"]])
    (ax,) = fig.axes
    assert np.allclose(ax.lines[0].get_ydata(), week["cpu_usage"].to_numpy())
    assert fig._suptitle is None  # no title asked for


def test_metrics_timeline_on_the_sample(sample_config):
    samples = load_service(sample_config, "payments")
    windows = to_windows(samples, sample_config.window, sample_config.max_fill)
    start, end = windows.index[0], windows.index[-1]
    incidents = in_range(read_incidents(sample_config.path("incidents")), "payments", start, end)
    events = in_range(read_events(sample_config.path("events")), "payments", start, end)
    assert len(incidents) > 0 and len(events) > 0  # something to shade
    fig = metrics_timeline(windows, incidents, events)
    assert len(fig.axes) == windows.shape[1] == 6
    shaded = len(incidents) + int(events["type"].isin(["incident", "campaign", "maintenance"]).sum())
    deploys = int((events["type"] == "deploy").sum())
    assert all(len(ax.patches) == shaded and len(ax.lines) == 1 + deploys for ax in fig.axes)


# -- hour_weekday_heatmaps ------------------------------------------------------------------


@pytest.mark.parametrize("columns, rows", [(["request_rate"], 1), (["request_rate", "cpu_usage"], 1), (["request_rate", "cpu_usage", "latency_p99"], 2)])
def test_hour_weekday_heatmaps_grid(week, columns, rows):
    fig = hour_weekday_heatmaps(week[columns])
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == rows * 2
    visible = [ax for ax in grid if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [c.replace("_", " ") for c in columns]
    assert len([ax for ax in fig.axes if ax.get_label() == "<colorbar>"]) == len(columns)


def test_hour_weekday_heatmap_values(week):
    fig = hour_weekday_heatmaps(week[["cpu_usage"]])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert ax.get_xlabel() == "hour of day (UTC)"
    values = np.asarray(ax.collections[0].get_array()).reshape(7, 24)
    cpu = week["cpu_usage"]
    monday_3am = cpu[(cpu.index.day_of_week == 0) & (cpu.index.hour == 3)].mean()
    sunday_23 = cpu[(cpu.index.day_of_week == 6) & (cpu.index.hour == 23)].mean()
    assert values[0, 3] == pytest.approx(monday_3am) and values[6, 23] == pytest.approx(sunday_23)


# -- correlation_heatmap ----------------------------------------------------------------------


def test_correlation_heatmap_annotates_spearman(week):
    frame = week.assign(cpu_usage=week["request_rate"] ** 3, latency_p99=-week["request_rate"])
    fig = correlation_heatmap(frame)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    assert ax.get_title() == "Spearman correlation of windowed metrics"
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9
    # A monotone transform correlates perfectly by rank; a negation perfectly negatively.
    assert texts == ["1.00", "1.00", "-1.00", "1.00", "1.00", "-1.00", "-1.00", "-1.00", "1.00"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(frame.columns)


# -- alerts_timeline ----------------------------------------------------------------------------


def alerts_frame(starts, width="30min", service="checkout") -> pd.DataFrame:
    rows = [
        {c: None for c in ALERT_COLUMNS} | {"id": f"A{k}", "service": service, "start": s, "end": s + pd.Timedelta(width), "source": "model"}
        for k, s in enumerate(starts)
    ]
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


@pytest.fixture()
def alerts(week):
    idx = week.index
    return {
        "baseline": alerts_frame([idx[5], idx[50], idx[200], idx[400]]),
        "model": alerts_frame([idx[12]]),
        "hybrid": alerts_frame([idx[12], idx[300]]),
    }


def test_alerts_timeline_lanes(week, alerts):
    incidents = pd.DataFrame({"start": [week.index[10]], "end": [week.index[20]]})
    fig = alerts_timeline(week, alerts, incidents, title="alerts")
    assert len(fig.axes) == 3 + 1
    lane = fig.axes[-1]
    assert [t.get_text() for t in lane.get_yticklabels()] == ["baseline (4)", "model (1)", "hybrid (2)"]
    assert len(lane.patches) == 4 + 1 + 2
    colours = {tuple(p.get_facecolor()) for p in lane.patches}
    assert len(colours) == 3  # one colour per system
    assert all(len(ax.patches) == 1 for ax in fig.axes[:-1])  # the incident, shaded on each metric
    assert fig._suptitle.get_text() == "alerts"


def test_alerts_timeline_chosen_metrics_and_empty_lanes(week, alerts):
    empty = {"baseline": alerts["baseline"], "model": alerts_frame([])}
    fig = alerts_timeline(week, empty, pd.DataFrame(columns=["start", "end"]), metrics=["latency_p99"])
    assert len(fig.axes) == 2
    assert fig.axes[0].get_ylabel() == "latency p99\n(ms)"
    assert [t.get_text() for t in fig.axes[-1].get_yticklabels()] == ["baseline (4)", "model (0)"]
    assert len(fig.axes[-1].patches) == 4
    assert fig._suptitle is None


# -- score_histogram ------------------------------------------------------------------------------


def test_score_histogram():
    rng = np.random.default_rng(0)
    training, scored = rng.normal(-0.5, 0.3, 500), rng.normal(-0.6, 0.4, 200)
    fig = score_histogram(training, scored, offset=-2.5)
    (ax,) = fig.axes
    assert legend_labels(ax) == ["training windows (incidents removed)", "scored windows", "alarm threshold (offset_)"]
    assert ax.get_yscale() == "log"
    assert ax.lines[0].get_xdata()[0] == -2.5
    low, high = ax.get_xlim()
    assert low < -2.5 and high > max(training.max(), scored.max())  # the threshold is in view


# -- shap_bars -----------------------------------------------------------------------------------


def test_shap_bars_orders_by_push():
    names = ["error_rate_z", "cpu_excess_z", "latency_p99_z"]
    values = np.array([[-2.0, 0.5, -0.5], [-4.0, 0.1, -0.1]])  # mean push: 3.0, 0.0, 0.3
    fig = shap_bars(values, names, title="checkout")
    (ax,) = fig.axes
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cpu_excess_z", "latency_p99_z", "error_rate_z"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.0, 0.3, 3.0])
    assert ax.get_title() == "checkout"


@pytest.mark.parametrize("values, names", [(np.empty((0, 3)), ["a", "b", "c"]), (np.empty((0, 0)), [])])
def test_shap_bars_without_alerts(values, names):
    fig = shap_bars(values, names)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["no model alerts to explain"]
    assert not ax.axison and len(ax.patches) == 0


# -- forecast_panel --------------------------------------------------------------------------------


def forecast(name: str, seasonality: str = "daily and weekly", level: float = 40.0) -> Forecast:
    history_index = pd.date_range("2026-01-05", periods=21 * 24, freq="1h", tz="UTC")
    future = pd.date_range(history_index[-1] + pd.Timedelta("1h"), periods=7 * 24, freq="1h", tz="UTC")
    history = pd.Series(level + np.sin(np.arange(len(history_index)) / 4), index=history_index, name=name)
    yhat = np.full(len(future), level)
    frame = pd.DataFrame({"yhat": yhat, "lower": yhat - 3, "upper": yhat + 3}, index=future)
    return Forecast(name, history, frame, "profile", seasonality, 0.9, 0.0, -0.1, 0.1)


@pytest.fixture()
def forecasts():
    return {
        ("checkout", "cpu_usage"): forecast("checkout cpu"),
        ("checkout", "memory_usage"): forecast("checkout memory", "daily only"),
        ("auth", "cpu_usage"): forecast("auth cpu"),
        ("auth", "memory_usage"): forecast("auth memory"),
        ("auth", "request_rate"): forecast("auth traffic", level=300.0),
    }


def test_forecast_panel_grid_and_titles(forecasts):
    fig = forecast_panel(forecasts, provisioned={("auth", "request_rate"): 500.0})
    assert len(fig.axes) == 2 * 3  # services auth, checkout x resources cpu, memory, request_rate
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "auth: cpu usage",
        "auth: memory usage",
        "auth: request rate",
        "checkout: cpu usage",
        "checkout: memory usage (daily only)",
        "",  # no checkout request_rate forecast: an empty panel
    ]
    # The legend sits in the first row's last panel, which has the provisioned line.
    assert legend_labels(fig.axes[2]) == ["observed", "forecast", "90% band", "provisioned"]
    assert sum(ax.get_legend() is not None for ax in fig.axes) == 1
    assert fig.axes[2].lines[-1].get_ydata()[0] == 500.0
    observed = fig.axes[0].lines[0]
    assert len(observed.get_xdata()) == 14 * 24  # the default 14 days of history
    assert fig.axes[0].get_ylabel() == "%" and fig.axes[2].get_ylabel() == "req/s"


def test_forecast_panel_chosen_services_and_history(forecasts):
    fig = forecast_panel(forecasts, services=["checkout"], history="2D")
    assert [ax.get_title() for ax in fig.axes] == ["checkout: cpu usage", "checkout: memory usage (daily only)"]
    assert legend_labels(fig.axes[1]) == ["observed", "forecast", "90% band"]
    assert len(fig.axes[0].lines[0].get_xdata()) == 2 * 24


# -- backtest_chart ---------------------------------------------------------------------------------


@pytest.fixture()
def summary():
    rows = []
    for origin in range(3):
        for horizon, scale in (("1 day", 1.0), ("1 week", 2.0)):
            for method, factor in (("profile", 0.8), ("seasonal_naive", 1.0), ("median4", 0.9)):
                rows.append({"origin": origin, "horizon": horizon, "method": method, "mase": scale * factor, "smape": 10.0})
    return backtest_summary(pd.DataFrame(rows))


def test_backtest_chart_bars_and_legend(summary):
    fig = backtest_chart(summary)
    (ax,) = fig.axes
    # The legend in words, not the methods' internal names.
    assert legend_labels(ax) == ["forecast used", "same slot last week", "median of the last 4 weeks"]
    assert len(ax.containers) == 3 and all(len(c) == 2 for c in ax.containers)
    heights = {label: [b.get_height() for b in c] for label, c in zip(legend_labels(ax), ax.containers)}
    assert heights == {
        "forecast used": pytest.approx([0.8, 0.8]),
        "same slot last week": pytest.approx([1.0, 1.0]),
        "median of the last 4 weeks": pytest.approx([0.9, 0.9]),
    }
    assert sorted(t.get_text() for t in ax.texts) == sorted(["0.80", "0.80", "1.00", "1.00", "0.90", "0.90"])
    assert ax.get_title() == "Backtest: error relative to last week's same slot (lower is better)"
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in ax.lines)  # the seasonal-naive reference


def test_backtest_chart_title_and_two_methods(summary):
    two = summary[summary["method"] != "median4"]
    fig = backtest_chart(two, title="checkout cpu")
    (ax,) = fig.axes
    assert ax.get_title() == "checkout cpu"
    assert legend_labels(ax) == ["forecast used", "same slot last week"] and len(ax.containers) == 2


def test_drift_timeline_draws_a_dot_per_check_and_the_known_changes():
    from workbench.present.plots import drift_timeline

    at = pd.date_range("2026-10-01", periods=4, freq="1D", tz="UTC")
    drift = pd.DataFrame({"service": ["a", "a", "b", "b"], "at": at, "status": ["ok", "act", "warn", "unknown"], "worst PSI": [0.1, 3.0, None, 0.2]})
    changes = pd.DataFrame({"service": ["a"], "at": [at[1]]})
    fig = drift_timeline(drift, changes)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 4
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"ok", "warn", "act", "unknown", "known change"}
    assert drift_timeline(drift.iloc[:0]).axes[0].texts[0].get_text() == "no drift check yet"


def test_improvement_intervals_draws_estimate_and_interval_per_comparison():
    from workbench.present.plots import improvement_intervals

    table = pd.DataFrame({
        "service": ["a", "b", "c"], "as of": ["2026-10-10"] * 3, "verdict": ["promote", "keep", "not enough evidence"],
        "improvement": [0.4, -0.1, None], "90 % interval from": [0.2, None, None], "90 % interval to": [0.6, 0.05, None],
    })  # fmt: skip
    fig = improvement_intervals(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a 2026-10-10", "b 2026-10-10"]  # no estimate, no row
    assert ax.lines[0].get_xdata().tolist() == [20.0, 60.0] and ax.lines[1].get_xdata().tolist() == [-200.0, 5.0]
    assert "first model" in improvement_intervals(table.iloc[:0]).axes[0].texts[0].get_text()
