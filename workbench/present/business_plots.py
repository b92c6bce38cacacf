"""The 09 report's trend chart: a figure builder that writes nothing; saving is the caller's."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from workbench.evaluate.business import ALL, BusinessFigures
from workbench.present.evaluation import SYSTEM_NAMES
from workbench.present.plots import SYSTEM_COLOURS

__all__ = ["business_trend"]

#: (column of ``BusinessFigures.table``, axis label)
_PANELS = [
    ("pages_per_week", "pages a week"),
    ("toil_hours_per_week", "on-call hours a week"),
    ("detect_median", "time to detect,\nmedian (min)"),
]


def _label(period, cut: str) -> str:
    stamp = pd.Timestamp(period)
    return f"{stamp:%b %Y}" if cut == "month" else f"{stamp:%d %b}"


def business_trend(figures: BusinessFigures, title: str = "") -> Figure:
    """Per period (all services): pages and on-call hours a week and the median time to detect,
    the old thresholds beside the hybrid, each bar with its 90 % interval (a bar without a
    line rests on fewer than two weeks or incidents; a missing bar on none).
    """
    table = figures.table
    rows = table[(table["service"] == ALL) & (table["period"] != ALL)]
    periods = list(dict.fromkeys(rows["period"]))
    systems = [figures.old, figures.new]
    fig, axes = plt.subplots(1, len(_PANELS), figsize=(12, 3.4), squeeze=False)
    x = np.arange(len(periods))
    width = 0.8 / len(systems)
    for ax, (column, label) in zip(axes[0], _PANELS):
        for k, system in enumerate(systems):
            mine = rows[rows["system"] == system].set_index("period").reindex(periods)
            values = mine[column].to_numpy(dtype=float)
            low, high = mine[f"{column}_low"].to_numpy(dtype=float), mine[f"{column}_high"].to_numpy(dtype=float)
            where = x + (k - (len(systems) - 1) / 2) * width
            ax.bar(where, np.nan_to_num(values), width, color=SYSTEM_COLOURS.get(system, "#333333"), label=SYSTEM_NAMES.get(system, system))
            known = np.isfinite(low) & np.isfinite(high)
            ax.errorbar(where[known], values[known], yerr=[values[known] - low[known], high[known] - values[known]], fmt="none", ecolor="#222222", lw=1, capsize=3)
        ax.set_xticks(x, [_label(p, str(figures.period)) for p in periods], fontsize=8, rotation=0 if len(periods) <= 6 else 45)
        ax.set_ylabel(label, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_ylim(bottom=0)
    axes[0][0].legend(fontsize=8, frameon=False, loc="upper right")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return fig
