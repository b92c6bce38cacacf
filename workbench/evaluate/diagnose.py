"""Why a system's alerts went wrong: each false alarm put down to its most likely context,
and each missed incident to its kind, so a bad sample seed can be explained before anything
is changed (issue 16: fix the cause, never the threshold).

A false alarm (an alert that overlaps no incident of its service, as in
:func:`~workbench.evaluate.events.match_incidents`) gets the first of these that applies:

``data gap``
    A window of the service within :data:`NEAR` of the alert's start has no data at all
    (an exporter gap: the features on either side of it jump).
``lasting shift``
    The alert stayed open for :data:`LASTING` or longer: the service changed for good (a
    migration, a new baseline) and the model, trained before, kept calling it abnormal.
``brief rule page``
    A static rule alone raised it (the model saw nothing) and it closed within
    :data:`BRIEF`: a burst that healed itself, crossing a critical threshold for a few
    minutes. Its remedy is in the rule (its threshold or ``for``), not the model.
``after a deploy``
    A deploy of the service (or site-wide) started within :data:`AFTER_DEPLOY` before it
    (a deploy step the model had not seen).
``campaign``
    A campaign or maintenance overlaps it (planned load the model should have been told of).
``quiet hours``
    It started between 00:00 and 06:00 UTC, when traffic is low and a few requests move
    a rate a lot.
``other``
    None of these.
"""

from __future__ import annotations

import pandas as pd

from workbench.evaluate.events import match_incidents

__all__ = ["CAUSES", "false_alarm_causes", "missed_kinds"]

#: The causes, in the order they are tried.
CAUSES = ("data gap", "lasting shift", "brief rule page", "after a deploy", "campaign", "quiet hours", "other")
NEAR = pd.Timedelta("1h")
LASTING = pd.Timedelta("12h")
BRIEF = pd.Timedelta("30min")
AFTER_DEPLOY = pd.Timedelta("2h")
QUIET_HOURS = range(0, 6)


def _cause(alert, gaps: pd.DatetimeIndex, events: pd.DataFrame) -> str:
    start = alert.start
    if len(gaps) and ((gaps >= start - NEAR) & (gaps <= start + NEAR)).any():
        return "data gap"
    if alert.end - start >= LASTING:
        return "lasting shift"
    if getattr(alert, "source", "") == "rule" and alert.end - start <= BRIEF:
        return "brief rule page"
    mine = events[events["service"].isin([alert.service, "*"])]
    deploys = mine[mine["type"] == "deploy"]
    if ((deploys["start"] <= start) & (deploys["start"] >= start - AFTER_DEPLOY)).any():
        return "after a deploy"
    planned = mine[mine["type"].isin(["campaign", "maintenance"])]
    if ((planned["start"] < alert.end) & (planned["end"] > start)).any():
        return "campaign"
    if start.hour in QUIET_HOURS:
        return "quiet hours"
    return "other"


def false_alarm_causes(
    alerts: pd.DataFrame, incidents: pd.DataFrame, events: pd.DataFrame, gaps: dict[str, pd.DatetimeIndex], *, window: str | pd.Timedelta
) -> pd.DataFrame:
    """Every false alarm with its likely cause (see the module notes).

    Parameters
    ----------
    alerts
        One system's alerts (``service``, ``start``, ``end``, ``source``, ...).
    incidents
        The labelled incidents.
    events
        The events calendar (``start``, ``end``, ``service``, ``type``).
    gaps
        Per service, the starts of windows with no data at all.
    window
        The analysis window, the grace after an incident's end.

    Returns
    -------
    pandas.DataFrame
        The false alarms (the alerts' columns) with a ``cause`` column, one of :data:`CAUSES`.
    """
    hit, _ = match_incidents(alerts, incidents, window)
    false = alerts[~hit]
    empty = pd.DatetimeIndex([], tz="UTC")
    causes = [_cause(a, gaps.get(a.service, empty), events) for a in false.itertuples()]
    return false.assign(cause=pd.Series(causes, index=false.index, dtype=object))


def missed_kinds(missed: list[str], incidents: pd.DataFrame) -> dict[str, int]:
    """How many missed incidents there were of each kind (the ``cause`` before ``:``)."""
    rows = incidents[incidents["id"].isin(missed)]
    kinds = rows["cause"].fillna("").astype(str).str.split(":").str[0].str.strip().replace("", "unknown")
    return {k: int(v) for k, v in kinds.value_counts().items()}
