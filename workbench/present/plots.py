"""Figure builders: each returns a matplotlib Figure and writes nothing; saving is the caller's."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from workbench.contracts import METRIC_UNITS, Seasonality

__all__ = [
    "alerts_timeline",
    "backtest_chart",
    "forecast_panel",
    "correlation_heatmap",
    "drift_timeline",
    "hour_weekday_heatmaps",
    "improvement_intervals",
    "metrics_timeline",
    "score_histogram",
    "shap_bars",
]

_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_SHADES = {
    "incident": ("#d62728", 0.25),
    "campaign": ("#2ca02c", 0.15),
    "maintenance": ("#7f7f7f", 0.2),
}


def _label(metric: str) -> str:
    unit = METRIC_UNITS.get(metric)
    return f"{metric.replace('_', ' ')}\n({unit})" if unit else metric


def metrics_timeline(
    windows: pd.DataFrame,
    incidents: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    title: str = "",
) -> Figure:
    """One panel per metric over time, incidents shaded red, campaigns green, maintenance grey,
    deploys as dotted lines.

    Parameters
    ----------
    windows
        Wide frame (usually windowed with :func:`workbench.features.windows.to_windows`).
    incidents, events
        Rows with ``start`` and ``end`` (and ``type`` for events), already limited
        to the service and range.
    """
    metrics = list(windows.columns)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(12, 1.7 * len(metrics) + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    incidents = incidents if incidents is not None else pd.DataFrame(columns=["start", "end"])
    events = events if events is not None else pd.DataFrame(columns=["start", "end", "type"])
    for ax, metric in zip(axes, metrics):
        ax.plot(windows.index, windows[metric], lw=0.8, color="#1f77b4")
        ax.set_ylabel(_label(metric), fontsize=8)
        ax.tick_params(labelsize=8)
        for row in incidents.itertuples():
            ax.axvspan(row.start, row.end, color=_SHADES["incident"][0], alpha=_SHADES["incident"][1], lw=0)
        for row in events.itertuples():
            if row.type in _SHADES:
                ax.axvspan(row.start, row.end, color=_SHADES[row.type][0], alpha=_SHADES[row.type][1], lw=0)
            elif row.type == "deploy":
                ax.axvline(row.start, color="#9467bd", lw=0.6, ls=":", alpha=0.7)
    handles = [Patch(color=c, alpha=min(1, a * 2), label=k) for k, (c, a) in _SHADES.items()]
    handles.append(plt.Line2D([], [], color="#9467bd", ls=":", label="deploy"))
    axes[0].legend(handles=handles, loc="upper left", ncols=4, fontsize=8, frameon=False, bbox_to_anchor=(0, 1.35))
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def hour_weekday_heatmaps(samples: pd.DataFrame) -> Figure:
    """Mean of each metric by hour of day (UTC) and weekday: where the weekly rhythm lives."""
    metrics = list(samples.columns)
    cols = 2
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        values = samples[metric]
        table = values.groupby([values.index.day_of_week, values.index.hour]).mean().unstack()
        table.index = [_WEEKDAYS[d] for d in table.index]
        sns.heatmap(table, ax=ax, cmap="viridis", cbar_kws={"label": METRIC_UNITS.get(metric, "")})
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.set_xlabel("hour of day (UTC)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def correlation_heatmap(windows: pd.DataFrame) -> Figure:
    """Spearman rank correlation between metrics (robust to spikes and skew)."""
    corr = windows.corr(method="spearman")
    fig, ax = plt.subplots(figsize=(6.5, 5))
    sns.heatmap(corr, ax=ax, vmin=-1, vmax=1, cmap="RdBu_r", annot=True, fmt=".2f", square=True, cbar_kws={"shrink": 0.8})
    ax.set_title("Spearman correlation of windowed metrics", fontsize=10)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


#: One colour per system in every plot: the old thresholds orange, the model purple, the hybrid blue.
SYSTEM_COLOURS = {"baseline": "#ff7f0e", "model": "#9467bd", "hybrid": "#1f77b4"}


def alerts_timeline(
    windows: pd.DataFrame,
    alerts: dict[str, pd.DataFrame],
    incidents: pd.DataFrame,
    metrics: list[str] | None = None,
    title: str = "",
) -> Figure:
    """Metrics over time with incidents shaded red and one lane of alert bars per system underneath."""
    metrics = metrics or list(windows.columns)
    lanes = list(alerts)
    fig, axes = plt.subplots(
        len(metrics) + 1, 1, figsize=(12, 1.5 * len(metrics) + 0.4 * len(lanes) + 1), sharex=True,
        gridspec_kw={"height_ratios": [3] * len(metrics) + [max(1, len(lanes))]},
    )
    for ax, metric in zip(axes, metrics):
        ax.plot(windows.index, windows[metric], lw=0.7, color="#444")
        ax.set_ylabel(_label(metric), fontsize=8)
        ax.tick_params(labelsize=8)
        for row in incidents.itertuples():
            ax.axvspan(row.start, row.end, color=_SHADES["incident"][0], alpha=0.25, lw=0)
    lane_ax = axes[-1]
    for k, name in enumerate(lanes):
        for row in alerts[name].itertuples():
            lane_ax.barh(k, (row.end - row.start), left=row.start, height=0.6, color=SYSTEM_COLOURS.get(name, "#333"))
    lane_ax.set_yticks(range(len(lanes)), [f"{n} ({len(alerts[n])})" for n in lanes], fontsize=8)
    lane_ax.set_ylim(-0.6, len(lanes) - 0.4)
    lane_ax.invert_yaxis()
    lane_ax.set_xlabel("alerts per system (bars); incidents shaded red above", fontsize=8)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def score_histogram(training_raw: np.ndarray, scored_raw: np.ndarray, offset: float) -> Figure:
    """Raw forest scores of training windows and of later windows, with the alarm threshold (lower = more abnormal)."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    bins = np.linspace(min(np.min(training_raw), np.min(scored_raw), offset) - 0.02, max(np.max(training_raw), np.max(scored_raw)) + 0.02, 60)
    ax.hist(training_raw, bins=bins, alpha=0.6, density=True, label="training windows (incidents removed)")
    ax.hist(scored_raw, bins=bins, alpha=0.5, density=True, label="scored windows")
    ax.axvline(offset, color="#d62728", ls="--", label="alarm threshold (offset_)")
    ax.set_xlabel("raw score (lower = more abnormal)", fontsize=9)
    ax.set_yscale("log")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def shap_bars(shap_values: np.ndarray, feature_names: list[str], title: str = "") -> Figure:
    """Mean contribution towards anomalous per feature over explained windows (SHAP, path-length units)."""
    if len(feature_names) == 0 or np.size(shap_values) == 0:
        fig, ax = plt.subplots(figsize=(7, 1))
        ax.text(0.5, 0.5, "no model alerts to explain", ha="center", va="center")
        ax.axis("off")
        return fig
    push = np.clip(-np.asarray(shap_values), 0, None).mean(axis=0)
    order = np.argsort(push)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(feature_names) + 1))
    ax.barh(np.array(feature_names)[order], push[order], color="#1f77b4")
    ax.set_xlabel("mean push towards anomalous (shorter isolation path)", fontsize=9)
    ax.tick_params(labelsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def forecast_panel(forecasts: dict, services: list[str] | None = None, history: str = "14D", provisioned: dict | None = None) -> Figure:
    """One row per service, one column per resource: recent history, forecast and its band.

    ``forecasts`` maps ``(service, resource)`` to :class:`workbench.forecast.Forecast`;
    ``provisioned`` maps the same keys to the metric value at 100 % of what is provisioned,
    drawn as a dashed line where given.
    """
    keys = [k for k in forecasts if services is None or k[0] in services]
    rows = sorted({k[0] for k in keys})
    cols = sorted({k[1] for k in keys})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(4.2 * len(cols), 2.3 * len(rows)), squeeze=False, sharex=True)
    for (service, resource), fc in ((k, forecasts[k]) for k in keys):
        ax = axes[rows.index(service), cols.index(resource)]
        recent = fc.history[fc.history.index > fc.history.index[-1] - pd.Timedelta(history)]
        ax.plot(recent.index, recent.to_numpy(), color="#444444", lw=0.7, label="observed")
        ax.plot(fc.frame.index, fc.frame["yhat"], color="#1f77b4", lw=0.9, label="forecast")
        ax.fill_between(fc.frame.index, fc.frame["lower"], fc.frame["upper"], color="#1f77b4", alpha=0.2, lw=0, label=f"{fc.interval:.0%} band")
        if provisioned and (service, resource) in provisioned:
            ax.axhline(provisioned[(service, resource)], color="#d62728", ls="--", lw=0.8, label="provisioned")
        ax.set_title(f"{service}: {resource.replace('_', ' ')}" + ("" if fc.seasonality == Seasonality.DAILY_AND_WEEKLY else " (daily only)"), fontsize=9)
        ax.set_ylabel(METRIC_UNITS.get(resource, ""), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, -1].legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


