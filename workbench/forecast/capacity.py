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

__all__ = ["RESOURCE_WORDS", "CapacityPlan", "backtest_reader_table", "backtest_series", "backtest_table", "plan_from_series"]

#: The resources in a reader's words.
RESOURCE_WORDS = {"cpu_usage": "CPU", "memory_usage": "memory", "request_rate": "traffic"}


def _money(value: float, currency: str) -> str:
    sign = "-" if value < 0 else "+" if value > 0 else ""
    return f"{sign}{currency}{abs(value):,.0f}"


def _resource(resource: str) -> str:
    return RESOURCE_WORDS.get(resource, str(resource).replace("_", " "))


def _whose(service: str, resource: str, unit) -> str:
    """"auth's replicas", "catalog's memory": one sized resource in a sentence."""
    noun = unit if resource == "request_rate" and isinstance(unit, str) and unit else _resource(resource)
    return f"{service}'s {noun}"


def _and(items: list[str], most: int = 3) -> str:
    """"a", "a and b", "a, b and c", "a, b, c and 2 more"."""
    if len(items) > most:
        return f"{', '.join(items[:most])} and {len(items) - most} more"
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _span_words(span: str) -> str:
    """A duration setting in words: "14D" is "14 days", "36h" "36 hours"."""
    delta = pd.Timedelta(span)
    for unit, size in (("day", pd.Timedelta("1D")), ("hour", pd.Timedelta("1h")), ("minute", pd.Timedelta("1min"))):
        if delta % size == pd.Timedelta(0):
            n = int(delta / size)
            return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
    return str(delta)


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
    #: The forecasting method the plan used (the backtest's "forecast").
    method: str = "profile"

    def headline(self) -> dict:
        """The figures a reader wants first, led by the :meth:`answer` sentence."""
        costed = self.table.dropna(subset=["monthly_cost_change"])
        soonest = self._soonest()
        return {
            "answer": self.answer(),
            "monthly cost change": _money(costed["monthly_cost_change"].sum(), self.currency),
            "over-provisioned": int((self.table["action"] == CapacityAction.DOWNSIZE).sum()),
            "under-provisioned": int((self.table["action"] == CapacityAction.UPSIZE).sum()),
            "soonest saturation": f"{soonest[0]:.0f} days ({soonest[1]})" if soonest else "none within a year",
            "horizon": _span_words(self.horizon),
        }

    def _soonest(self) -> tuple[float, str] | None:
        """Days to the soonest saturation within a year and what saturates, or None."""
        rows = self.table.dropna(subset=["days_to_saturation"])
        rows = rows[rows["days_to_saturation"] <= 365]
        if rows.empty:
            return None
        days = float(rows["days_to_saturation"].min())
        first = rows[rows["days_to_saturation"] == days]
        return days, _and([_whose(r.service, r.resource, r.unit) for r in first.itertuples()])

    def answer(self) -> str:
        """The plan in one plain sentence: what resizing saves or costs, what is over- and
        under-provisioned, and the soonest saturation.

        E.g. "Resizing to the recommendations would save $3,100 a month: 17 resources are
        over-provisioned and 1 under-provisioned (auth's replicas); the soonest saturation
        is catalog's memory in 59 days."
        """
        sized = self.table.dropna(subset=["monthly_cost_change"])
        if sized.empty:
            return ("No resource has a provisioned size configured (capacity.services), so nothing is sized; "
                    "the forecasts below still show where usage is heading.")  # fmt: skip
        change = float(sized["monthly_cost_change"].sum())
        over = sized[sized["action"] == CapacityAction.DOWNSIZE]
        under = sized[sized["action"] == CapacityAction.UPSIZE]
        if change < 0:
            lead = f"Resizing to the recommendations would save {self.currency}{-change:,.0f} a month"
        elif change > 0:
            lead = f"Resizing to the recommendations would cost {self.currency}{change:,.0f} more a month"
        elif len(over) or len(under):
            lead = "Resizing to the recommendations would not change the monthly cost"
        else:
            lead = f"Every resource is sized right for the next {_span_words(self.horizon)}"
        names = _and([_whose(r.service, r.resource, r.unit) for r in under.itertuples()])
        if len(over) and len(under):
            sizing = f"{len(over)} {'resource is' if len(over) == 1 else 'resources are'} over-provisioned and {len(under)} under-provisioned ({names})"
        elif len(over):
            sizing = f"{len(over)} {'resource is' if len(over) == 1 else 'resources are'} over-provisioned and none under-provisioned"
        elif len(under):
            sizing = f"none is over-provisioned and {len(under)} {'is' if len(under) == 1 else 'are'} under-provisioned ({names})"
        else:
            sizing = ""
        soonest = self._soonest()
        if soonest is None:
            saturation = "nothing is on course to run out within a year"
        elif soonest[0] == 0:
            saturation = f"{soonest[1]} already {'reaches' if ' and ' not in soonest[1] else 'reach'} what is provisioned"
        else:
            saturation = f"the soonest saturation is {soonest[1]} in {soonest[0]:.0f} {'day' if round(soonest[0]) == 1 else 'days'}"
        return f"{lead}: {sizing}; {saturation}." if sizing else f"{lead}; {saturation}."

    def cost_change(self) -> float:
        """The monthly cost change of moving every sized resource to its recommendation (NaN: nothing sized)."""
        costed = self.table["monthly_cost_change"].dropna()
        return float(costed.sum()) if len(costed) else float("nan")

    def coverage(self) -> tuple[list[str], pd.Timestamp | None, pd.Timestamp | None]:
        """The services planned, and the first and last time of the history the forecasts used."""
        services = list(dict.fromkeys(self.table["service"])) if len(self.table) else []
        histories = [fc.history for fc in self.forecasts.values() if len(fc.history)]
        if not histories:
            return services, None, None
        return services, min(h.index[0] for h in histories), max(h.index[-1] for h in histories)

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
                "resource": t["resource"].map(_resource),
                "provisioned": [size(v, u) for v, u in zip(t["provisioned"], t["unit"])],
                "recommended": [size(v, u) for v, u in zip(t["recommended"], t["unit"])],
                "peak use (upper band)": [f"{p:,.1f} {u} ({100 - h:.0f} %)" for p, u, h in zip(t["peak_units"], t["unit"], t["headroom_pct"])],
                f"monthly cost change ({self.currency})": [f"{v:+,.0f}" if round(v) else "0" for v in t["monthly_cost_change"]],
                # Beyond a year a straight-line trend says little; do not print false precision.
                "days to saturation": ["—" if pd.isna(d) else "over a year" if d > 365 else f"{d:,.0f}" for d in t["days_to_saturation"]],
            }
        ).reset_index(drop=True)

    def notes_table(self) -> pd.DataFrame:
        """The series whose forecast comes with a note (daily cycle only, gaps filled, values clipped)."""
        t = self.table[self.table["notes"] != ""]
        return pd.DataFrame(
            {"service": t["service"], "resource": t["resource"].map(_resource), "cycles forecast": t["seasonality"], "notes": t["notes"]}
        ).reset_index(drop=True)

    def backtest_report(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The backtest per series and horizon in plain words (see :func:`backtest_reader_table`), for this plan's method."""
        return backtest_reader_table(rows, self.method)

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
    return CapacityPlan(pd.DataFrame(rows), forecasts, settings.currency, settings.horizon, settings.method)


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


def backtest_reader_table(rows: pd.DataFrame, method: str = "profile") -> pd.DataFrame:
    """:func:`backtest_table` for a reader: service and resource in words, errors under plain headings.

    Columns: service, resource, horizon, the forecast's and each baseline's MASE (lower is
    better; below 1 beats repeating last week within the history), the forecast's sMAPE as
    "average error (%)", whether it beats both baselines, and how many forecasts were checked.
    """
    table = backtest_table(rows, method)
    parts = table["series"].str.split("/", n=1, expand=True)
    baselines = [f"{b}_mase" for b in BASELINES]
    return pd.DataFrame(
        {
            "service": parts[0],
            "resource": parts[1].map(_resource),
            "horizon": table["horizon"],
            "forecast error (MASE)": table["mase"],
            "seasonal-naive error (MASE)": table["seasonal_naive_mase"],
            "4-week-median error (MASE)": table["median4_mase"],
            "average error (%)": table["smape"],
            "beats both baselines": (table["mase"] < table[baselines].min(axis=1)).map({True: "yes", False: "no"}),
            "forecasts checked": table["origins"],
        }
    )
