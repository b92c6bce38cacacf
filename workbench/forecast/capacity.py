"""Capacity plans from forecasts: headroom, right-sizing, monthly cost, days to saturation.

For each service and resource (CPU, memory, request rate) the forecast's upper band over
the horizon is turned into units of what is provisioned (vCPU, GiB, replicas). The
recommended size keeps that peak under ``capacity.target_utilisation`` percent; the
monthly cost change is what moving to it saves or costs. Where usage trends up (the
trend's confidence interval lies above zero), ``days_to_saturation`` is when the peak,
growing at that trend, reaches what is provisioned; 0 means the band already reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.contracts import CapacityAction
from workbench.errors import ForecastError
from workbench.forecast.backtest import backtest
from workbench.forecast.history import prepare_series
from workbench.forecast.methods import BASELINES
from workbench.forecast.outlook import Forecast, forecast_series
from workbench.settings import CapacitySettings, ResourceCapacity

__all__ = ["CapacityPlan", "backtest_series", "backtest_table", "plan_from_series"]


def _money(value: float, currency: str) -> str:
    sign = "-" if value < 0 else "+" if value > 0 else ""
    return f"{sign}{currency}{abs(value):,.0f}"


def _to_units(values: np.ndarray | float, resource: str, cap: ResourceCapacity):
    if resource == "request_rate":
        return np.asarray(values) / cap.per_unit
    return np.asarray(values) / 100.0 * cap.provisioned


@dataclass
class CapacityPlan:
    """The plan: one row per service and resource (``table``) and the forecasts behind it."""

    table: pd.DataFrame
    forecasts: dict[tuple[str, str], Forecast]
    currency: str
    horizon: str

    def headline(self) -> dict:
        """The figures a reader wants first."""
        costed = self.table.dropna(subset=["monthly_cost_change"])
        saturating = self.table["days_to_saturation"].dropna()
        return {
            "monthly cost change": _money(costed["monthly_cost_change"].sum(), self.currency),
            "over-provisioned": int((self.table["action"] == CapacityAction.DOWNSIZE).sum()),
            "under-provisioned": int((self.table["action"] == CapacityAction.UPSIZE).sum()),
            "soonest saturation": (f"{saturating.min():.0f} days" if saturating.min() <= 365 else "over a year") if len(saturating) else "none trending up",
            "horizon": self.horizon,
        }

    def limits(self) -> dict[tuple[str, str], float]:
        """What is provisioned, in the metric's own unit (100 % for CPU and memory, req/s for traffic)."""
        out = {}
        for _, row in self.table.dropna(subset=["provisioned"]).iterrows():
            if row["resource"] == "request_rate":
                out[(row["service"], row["resource"])] = row["provisioned"] * row["per_unit"]
            else:
                out[(row["service"], row["resource"])] = 100.0
        return out

    def service_table(self) -> pd.DataFrame:
        """The reader's table: per service and resource, provisioned, recommended, cost change, days to saturation."""
        t = self.table.dropna(subset=["provisioned"])

        def size(value, unit):
            return f"{value:,.0f} {unit}" if value == round(value) else f"{value:,.1f} {unit}"

        return pd.DataFrame(
            {
                "service": t["service"],
                "resource": t["resource"].str.replace("_", " "),
                "provisioned": [size(v, u) for v, u in zip(t["provisioned"], t["unit"])],
                "recommended": [size(v, u) for v, u in zip(t["recommended"], t["unit"])],
                "peak use (upper band)": [f"{p:,.1f} {u} ({100 - h:.0f} %)" for p, u, h in zip(t["peak_units"], t["unit"], t["headroom_pct"])],
                f"monthly cost change ({self.currency})": [f"{v:+,.0f}" for v in t["monthly_cost_change"]],
                # Beyond a year a straight-line trend says little; do not print false precision.
                "days to saturation": ["—" if pd.isna(d) else "over a year" if d > 365 else f"{d:,.0f}" for d in t["days_to_saturation"]],
            }
        ).set_index(["service", "resource"])

    def records(self) -> list[dict]:
        """JSON-ready rows (NaN becomes None)."""
        clean = self.table.astype(object).where(self.table.notna(), None)
        return clean.to_dict(orient="records")


