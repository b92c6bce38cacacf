"""Capacity plans (:mod:`workbench.forecast.capacity`): the sizing arithmetic on known series,
the capacity settings, and the sample's backtest floor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import capacity_config
from conftest import make_project

from workbench.config import load_config
from workbench.errors import ConfigError
from workbench.forecast.backtest import backtest_summary
from workbench.forecast.capacity import backtest_table
from workbench.workflows.capacity import backtest_services, plan_capacity


def flat_with_cycle(level: float, amplitude: float, days: int = 28, slope: float = 0.0) -> pd.Series:
    index = pd.date_range("2026-01-05", periods=days * 24, freq="1h", tz="UTC")
    t = np.arange(len(index))
    return pd.Series(level + amplitude * np.sin(2 * np.pi * t / 24) + slope * t / 24, index=index)


@pytest.fixture()
def config(tmp_path):
    return capacity_config(tmp_path)


def test_sizing_arithmetic_on_a_known_series(config):
    # CPU between 20 % and 40 % of 40 vCPU: the peak uses 16 vCPU; at 80 % target, 20 vCPU.
    series = {("checkout", "cpu_usage"): flat_with_cycle(30, 10)}
    row = plan_capacity(config, series=series).table.iloc[0]
    assert row["peak_units"] == pytest.approx(16, abs=0.1)
    assert row["recommended"] == math.ceil(round(row["peak_units"] / 0.8, 6))
    assert row["action"] == "downsize"
    assert row["monthly_cost_change"] == (row["recommended"] - 40) * 25
    assert row["headroom_pct"] == pytest.approx(60, abs=0.5)
    assert np.isnan(row["days_to_saturation"])


def test_growing_traffic_tells_days_to_saturation(config):
    # 200 req/s rising 5 req/s a day (375 by now) with 10 replicas of 50 req/s (500 req/s).
    series = {("checkout", "request_rate"): flat_with_cycle(200, 20, days=35, slope=5)}
    plan = plan_capacity(config, series=series)
    row = plan.table.iloc[0]
    assert row["growing"] and row["trend_per_day"] == pytest.approx(5, abs=0.5)
    expected = (10 - row["peak_units"]) / (row["trend_per_day"] / 50)
    assert row["days_to_saturation"] == pytest.approx(expected)
    assert 10 < row["days_to_saturation"] < 40
    assert plan.limits()[("checkout", "request_rate")] == 500
    assert "days" in plan.headline()["soonest saturation"]


def test_usage_over_what_is_provisioned_is_saturated_now(config):
    series = {("checkout", "cpu_usage"): flat_with_cycle(95, 8)}
    row = plan_capacity(config, series=series).table.iloc[0]
    assert row["days_to_saturation"] == 0 and row["action"] == "upsize"


def test_services_without_capacity_are_forecast_but_not_sized(config):
    series = {("payments", "cpu_usage"): flat_with_cycle(30, 10)}
    row = plan_capacity(config, series=series).table.iloc[0]
    assert row["action"] == "no capacity configured" and np.isnan(row["recommended"]) and row["forecast_peak"] > 0


def test_capacity_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="request_rate needs per_unit"):
        load_config(make_project(tmp_path / "a", capacity={"services": {"checkout": {"request_rate": {"provisioned": 4, "unit_cost": 1}}}}))
    with pytest.raises(ConfigError, match="unknown services"):
        load_config(make_project(tmp_path / "b", capacity={"services": {"nope": {}}}))
    with pytest.raises(ConfigError, match="capacity.services.checkout.disk"):
        load_config(make_project(tmp_path / "c", capacity={"services": {"checkout": {"disk": {"provisioned": 4, "unit_cost": 1}}}}))


def test_sample_backtest_meets_the_floor(tmp_path, full_sample):
    """On the 60-day sample, the forecast beats both baselines on both horizons (all 18 series)."""
    config = load_config(make_project(tmp_path / "wb", days=60))
    frame = full_sample.metrics
    series = {}
    for (service, metric), rows in frame[frame["metric"].isin(["cpu_usage", "memory_usage", "request_rate"])].groupby(["service", "metric"]):
        series[(str(service), str(metric))] = pd.Series(rows["value"].to_numpy(), index=pd.DatetimeIndex(rows["timestamp"]))
    rows = backtest_services(config, series=series)
    summary = backtest_summary(rows).set_index(["horizon", "method"])["mase"]
    for horizon in ("1 day", "1 week"):
        assert summary[(horizon, "profile")] < summary[(horizon, "median4")] < summary[(horizon, "seasonal_naive")]
    table = backtest_table(rows)
    assert len(table) == 36 and set(table.columns) >= {"series", "horizon", "mase", "seasonal_naive_mase", "median4_mase", "smape"}
