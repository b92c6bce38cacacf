"""Episodes from per-window verdicts: open, escalate, resolve; stable keys; gaps decide nothing."""

import numpy as np
import pandas as pd
import pytest

from workbench.alerting.episodes import MAX_KEY, advance, dedup_key, payload

W = pd.Timedelta("15min")
T0 = pd.Timestamp("2026-09-21T00:00Z")


def row(model=False, confidence=np.nan, rules=""):
    return pd.Series({"model": model, "confidence": confidence, "rules": rules})


NORMAL = row(confidence=10.0)
GAP = row()  # no model verdict and no rule: nothing known


def walk(rows, resolve_after=3, explain=None):
    """Feed ``rows`` (one per window from T0) through advance; return (events, saved episodes, open)."""
    episode, events, saved = None, [], []
    for k, r in enumerate(rows):
        episode, new, changed = advance(episode, "checkout", T0 + k * W, W, r, resolve_after, "v1", explain)
        events += new
        if changed is not None:
            saved.append(changed)
    return events, saved, episode


@pytest.mark.parametrize(
    ("first", "action", "source"),
    [
        (row(model=True, confidence=90.0), "investigate", "model"),
        (row(rules="error_burst"), "page", "rule"),
        (row(model=True, confidence=90.0, rules="error_burst"), "page_with_context", "both"),
    ],
)
def test_an_alerting_window_opens_an_episode(first, action, source):
    events, _, episode = walk([NORMAL, first])
    assert [e.kind for e in events] == ["trigger"]
    assert (episode["action"], episode["source"], episode["status"]) == (action, source, "open")
    assert episode["opened"] == T0 + W and episode["key"] == "aiops-workbench/checkout/20260921T001500Z"


def test_it_resolves_after_enough_normal_windows_in_a_row():
    hot = row(model=True, confidence=95.0)
    events, _, episode = walk([hot, NORMAL, NORMAL, hot, NORMAL, NORMAL, NORMAL, NORMAL])
    assert [e.kind for e in events] == ["trigger", "resolve"]
    resolve = events[-1].episode
    assert resolve["status"] == "resolved" and resolve["resolved"] == T0 + 7 * W  # the 3rd normal window's end
    assert episode is None


def test_an_investigation_a_rule_confirms_is_the_same_episode_updated():
    events, _, episode = walk([row(model=True, confidence=90.0), row(model=True, confidence=80.0, rules="p99_over_5s")])
    assert [e.kind for e in events] == ["trigger", "update"]
    assert events[0].episode["key"] == events[1].episode["key"]
    assert (episode["action"], episode["source"], episode["rules"]) == ("page_with_context", "both", "p99_over_5s")
    assert episode["confidence"] == 90.0  # the worst so far


def test_gaps_neither_open_nor_resolve():
    events, saved, episode = walk([GAP, GAP, row(rules="error_burst"), GAP, GAP, GAP, GAP, GAP])
    assert [e.kind for e in events] == ["trigger"]
    assert episode is not None and episode["normal_windows"] == 0
    assert len(saved) == 1  # only the opening changed anything


def test_top_features_follow_the_most_abnormal_window():
    seen = []

    def explain(window):
        seen.append(window)
        return f"at {window:%H:%M}"

    _, _, episode = walk([row(model=True, confidence=80.0), row(model=True, confidence=99.0), row(model=True, confidence=85.0)], explain=explain)
    assert seen == [T0, T0 + W] and episode["top_features"] == "at 00:15"


def test_the_key_is_stable_and_short_enough():
    assert dedup_key("checkout", T0) == dedup_key("checkout", T0.tz_convert("Europe/Berlin"))
    long = dedup_key("s" * 400, T0)
    assert len(long) <= MAX_KEY and long.endswith("/20260921T000000Z")


def test_payload_says_what_and_why():
    events, _, _ = walk([row(model=True, confidence=97.0, rules="error_burst")], explain=lambda w: "error rate well above its usual level for a weekday 00:00 (z +9.0)")
    body = payload(events[0])
    assert body["event"] == "trigger" and body["dedup_key"] == "aiops-workbench/checkout/20260921T000000Z"
    assert body["summary"] == "checkout: page_with_context (both); rules error_burst; model confidence 97; top features error rate well above its usual level for a weekday 00:00 (z +9.0)"
    assert body["resolved"] is None and body["model_version"] == "v1"