def _row(service: str, resource: str, fc: Forecast, cap: ResourceCapacity | None, target: float) -> dict:
    row = {
        "service": service,
        "resource": resource,
        "method": fc.method,
        "seasonality": fc.seasonality,
        "forecast_peak": float(fc.frame["yhat"].max()),
        "upper_peak": float(fc.frame["upper"].max()),
        "trend_per_day": fc.trend_per_day,
        "growing": fc.growing,
        "notes": "; ".join(fc.notes),
        "unit": None,
        "per_unit": np.nan,
        "provisioned": np.nan,
        "peak_units": np.nan,
        "headroom_pct": np.nan,
        "recommended": np.nan,
        "action": CapacityAction.UNCONFIGURED,
        "monthly_cost_change": np.nan,
        "days_to_saturation": np.nan,
    }
    if cap is None:
        return row
    peak = float(_to_units(fc.frame["upper"].max(), resource, cap))
    needed = peak / (target / 100.0)
    recommended = max(cap.granularity, math.ceil(needed / cap.granularity - 1e-9) * cap.granularity)
    action = CapacityAction.DOWNSIZE if recommended < cap.provisioned else CapacityAction.UPSIZE if recommended > cap.provisioned else CapacityAction.KEEP
    days = np.nan
    if peak >= cap.provisioned:
        days = 0.0
    elif fc.growing:
        slope = float(_to_units(fc.trend_per_day, resource, cap))
        days = (cap.provisioned - peak) / slope
    row.update(
        unit=cap.unit,
        per_unit=cap.per_unit if cap.per_unit is not None else np.nan,
        provisioned=cap.provisioned,
        peak_units=peak,
        headroom_pct=100.0 * (1 - peak / cap.provisioned),
        recommended=float(recommended),
        action=action,
        monthly_cost_change=(recommended - cap.provisioned) * cap.unit_cost,
        days_to_saturation=days,
    )
    return row


def plan_from_series(settings: CapacitySettings, series: dict, holidays: dict[str, list] | None = None) -> CapacityPlan:
    """Forecast each ``(service, resource)`` usage series and size it.

    Parameters
    ----------
    settings
        ``capacity`` settings and, per service, what is provisioned.
    series
        ``(service, resource) -> Series`` of usage (see
        :func:`workbench.workflows.capacity.usage_series`).
    holidays
        Per service, the holiday dates to leave out and forecast like Sundays.

    Raises
    ------
    ForecastError
        A series too short for any seasonality (the message names it).
    """
    holidays = holidays or {}
    rows, forecasts = [], {}
    for (service, resource), values in series.items():
        fc = forecast_series(values, settings.horizon, settings.method, settings.interval, settings.resolution, holidays.get(service, []))
        forecasts[(service, resource)] = fc
        cap = settings.services.get(service, {}).get(resource)
        rows.append(_row(service, resource, fc, cap, settings.target_utilisation))
    return CapacityPlan(pd.DataFrame(rows), forecasts, settings.currency, settings.horizon)


def backtest_series(settings: CapacitySettings, series: dict, methods: tuple[str, ...] | None = None, holidays: dict[str, list] | None = None) -> pd.DataFrame:
    """Rolling-origin backtest rows for every ``(service, resource)`` series (see :func:`workbench.forecast.backtest.backtest`)."""
    methods = methods or tuple(dict.fromkeys((settings.method, *BASELINES)))
    holidays = holidays or {}
    parts = []
    for (service, resource), values in series.items():
        clean, _ = prepare_series(values, settings.resolution)
        span = clean.index[-1] - clean.index[0]
        # A series shorter than the usual first origin plus a day starts earlier (at least
        # two days in); the rows say from how much history ("initial").
        initial = min(pd.Timedelta(settings.backtest_initial), span - pd.Timedelta("1D"))
        if initial < pd.Timedelta("2D"):
            raise ForecastError(f"{service}/{resource}: {span} of history is too short to backtest; need 3 days")
        rows = backtest(clean, initial=str(initial), every=settings.backtest_every, methods=methods, holidays=holidays.get(service, []))
        parts.append(rows.assign(series=f"{service}/{resource}", initial=str(initial)))
    return pd.concat(parts, ignore_index=True)


def backtest_table(rows: pd.DataFrame, method: str = "profile") -> pd.DataFrame:
    """Per series and horizon: ``mase``, ``seasonal_naive_mase``, ``median4_mase``, ``smape``, origins."""
    mean = rows.groupby(["series", "horizon", "method"], sort=False)[["mase", "smape"]].mean()
    wide = mean["mase"].unstack("method")
    out = pd.DataFrame(
        {
            "mase": wide[method],
            **{f"{baseline}_mase": wide[baseline] for baseline in BASELINES},
            "smape": mean["smape"].unstack("method")[method],
            "origins": rows[rows["method"] == method].groupby(["series", "horizon"], sort=False).size(),
        }
    )
    return out.reset_index()