#: The forecasting methods as a reader knows them.
METHOD_WORDS = {"profile": "forecast used", "seasonal_naive": "same slot last week", "median4": "median of the last 4 weeks"}


def backtest_chart(summary: pd.DataFrame, title: str = "") -> Figure:
    """MASE per method and horizon relative to seasonal-naive (1.0); lower is better.

    ``summary`` is :func:`workbench.forecast.backtest.backtest_summary` output.
    """
    fig, ax = plt.subplots(figsize=(7, 3))
    # The legend in words: a reader of the report never sees the methods' internal names.
    named = summary.assign(method=summary["method"].map(lambda m: METHOD_WORDS.get(m, str(m).replace("_", " "))))
    sns.barplot(data=named, x="horizon", y="vs_seasonal_naive", hue="method", ax=ax, palette="deep")
    ax.axhline(1.0, color="black", lw=0.8, ls="--")
    ax.set_ylabel("error / seasonal-naive error")
    ax.set_xlabel("")
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", fontsize=7)
    ax.set_title(title or "Backtest: error relative to last week's same slot (lower is better)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


_DRIFT_COLOURS = {"ok": "#2ca02c", "warn": "#ff7f0e", "act": "#d62728", "unknown": "#bbbbbb"}


def drift_timeline(drift: pd.DataFrame, changes: pd.DataFrame | None = None) -> Figure:
    """One row per service: each drift check as a dot coloured ok / warn / act, its worst PSI as its size.

    ``drift`` is :func:`workbench.workflows.drift.drift_table` output; ``changes`` (``service, at``)
    marks known changes, e.g. the sample's migration.
    """
    services = list(dict.fromkeys(drift["service"])) if len(drift) else []
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.45 * max(1, len(services))))
    if not services:
        ax.text(0.5, 0.5, "no drift check yet", ha="center", va="center", transform=ax.transAxes)
    for row, service in enumerate(services):
        mine = drift[drift["service"] == service]
        size = 12 + 40 * np.clip(pd.to_numeric(mine["worst PSI"], errors="coerce").fillna(0).to_numpy(), 0, 2)
        ax.scatter(mine["at"], np.full(len(mine), row), c=[_DRIFT_COLOURS.get(s, "#bbbbbb") for s in mine["status"]], s=size, zorder=3)
        if changes is not None:
            for at in changes.loc[changes["service"] == service, "at"]:
                ax.plot([at, at], [row - 0.4, row + 0.4], color="black", lw=1.5)
    ax.set_yticks(range(len(services)), services)
    ax.set_ylim(-0.7, max(0.7, len(services) - 0.3))
    ax.invert_yaxis()
    handles = [Patch(color=c, label=s) for s, c in _DRIFT_COLOURS.items() if s in set(drift.get("status", []))]
    if changes is not None and len(changes):
        handles.append(Patch(color="black", label="known change"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Drift checks: one dot per day and service (size = worst feature's PSI)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def improvement_intervals(comparisons: pd.DataFrame) -> Figure:
    """Each comparison's cost improvement (challenger vs champion) with its 90 % interval; right of 0 = challenger cheaper."""
    data = comparisons.dropna(subset=["improvement"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.32 * max(1, len(data))))
    if data.empty:
        ax.text(0.5, 0.5, "no comparison yet: every service is on its first model", ha="center", va="center", transform=ax.transAxes)
    labels = [f"{r['service']} {r['as of']}" for _, r in data.iterrows()]
    colours = {"promote": "#2ca02c", "keep": "#7f7f7f", "not enough evidence": "#bbbbbb"}
    for i, r in data.iterrows():
        centre = float(np.clip(r["improvement"] * 100, -200, 100))
        low = float(np.clip((r["90 % interval from"] if pd.notna(r["90 % interval from"]) else -np.inf) * 100, -200, 100))
        high = float(np.clip((r["90 % interval to"] if pd.notna(r["90 % interval to"]) else np.inf) * 100, -200, 100))
        ax.plot([low, high], [i, i], color="#444444", lw=1.2)
        ax.scatter([centre], [i], color=colours.get(r["verdict"], "#1f77b4"), s=30, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.axvline(5, color="#2ca02c", lw=0.8, ls="--")
    ax.set_yticks(range(len(data)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("cost improvement of the challenger, % (clipped to -200..100)")
    ax.legend(handles=[Patch(color=c, label=v) for v, c in colours.items()], fontsize=7, loc="lower left")
    ax.set_title("Champion vs challenger, paired on the same windows: estimate and 90 % interval", fontsize=10)
    fig.tight_layout()
    return fig
