"""The capacity workflow (:mod:`workbench.workflows.capacity`): usage and holidays loaded from a
project, plans and backtests over them, and ``workbench forecast``.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from builders import capacity_config

from workbench.cli import main
from workbench.errors import ForecastError
from workbench.workflows.capacity import backtest_services, plan_capacity, usage_series


@pytest.fixture()
def config(tmp_path):
    return capacity_config(tmp_path)


def test_sample_plan_covers_every_service_and_resource(sample_config):
    plan = plan_capacity(sample_config)
    assert len(plan.table) == len(sample_config.services) * 3
    assert set(plan.table["seasonality"]) == {"daily and weekly"}  # the project sample has 14 days
    table = plan.service_table()
    assert list(table.columns)[:4] == ["service", "resource", "provisioned", "recommended"] and "days to saturation" in table.columns
    assert isinstance(table.index, pd.RangeIndex) and set(table["resource"]) == {"CPU", "memory", "traffic"}
    headline = plan.headline()
    assert re.fullmatch(r"[+-]?\$[0-9,]+", headline["monthly cost change"])
    assert headline["answer"].startswith("Resizing to the recommendations would ") and headline["horizon"] == "14 days"


def test_too_short_history_is_a_clear_error(sample_config):
    series = usage_series(sample_config, services=["checkout"], start="2026-09-01", end="2026-09-02T12:00")
    with pytest.raises(ForecastError, match="too short for any seasonality"):
        plan_capacity(sample_config, series=series)
    with pytest.raises(ForecastError, match="too short to backtest"):
        backtest_services(sample_config, series=series)


def test_cli_forecast_json(sample_project, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG", str(sample_project))
    assert main(["forecast", "--json", "--services", "checkout"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["resource"]: r for r in out["plan"]}
    assert set(rows) == {"cpu_usage", "memory_usage", "request_rate"}
    for row in rows.values():
        assert {"action", "recommended", "monthly_cost_change", "days_to_saturation"} <= set(row)
    assert main(["forecast", "--backtest", "--json", "--services", "checkout"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert {r["horizon"] for r in table} == {"1 day", "1 week"} or {r["horizon"] for r in table} == {"1 day"}
    assert all({"series", "mase", "seasonal_naive_mase", "median4_mase", "smape"} <= set(r) for r in table)


def test_cli_forecast_text_ends_with_the_answer(sample_project, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG", str(sample_project))
    assert main(["forecast", "--services", "checkout"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith(("Resizing to the recommendations", "Every resource is sized right", "No resource")), lines[-1]
    assert lines[-1].endswith(".") and "answer:" not in "\n".join(lines)
    assert lines[-2].startswith("monthly cost change:")


def test_holidays_come_from_the_events_calendar(config):
    from workbench.workflows.capacity import holiday_dates

    events = config.path("events")
    events.parent.mkdir(parents=True, exist_ok=True)
    events.write_text(
        "start,end,service,type,description\n"
        "2026-12-24T00:00:00Z,2026-12-27T00:00:00Z,*,holiday,Christmas\n"
        "2026-12-01T10:00:00Z,2026-12-01T10:05:00Z,checkout,deploy,release\n"
        "2026-11-26T00:00:00Z,2026-11-27T00:00:00Z,payments,holiday,payments only\n"
    )
    found = holiday_dates(config)
    assert [str(d) for d in found["checkout"]] == ["2026-12-24", "2026-12-25", "2026-12-26"]
    assert [str(d) for d in found["payments"]] == ["2026-11-26", "2026-12-24", "2026-12-25", "2026-12-26"]


def test_a_resource_without_data_is_named_as_left_out_of_the_plan(sample_config, monkeypatch):
    import workbench.workflows.capacity as capacity
    from workbench.errors import DataWarning

    real = capacity.load_metrics
    monkeypatch.setattr(capacity, "load_metrics", lambda *a, **k: (f := real(*a, **k))[~((f["service"] == "checkout") & (f["metric"] == "memory_usage"))])
    with pytest.warns(DataWarning, match="no data for checkout memory_usage: left out of the capacity plan"):
        series = usage_series(sample_config, services=["checkout", "search"])
    assert ("checkout", "memory_usage") not in series and ("search", "memory_usage") in series
