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
from workbench.forecast.capacity import (
    CapacityPlan,
    backtest_reader_table,
    backtest_table,
)
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


def _plan(*rows) -> CapacityPlan:
    """A plan from hand-made rows: (service, resource, unit, action, monthly cost change, days to saturation)."""
    columns = ["service", "resource", "unit", "action", "monthly_cost_change", "days_to_saturation"]
    return CapacityPlan(pd.DataFrame(list(rows), columns=columns), {}, "$", "14D")


NAN = float("nan")


@pytest.mark.parametrize(
    ("rows", "answer"),
    [
        (
            [("auth", "request_rate", "replicas", "upsize", 280.0, 281.0), ("catalog", "memory_usage", "GiB", "downsize", -80.0, 59.0),
             ("checkout", "cpu_usage", "vCPU", "downsize", -3300.0, NAN)],
            "Resizing to the recommendations would save $3,100 a month: 2 resources are over-provisioned and 1 under-provisioned "
            "(auth's replicas); the soonest saturation is catalog's memory in 59 days.",
        ),
        (
            [("auth", "cpu_usage", "vCPU", "upsize", 50.0, 0.0), ("search", "memory_usage", "GiB", "upsize", 70.0, 0.0)],
            "Resizing to the recommendations would cost $120 more a month: none is over-provisioned and 2 are under-provisioned "
            "(auth's CPU and search's memory); auth's CPU and search's memory already reach what is provisioned.",
        ),
        (
            [("auth", "cpu_usage", "vCPU", "downsize", -25.0, 400.0)],
            "Resizing to the recommendations would save $25 a month: 1 resource is over-provisioned and none under-provisioned; "
            "nothing is on course to run out within a year.",
        ),
        (
            [("auth", "cpu_usage", "vCPU", "keep", 0.0, NAN)],
            "Every resource is sized right for the next 14 days; nothing is on course to run out within a year.",
        ),
        (
            [("auth", "cpu_usage", None, "no capacity configured", NAN, NAN)],
            "No resource has a provisioned size configured (capacity.services), so nothing is sized; "
            "the forecasts below still show where usage is heading.",
        ),
    ],
    ids=["save", "cost-more-saturated-now", "one-resource", "right-sized", "nothing-configured"],
)
def test_the_answer_sentence_is_computed_from_the_plan(rows, answer):
    plan = _plan(*rows)
    assert plan.answer() == answer
    headline = plan.headline()
    assert next(iter(headline)) == "answer" and headline["horizon"] == "14 days"
    assert "None" not in answer and "nan" not in answer


def test_headline_names_the_soonest_saturation_and_the_cost_change_is_a_number():
    plan = _plan(("catalog", "memory_usage", "GiB", "downsize", -80.0, 59.4), ("auth", "cpu_usage", "vCPU", "downsize", -20.0, NAN))
    assert plan.headline()["soonest saturation"] == "59 days (catalog's memory)"
    assert plan.cost_change() == -100.0
    assert math.isnan(_plan(("auth", "cpu_usage", None, "no capacity configured", NAN, NAN)).cost_change())


def test_reader_tables_have_plain_columns_and_no_index(config):
    series = {("checkout", "cpu_usage"): flat_with_cycle(30, 10, days=10)}
    plan = plan_capacity(config, series=series)
    table = plan.service_table()
    assert list(table.columns[:2]) == ["service", "resource"] and table["resource"].tolist() == ["CPU"]
    notes = plan.notes_table()
    assert list(notes.columns) == ["service", "resource", "cycles forecast", "notes"] and "daily seasonality only" in notes["notes"][0]
    services, first, last = plan.coverage()
    assert services == ["checkout"] and first == series[("checkout", "cpu_usage")].index[0]
    rows = pd.DataFrame(
        [{"series": "checkout/cpu_usage", "horizon": "1 day", "method": m, "mase": v, "smape": 5.0} for m, v in (("profile", 0.5), ("seasonal_naive", 1.0), ("median4", 0.7))]
    )
    plain = backtest_reader_table(rows)
    assert plain.iloc[0].to_dict() == {
        "service": "checkout", "resource": "CPU", "horizon": "1 day", "forecast error (MASE)": 0.5, "seasonal-naive error (MASE)": 1.0,
        "4-week-median error (MASE)": 0.7, "average error (%)": 5.0, "beats both baselines": "yes", "forecasts checked": 1,
    }  # fmt: skip
