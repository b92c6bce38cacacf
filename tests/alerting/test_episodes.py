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


# -- runbook advice --------------------------------------------------------------------------
class Advice:
    """An advisor that records when it was asked and answers from a list (the last answer repeats)."""

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def __call__(self, episode, end):
        self.asked.append((episode["opened"], end))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


TIP = {"suggestion": "Rolled back the deploy", "citations": "INC-0003, INC-0009", "similar_incidents": "the closest past incident is INC-0003 (...), 0.97 similar"}
NONE_SIMILAR = {"suggestion": "", "citations": "", "similar_incidents": "no similar past incident: the closest is INC-0001 (...), 0.41 similar"}
FAILED = {"suggestion": "", "citations": "", "similar_incidents": ""}


def advise_walk(rows, advisor):
    episode, events = None, []
    for k, r in enumerate(rows):
        episode, new, _ = advance(episode, "checkout", T0 + k * W, W, r, 3, "v1", None, advisor)
        events += new
    return events, episode


def test_a_page_carries_the_advice_asked_for_when_it_opens():
    advisor = Advice(TIP)
    events, episode = advise_walk([NORMAL, row(rules="error_burst"), row(rules="error_burst"), row(rules="error_burst")], advisor)
    # Asked once, as the episode opened (one window old): a steady episode is not asked again.
    assert advisor.asked == [(T0 + W, T0 + 2 * W)]
    assert {k: events[0].episode[k] for k in TIP} == TIP and {k: episode[k] for k in TIP} == TIP
    body = payload(events[0])
    assert body["suggestion"] == "Rolled back the deploy" and body["citations"] == "INC-0003, INC-0009"
    assert body["summary"].endswith("; suggested step Rolled back the deploy (as in INC-0003, INC-0009)")


def test_an_escalation_asks_again_and_failed_advice_keeps_what_the_page_said():
    hot, confirmed = row(model=True, confidence=90.0), row(model=True, confidence=90.0, rules="p99_over_5s")
    events, episode = advise_walk([hot, confirmed], Advice(TIP, FAILED))
    assert [e.kind for e in events] == ["trigger", "update"]
    assert {k: events[1].episode[k] for k in TIP} == TIP  # the second answer failed: the first stands
    events, episode = advise_walk([hot, confirmed], Advice(TIP, NONE_SIMILAR))
    # A fresh answer replaces all three fields: no stale step beside "no similar past incident".
    assert {k: episode[k] for k in TIP} == NONE_SIMILAR and "suggested step" not in payload(events[1])["summary"]


def test_without_an_advisor_or_with_an_old_row_the_advice_is_empty():
    events, episode = advise_walk([row(rules="error_burst")], None)
    assert (episode["suggestion"], episode["citations"], episode["similar_incidents"]) == ("", "", "")
    old = {k: v for k, v in events[0].episode.items() if k not in TIP}  # a row saved before advice existed
    body = payload(type(events[0])("update", old, events[0].window))
    assert (body["suggestion"], body["citations"], body["similar_incidents"]) == ("", "", "")


def test_without_a_model_a_rules_page_resolves_on_quiet_checked_windows_and_a_model_one_waits():
    quiet = pd.Series({"model": False, "confidence": np.nan, "rules": "", "checked": True})
    events, _, episode = walk([row(rules="error_burst"), quiet, quiet, quiet])
    assert [e.kind for e in events] == ["trigger", "resolve"] and episode is None
    # No samples at all (not checked): still unknown, nothing resolves.
    events, _, episode = walk([row(rules="error_burst"), GAP, GAP, GAP])
    assert [e.kind for e in events] == ["trigger"]
    # An episode the model raised is not judged by the rules alone.
    events, _, episode = walk([row(model=True, confidence=95.0), quiet, quiet, quiet])
    assert [e.kind for e in events] == ["trigger"] and episode["normal_windows"] == 0


# -- how unusual: the tail ranks windows beyond a confidence of 100 -----------------------------


def hot(tail, confidence=100.0, words=None):
    return pd.Series({"model": True, "confidence": confidence, "rules": "", "tail": tail, "unusual": words or f"once in 10^{-tail:.0f}"})


def test_the_episode_keeps_its_most_abnormal_window_by_tail_where_the_confidence_reads_100():
    seen = []

    def explain(window):
        seen.append(window)
        return f"at {window:%H:%M}"

    events, _, episode = walk([hot(-9.0), hot(-14.0), hot(-11.0)], explain=explain)
    assert seen == [T0, T0 + W]  # the second window is rarer though both read 100
    assert (episode["log10_tail"], episode["unusual"], episode["top_features"]) == (-14.0, "once in 10^14", "at 00:15")
    assert events[0].episode["unusual"] == "once in 10^9"  # the page said what was known then


def test_a_rule_page_has_no_tail_and_a_row_from_before_the_tail_ranks_by_confidence():
    _, _, episode = walk([row(rules="error_burst")])
    assert episode["log10_tail"] is None and episode["unusual"] == ""
    old = {**walk([row(model=True, confidence=90.0)])[2], "log10_tail": None, "unusual": ""}  # saved by an older release
    episode, _, _ = advance(old, "checkout", T0 + W, W, hot(-5.0, confidence=95.0), 3, "v1")
    assert (episode["confidence"], episode["log10_tail"]) == (95.0, -5.0)
    episode, _, _ = advance(old, "checkout", T0 + W, W, hot(-3.0, confidence=80.0), 3, "v1")
    assert (episode["confidence"], episode["log10_tail"]) == (90.0, None)  # less abnormal: kept as it was
    saturated = {**old, "confidence": 100.0}
    episode, _, _ = advance(saturated, "checkout", T0 + W, W, hot(-20.0), 3, "v1")
    assert (episode["confidence"], episode["log10_tail"]) == (100.0, -20.0)  # a tie at 100 takes the tail


def test_the_payload_says_how_unusual_in_the_summary_and_its_own_field():
    events, _, _ = walk([hot(-12.3, words="once in 10^9 normal weeks")])
    body = payload(events[0])
    assert body["summary"] == "checkout: investigate (model); model confidence 100 (once in 10^9 normal weeks)"
    assert (body["unusual"], body["log10_tail"]) == ("once in 10^9 normal weeks", -12.3)
    old = dict(events[0].episode)
    for key in ("unusual", "log10_tail"):
        old.pop(key)  # a row saved before the fields existed
    body = payload(type(events[0])(events[0].kind, old, events[0].window))
    assert body["summary"] == "checkout: investigate (model); model confidence 100" and body["unusual"] == "" and body["log10_tail"] is None
