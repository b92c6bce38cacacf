"""Alarm post-processing (:mod:`workbench.alerting.postprocess`): grouping, suppression and
persistence of flagged windows.
"""

import pytest
from builders import INDEX, conf, verdicts

from workbench.alerting.postprocess import group_alerts, require_persistence
from workbench.settings import RoutingSettings


def test_grouping_and_suppression():
    v = verdicts(conf(2, 4, 10))
    assert len(group_alerts("svc", v, RoutingSettings(group_gap="15min", suppress="0min"))) == 2  # 2 and 4 merge
    assert len(group_alerts("svc", v, RoutingSettings(group_gap="0min", suppress="0min"))) == 3
    assert len(group_alerts("svc", v, RoutingSettings(group_gap="15min", suppress="2h"))) == 1


def test_persistence_drops_one_window_blips_and_delays_the_verdict():
    settings = RoutingSettings(min_windows=2, group_gap="0min", suppress="0min")
    alerts = group_alerts("svc", verdicts(conf(3, 7, 8, 9)), settings)
    assert alerts["start"].tolist() == [INDEX[7]]  # the lone window 3 is dropped
    assert alerts.iloc[0]["detected_at"] == INDEX[9]  # known when the second window closes
    ruled = group_alerts("svc", verdicts(conf(), {3: "error_burst"}), settings)
    assert len(ruled) == 1  # a rule needs no persistence


# -- added: persistence on its own ---------------------------------------------------------------


def test_require_persistence_keeps_runs_long_enough():
    v = verdicts(conf(1, 4, 5, 9, 10, 11))
    kept = require_persistence(v, 2)
    assert kept["model"].tolist() == [i in (4, 5, 9, 10, 11) for i in range(len(INDEX))]
    # A kept run is known when its second window closes, and stays known from then on.
    assert kept.loc[INDEX[4], "seen_at"] == kept.loc[INDEX[5], "seen_at"] == INDEX[6]
    assert kept.loc[INDEX[9], "seen_at"] == INDEX[11] and kept.loc[INDEX[11], "seen_at"] == INDEX[12]
    assert v["model"].tolist() == [i in (1, 4, 5, 9, 10, 11) for i in range(len(INDEX))]  # the input is unchanged
    assert require_persistence(v, 3)["model"].tolist() == [i in (9, 10, 11) for i in range(len(INDEX))]


@pytest.mark.parametrize("min_windows", [0, 1])
def test_no_persistence_is_the_verdicts_as_they_are(min_windows):
    v = verdicts(conf(1, 4))
    assert require_persistence(v, min_windows) is v
