"""False alarms by likely cause and missed incidents by kind, on hand-made cases."""

import pandas as pd
import pytest

from workbench.evaluate.diagnose import CAUSES, false_alarm_causes, missed_kinds

T = pd.Timestamp("2026-09-21T12:00Z")  # a Monday, midday: no other cause applies
H = pd.Timedelta("1h")
INCIDENTS = pd.DataFrame(
    [{"id": "INC-1", "service": "checkout", "start": T + 10 * H, "end": T + 11 * H, "cause": "error_burst: failover"},
     {"id": "INC-2", "service": "checkout", "start": T + 20 * H, "end": T + 21 * H, "cause": "latency_spike: slow db"},
     {"id": "INC-3", "service": "payments", "start": T, "end": T + H, "cause": ""}]
)
EVENTS = pd.DataFrame(
    [{"start": T - H, "end": T - H + pd.Timedelta("5min"), "service": "checkout", "type": "deploy"},
     {"start": T + 3 * H, "end": T + 5 * H, "service": "*", "type": "campaign"}]
)


def alert(start, service="checkout", lasting="30min", source="model"):
    return {"service": service, "start": start, "end": start + pd.Timedelta(lasting), "detected_at": start, "source": source}


@pytest.mark.parametrize(
    ("start", "gaps", "cause"),
    [
        (T + 2 * H, [T + 2 * H + pd.Timedelta("30min")], "data gap"),
        (T, [], "after a deploy"),  # the deploy started an hour before
        (T + 4 * H, [], "campaign"),
        (pd.Timestamp("2026-09-22T03:00Z"), [], "quiet hours"),
        (T + 7 * H, [], "other"),
    ],
)
def test_each_false_alarm_gets_its_cause(start, gaps, cause):
    alerts = pd.DataFrame([alert(start)])
    out = false_alarm_causes(alerts, INCIDENTS, EVENTS, {"checkout": pd.DatetimeIndex(gaps)}, window="15min")
    assert out["cause"].tolist() == [cause] and cause in CAUSES


def test_an_alert_open_for_half_a_day_is_a_lasting_shift_even_after_a_deploy():
    alerts = pd.DataFrame([alert(T, lasting="12h")])  # starts an hour after a deploy: a migration
    out = false_alarm_causes(alerts, INCIDENTS.iloc[2:], EVENTS, {}, window="15min")
    assert out["cause"].tolist() == ["lasting shift"]


def test_alerts_on_incidents_are_not_false_and_a_gap_far_away_does_not_count():
    alerts = pd.DataFrame([alert(T + 10 * H + pd.Timedelta("15min")), alert(T + 7 * H)])
    out = false_alarm_causes(alerts, INCIDENTS, EVENTS, {"checkout": pd.DatetimeIndex([T + 9 * H])}, window="15min")
    assert len(out) == 1 and out["cause"].iloc[0] == "other"
    empty = false_alarm_causes(alerts.iloc[:0], INCIDENTS, EVENTS, {}, window="15min")
    assert empty.empty and "cause" in empty.columns


@pytest.mark.parametrize(
    ("source", "lasting", "cause"),
    [
        ("rule", "15min", "brief rule page"),  # a rule alone, healed within minutes: even an hour after a deploy
        ("rule", "45min", "after a deploy"),  # a rule alone that lasted: the deploy is the likelier story
        ("both", "15min", "after a deploy"),  # the model agreed: not the rule's doing alone
    ],
)
def test_a_brief_page_from_a_rule_alone_is_the_rules_doing(source, lasting, cause):
    out = false_alarm_causes(pd.DataFrame([alert(T, lasting=lasting, source=source)]), INCIDENTS, EVENTS, {}, window="15min")
    assert out["cause"].tolist() == [cause]


def test_missed_incidents_by_kind():
    assert missed_kinds(["INC-1", "INC-2", "INC-3"], INCIDENTS) == {"error_burst": 1, "latency_spike": 1, "unknown": 1}
    assert missed_kinds([], INCIDENTS) == {}
