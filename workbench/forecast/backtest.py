"""Rolling-origin backtests: from each origin, forecast each horizon from the history before
it; MASE (scaled per origin by the in-sample seasonal-naive error) and sMAPE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ForecastError
from workbench.forecast.history import seasons, series_step
from workbench.forecast.methods import BASELINES, Calendar, predict

__all__ = ["backtest", "backtest_summary"]


def _scale(y: np.ndarray, m: int) -> float:
    """MASE's scale: the in-sample mean absolute error of the seasonal-naive forecast."""
    diffs = np.abs(y[m:] - y[:-m])
    diffs = diffs[np.isfinite(diffs)]
    return float(diffs.mean()) if diffs.size else float("nan")


def _smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denom = np.abs(actual) + np.abs(forecast)
    ok = np.isfinite(actual) & np.isfinite(forecast)
    terms = np.where(denom[ok] > 0, 200 * np.abs(actual[ok] - forecast[ok]) / np.where(denom[ok] > 0, denom[ok], 1), 0.0)
    return float(terms.mean()) if terms.size else float("nan")


def backtest(
    series: pd.Series,
    horizons: dict[str, str] | None = None,
    initial: str = "28D",
    every: str = "84h",
    methods: tuple[str, ...] = ("profile", *BASELINES),
    holidays=(),
) -> pd.DataFrame:
    """Rolling-origin backtest: from each origin, forecast each horizon from the history before it.

    Parameters
    ----------
    series
        A regular series (see :func:`prepare_series`).
    horizons
        Name to length, default ``{"1 day": "1D", "1 week": "7D"}``.
    initial
        History before the first origin.
    every
        Time between origins (84 h is half a week).
    methods
        Methods to score.
    holidays
        Dates the ``profile`` method treats as holidays (known in advance, so not a leak).

    Returns
    -------
    DataFrame
        One row per origin, horizon and method: ``mae``, ``scale`` (the in-sample
        seasonal-naive MAE at that origin, the same for every method) and ``mase``, ``smape``.

    Raises
    ------
    ForecastError
        No origin fits: the series is shorter than ``initial`` plus the shortest horizon.
    """
    horizons = horizons or {"1 day": "1D", "1 week": "7D"}
    step = series_step(series)
    day, week = seasons(step)
    y = series.to_numpy(dtype=float)
    first = int(pd.Timedelta(initial) / step)
    stride = max(1, int(pd.Timedelta(every) / step))
    lengths = {name: int(pd.Timedelta(span) / step) for name, span in horizons.items()}
    longest = max(lengths.values())
    calendar = Calendar.build(series.index[0], step, len(y) + longest, holidays) if len(holidays) else None
    rows = []
    for origin in range(first, len(y), stride):
        history = y[:origin]
        m = week if len(history) >= 2 * week else day
        scale = _scale(history, m)
        fits = {name: h for name, h in lengths.items() if origin + h <= len(y) and np.isfinite(y[origin : origin + h]).sum() >= h // 2}
        if not fits:
            continue  # past the end, or a horizon mostly in a gap
        for method in methods:
            # One forecast per origin, scored on each horizon's prefix: every method's
            # path does not depend on how far it is asked to go.
            path = predict(history, min(longest, len(y) - origin), method, day, week, calendar)
            for name, h in fits.items():
                actual, forecast = y[origin : origin + h], path[:h]
                ok = np.isfinite(actual) & np.isfinite(forecast)
                mae = float(np.abs(actual[ok] - forecast[ok]).mean())
                rows.append(
                    {
                        "origin": series.index[origin],
                        "horizon": name,
                        "method": method,
                        "mae": mae,
                        "scale": scale,
                        "mase": mae / scale if scale > 0 else float("nan"),
                        "smape": _smape(actual, forecast),
                    }
                )
    if not rows:
        raise ForecastError(
            f"{series.name or 'series'}: too short to backtest ({len(y)} steps; need {initial} of history plus a horizon)"
        )
    return pd.DataFrame(rows)


def backtest_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean MASE and sMAPE per horizon and method, and each method's MASE relative to seasonal-naive.

    MASE is averaged over origins (each origin's error is scaled by that origin's own
    in-sample seasonal-naive error).
    """
    out = rows.groupby(["horizon", "method"], sort=False)[["mase", "smape"]].mean().reset_index()
    naive = out[out["method"] == BASELINES[0]].set_index("horizon")["mase"]
    out[f"vs_{BASELINES[0]}"] = out["mase"] / out["horizon"].map(naive)
    out["origins"] = rows.groupby(["horizon", "method"], sort=False).size().to_numpy()
    return out
