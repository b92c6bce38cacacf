"""Champion against challenger on the same windows: replay both, then compare them paired.

The compared span is the last ``lifecycle.compare_span`` before ``at``. The champion
scores it as it is. The challenger's recipe (train on the trailing ``model.train_span``,
incidents labelled by then and planned events left out) is retrained every
``model.retrain_every`` on data before each period it scores, exactly as
:func:`~workbench.lifecycle.training.score_rolling` does, so no window is scored by a
challenger that trained on it. The champion may have trained on the first part of the
span (a champion from last week did): that favours the champion, so a promotion is
conservative, never flattered. Both sides get the same critical rules, planned events
and routing; only the model differs. :func:`~workbench.evaluate.paired.compare_paired`
then gives the verdict.

Where the live loop has already scored windows of the span with this champion and, in
the shadow, with a challenger (the previous challenger: the same recipe, trained before
those windows), those **live scores replace the replay** on both sides (:func:`live_pairs`):
live evidence is what the models really did on the data as it arrived, gaps and late
samples included.

A fortnight holds one or two incidents of a service, too few to tell whether a challenger
has gone blind. So recall is also checked on every **earlier** labelled incident of the
service (before the span): labelled incidents are always left out of training (with a
margin), so neither model learned them as normal, and the challenger to be deployed (trained
on the trailing span up to ``at``) scores each one with the hours before it as context. An
earlier incident the champion catches and the challenger misses is a regression, and the
earlier incidents count as evidence. (An incident labelled after the champion was trained
may have been in its training data; that can only make the champion miss it, never the
challenger: conservative.)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from workbench.config import Config
from workbench.detect.rules import RuleSet
from workbench.errors import DataError
from workbench.evaluate.events import match_incidents
from workbench.evaluate.paired import (
    BootstrapResult,
    PairedComparison,
    compare_paired,
    decide,
)
from workbench.evaluate.replay import hybrid_alerts
from workbench.features.context import context_flags
from workbench.features.service import FEATURE_CONTEXT
from workbench.lifecycle.training import ServiceModel, score_rolling, score_windows

__all__ = ["Challenge", "challenge", "compared_span", "earlier_recall", "live_pairs"]

CONTEXT = FEATURE_CONTEXT


@dataclass
class Challenge:
    """Both sides' per-window confidence and alerts over the span, and the paired comparison."""

    service: str
    start: pd.Timestamp
    end: pd.Timestamp
    confidence: pd.DataFrame  # columns champion, challenger (0-100; NaN = no verdict)
    alerts: dict[str, pd.DataFrame]  # champion, challenger: the hybrid's grouped alerts
    comparison: PairedComparison
    #: Earlier incidents: id, start, and per side whether it was caught and the minutes to detect.
    earlier: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Windows of the span whose scores are the live loop's (champion and shadow challenger), not the replay's.
    live_windows: int = 0


def live_pairs(scores: pd.DataFrame, champion: str) -> pd.DataFrame:
    """The windows the live loop scored with version ``champion`` and with a shadow challenger.

    Parameters
    ----------
    scores
        The alert state's stored scores (:meth:`~workbench.alerting.state.AlertState.window_scores`):
        window, role, version, confidence.
    champion
        The champion being compared: windows scored by another champion are not its evidence.

    Returns
    -------
    DataFrame
        Indexed by window (UTC), columns ``champion`` and ``challenger`` (confidence 0-100;
        NaN = that side had no verdict) and ``challenger_version``.
    """
    ours = scores[(scores["role"] == "champion") & (scores["version"] == champion)].set_index("window")
    shadow = scores[scores["role"] == "challenger"].set_index("window")
    both = ours.index.intersection(shadow.index).sort_values()
    return pd.DataFrame(
        {"champion": ours.loc[both, "confidence"], "challenger": shadow.loc[both, "confidence"], "challenger_version": shadow.loc[both, "version"]},
        index=both,
    )


