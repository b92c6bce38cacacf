"""When a service's model is due for retraining: on schedule, or early when drift acts.

Pure: the caller passes the history and the latest drift status. A retrain is due when
the service has no champion; otherwise, by ``lifecycle.policy``: ``weekly`` when the last
retrain decision is ``model.retrain_every`` old or older; ``drift`` when the newest drift
check acts and no retrain has run since it; ``weekly_or_drift`` (the default) either;
``frozen`` never (the first champion stays: the baseline policy the others are measured against).
"""

from __future__ import annotations

import pandas as pd

from workbench.errors import ParameterError

__all__ = ["POLICIES", "RETRAIN_ACTIONS", "last_retrain", "retrain_due"]

#: The retraining policies ``lifecycle.policy`` chooses from.
POLICIES = ("weekly_or_drift", "weekly", "drift", "frozen")

#: History actions written by a retrain (a person's promote or rollback is not a retrain).
RETRAIN_ACTIONS = ("first", "promote", "keep", "not_enough_evidence")


def last_retrain(history: list[dict]) -> pd.Timestamp | None:
    """When the newest retrain decision was taken (its data time ``as_of``, else its wall time)."""
    for row in reversed(history):
        if row.get("action") in RETRAIN_ACTIONS:
            return pd.Timestamp(row.get("as_of") or row["at"])
    return None


def retrain_due(
    history: list[dict],
    has_champion: bool,
    at: pd.Timestamp,
    every: str | pd.Timedelta,
    drift: dict | None = None,
    policy: str = "weekly_or_drift",
    cooldown: str | pd.Timedelta = "2D",
) -> tuple[bool, str]:
    """Whether to retrain at ``at`` under ``policy``, and why (plain words for the log).

    ``drift`` is the newest drift check (``status`` and ``at``), or ``None``. An acting
    drift retrains early when no retrain ran since it, and at most every ``cooldown``
    while it persists (a challenger needs days of the new normal to be any better).
    """
    if policy not in POLICIES:
        raise ParameterError(f"unknown retraining policy {policy!r}; one of {', '.join(POLICIES)}")
    if not has_champion:
        return True, "no champion yet"
    if policy == "frozen":
        return False, "not due: the frozen policy never retrains"
    last = last_retrain(history)
    acting = drift and drift.get("status") == "act" and (last is None or pd.Timestamp(drift["at"]) >= last)
    if policy != "weekly" and acting and (last is None or pd.Timestamp(at) - last >= pd.Timedelta(cooldown)):
        return True, "drift acted: " + "; ".join(drift.get("reasons", [])[:3])
    if policy == "drift":
        return False, "not due: no acting drift since the last retrain"
    if last is None:
        return True, "no retrain recorded yet"
    age = pd.Timestamp(at) - last
    if age >= pd.Timedelta(every):
        return True, f"scheduled: the last retrain was {age.days} days ago (every {every})"
    return False, f"not due: the last retrain was {age} ago (every {every})" + ("" if policy == "weekly" else ", no acting drift")
