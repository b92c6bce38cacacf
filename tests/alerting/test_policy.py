"""The hybrid policy (:mod:`workbench.alerting.policy`): window verdicts from any sources, the
action per alert (a rule pages, the model asks for an investigation), planned-event muting.
"""

import numpy as np
import pandas as pd
import pytest
from builders import INDEX, conf, verdicts

from workbench.alerting.policy import action_for, window_verdicts
from workbench.alerting.postprocess import group_alerts
from workbench.contracts import AlertAction, AlertSource
from workbench.detect.base import VerdictKind, model_verdicts, verdict_frame
from workbench.errors import DataError, ParameterError
from workbench.settings import RoutingSettings

SETTINGS = RoutingSettings(group_gap="15min", suppress="0min")


def test_rule_alone_pages():
    alerts = group_alerts("svc", verdicts(conf(), {3: "error_burst"}), SETTINGS)
    assert alerts[["action", "source", "rules"]].values.tolist() == [["page", "rule", "error_burst"]]
    assert alerts.iloc[0]["detected_at"] == INDEX[3] + pd.Timedelta("3min")


def test_model_alone_investigates_and_is_seen_when_its_window_closes():
    alerts = group_alerts("svc", verdicts(conf(5, 6)), SETTINGS)
    assert alerts[["action", "source"]].values.tolist() == [["investigate", "model"]]
    assert alerts.iloc[0]["start"] == INDEX[5] and alerts.iloc[0]["end"] == INDEX[7]
    assert alerts.iloc[0]["detected_at"] == INDEX[6]
    assert alerts.iloc[0]["confidence"] == 90.0


def test_both_page_with_context():
    alerts = group_alerts("svc", verdicts(conf(4, 5), {5: "p99_over_5s"}), SETTINGS)
    assert alerts[["action", "source"]].values.tolist() == [["page_with_context", "both"]]


def test_planned_events_mute_the_model_but_not_rules():
    planned = [False] * len(INDEX)
    planned[5] = planned[8] = True
    v = verdicts(conf(5, 8), {8: "error_burst"}, planned)
    alerts = group_alerts("svc", v, SETTINGS)
    assert alerts[["start", "source"]].values.tolist() == [[INDEX[8], "both"]]
    assert v["muted"].sum() == 1


def test_no_verdict_windows_never_alert():
    values = conf(3)
    values[3] = np.nan
    assert group_alerts("svc", verdicts(values), SETTINGS).empty


def test_sources_of_one_kind_combine_and_rules_are_not_special():
    # Two rule sets and two models: any flag counts, names join, the earliest firing and
    # the highest confidence win; the order of the sources does not matter.
    a = verdict_frame(INDEX[[2]], VerdictKind.RULE, True, detail="a", first_seen=INDEX[2] + pd.Timedelta("9min"))
    b = verdict_frame(INDEX[[2]], VerdictKind.RULE, True, detail="b", first_seen=INDEX[2] + pd.Timedelta("1min"))
    m1 = model_verdicts(pd.Series(conf(2), index=INDEX), "15min", threshold=75)
    m2 = model_verdicts(pd.Series(conf(), index=INDEX) + 85, "15min", threshold=99)
    v = window_verdicts(INDEX, "15min", [a, m1, b, m2])
    assert (v.loc[INDEX[2], "rules"], v.loc[INDEX[2], "first_fire"]) == ("a,b", INDEX[2] + pd.Timedelta("1min"))
    assert v.loc[INDEX[2], "confidence"] == 95.0 and v["model"].tolist() == [i == 2 for i in range(len(INDEX))]
    assert window_verdicts(INDEX, "15min", [m2, b, m1, a])["model"].equals(v["model"])


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"flag": [True]}, index=INDEX[:1]), "missing"),
        (pd.concat([verdict_frame(INDEX[:1], "rule", True, detail="r"), verdict_frame(INDEX[1:2], "model", True)]), "one kind"),
    ],
)
def test_a_bad_verdict_frame_is_named(frame, message):
    with pytest.raises(DataError, match=message):
        window_verdicts(INDEX, "15min", [frame])


# -- added: the action per alert -----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, model, action, source",
    [
        (True, True, "page_with_context", "both"),
        (True, False, "page", "rule"),
        (False, True, "investigate", "model"),
    ],
)
def test_action_for(rule, model, action, source):
    assert action_for(rule, model) == (action, source)
    assert action_for(rule, model) == (AlertAction(action), AlertSource(source))


def test_an_alert_needs_a_rule_or_the_model():
    with pytest.raises(ParameterError, match="needs a rule or the model"):
        action_for(False, False)