def compared_span(config: Config, windows: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the replay: the last ``compare_span`` of complete windows before ``at``."""
    width = pd.Timedelta(config.window)
    end = min(pd.Timestamp(at).floor(width), windows.index[-1] + width)
    return end - pd.Timedelta(config.lifecycle.compare_span), end


def challenge(
    config: Config,
    service: str,
    champion: ServiceModel,
    samples: pd.DataFrame,
    windows: pd.DataFrame,
    incidents: pd.DataFrame,
    events: pd.DataFrame,
    at: pd.Timestamp,
    *,
    challenger: ServiceModel | None = None,
    deployable: ServiceModel | None = None,
    live: pd.DataFrame | None = None,
    seed: int = 0,
) -> Challenge:
    """Replay the champion and the challenger's recipe (or a fitted ``challenger``) over the same span.

    Parameters
    ----------
    samples, windows
        The service's raw samples (for the critical rules) and its windows, up to ``at``.
    incidents
        Labelled incidents (all services; this one's are used). Only those known before
        each retrain are left out of its training; all in the span are scored against.
    challenger
        A fitted model to score the span as it is (an A/A trial: the champion retrained
        with another seed). Default: the recipe, retrained weekly as described above.
    deployable
        The challenger that would be promoted, for the recall check on earlier incidents
        (default ``challenger``; with neither, earlier incidents are not checked).
    live
        The live loop's paired scores (:func:`live_pairs`); on the span's windows they
        replace both sides' replayed confidence.

    Raises
    ------
    DataError
        Too little history before the span to train the challenger's recipe.
    """
    events = events[events["service"].isin([service, "*"])]
    start, end = compared_span(config, windows, at)
    windows = windows[windows.index < end]
    if windows.empty or windows.index[0] > start - pd.Timedelta(config.model.min_train):
        raise DataError(
            f"{service}: the comparison replays the last {config.lifecycle.compare_span} and the challenger needs "
            f"{config.model.min_train} of history before that; the data start {windows.index[0] if len(windows) else 'nowhere'}"
        )
    span = windows.index[windows.index >= start]
    context = windows[windows.index >= start - CONTEXT]
    sides = {"champion": score_windows(champion, context, events)["confidence"].reindex(span)}
    if challenger is None:
        rolled, _ = score_rolling(service, windows, incidents[incidents["service"] == service], events, config.model, start=start)
        sides["challenger"] = rolled["confidence"].reindex(span)
    else:
        sides["challenger"] = score_windows(challenger, context, events)["confidence"].reindex(span)
    on = span.intersection(live.index) if live is not None else span[:0]
    if len(on):
        for name in sides:
            sides[name].loc[on] = live.loc[on, name].to_numpy(float)
    critical = RuleSet.from_config(config.rules.critical).fit().verdicts(samples, config.window)
    flags = context_flags(span, events, config.window)
    planned = (flags["campaign"] == 1) | (flags["maintenance"] == 1)
    alerts = {name: hybrid_alerts(service, conf, critical, planned, config) for name, conf in sides.items()}
    mine = incidents[incidents["service"] == service]
    comparison = compare_paired(alerts["champion"], alerts["challenger"], mine, start, end, window=config.window, settings=config.lifecycle, seed=seed)
    deployable = deployable or challenger
    earlier = pd.DataFrame()
    if deployable is not None:
        earlier = earlier_recall(config, service, {"champion": champion, "challenger": deployable}, windows, critical, mine[mine["start"] < start], events)
        comparison = _with_earlier(comparison, earlier, config)
    return Challenge(service, start, end, pd.DataFrame(sides), alerts, comparison, earlier, len(on))


def earlier_recall(
    config: Config, service: str, models: dict[str, ServiceModel], windows: pd.DataFrame, critical: pd.DataFrame, incidents: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Whether each model's hybrid catches each of ``incidents``, scored with the hours before it as context.

    Returns one row per incident with enough data around it: ``id``, ``start``, and per
    model ``<name>_caught`` (bool) and ``<name>_minutes`` (time to detect; NaN = missed).
    """
    width = pd.Timedelta(config.window)
    rows = []
    for inc in incidents.itertuples():
        around = windows[(windows.index >= inc.start - CONTEXT) & (windows.index < inc.end + 2 * width)]
        span = around.index[around.index >= inc.start.floor(width)]
        if len(around) < len(span) + CONTEXT / width / 2 or span.empty:
            continue  # too little context before it to score it fairly
        flags = context_flags(span, events, config.window)
        planned = (flags["campaign"] == 1) | (flags["maintenance"] == 1)
        row = {"id": inc.id, "start": inc.start}
        one = incidents[incidents["id"] == inc.id]
        for name, model in models.items():
            conf = score_windows(model, around, events)["confidence"].reindex(span)
            alerts = hybrid_alerts(service, conf, critical, planned, config)
            _, ttd = match_incidents(alerts, one, width)
            minutes = ttd.iloc[0] / pd.Timedelta("1min") if pd.notna(ttd.iloc[0]) else float("nan")
            row.update({f"{name}_caught": pd.notna(ttd.iloc[0]), f"{name}_minutes": minutes})
        rows.append(row)
    return pd.DataFrame(rows, columns=["id", "start", *(f"{n}_{k}" for n in models for k in ("caught", "minutes"))])


def _with_earlier(comparison: PairedComparison, earlier: pd.DataFrame, config: Config) -> PairedComparison:
    """The verdict again, with the earlier incidents as evidence and their regressions as regressions."""
    lost = earlier[earlier["champion_caught"] & ~earlier["challenger_caught"]]["id"].astype(str).tolist() if len(earlier) else []
    regressions = tuple(sorted({*comparison.regressions, *lost}))
    total = comparison.incidents + len(earlier)
    result = BootstrapResult(comparison.improvement, comparison.lower_bound, comparison.interval_90, comparison.champion.cost, comparison.challenger.cost)
    where = f"to judge recall by ({comparison.incidents} in the compared {comparison.days} days, {len(earlier)} earlier)"
    verdict, reasons = decide(
        result, settings=config.lifecycle, incidents=total, days=comparison.days, regressions=regressions, fp_rise=comparison.fp_rise, evidence=where
    )
    return replace(comparison, regressions=regressions, verdict=verdict, reasons=reasons)
