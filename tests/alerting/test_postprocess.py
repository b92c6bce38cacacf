"""Alarm post-processing (:mod:`workbench.alerting.postprocess`): grouping, suppression and
persistence of flagged windows.
"""

import pandas as pd
import pytest
from builders import INDEX, conf, verdicts

from workbench.alerting.postprocess import (
    causal_persistence,
    group_alerts,
    require_persistence,
)
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


# -- one window confident enough alone (routing.alone_confidence) ---------------------------------


def _with(values: dict[int, float]):
    c = conf()
    for i, value in values.items():
        c[i] = value
    return c


@pytest.mark.parametrize("value, kept", [(99.995, True), (99.99, True), (99.9, False), (90.0, False)])
def test_one_window_at_the_alone_bar_is_kept_and_known_when_it_closes(value, kept):
    v = verdicts(_with({3: value}))
    out = require_persistence(v, 2, alone_confidence=99.99)
    assert out["model"].tolist() == [kept and i == 3 for i in range(len(INDEX))]
    if kept:
        assert out.loc[INDEX[3], "seen_at"] == INDEX[4]
    assert not require_persistence(v, 2, alone_confidence=None)["model"].any()  # None always waits


def test_a_confident_first_window_makes_its_run_known_a_window_earlier():
    settings = RoutingSettings(min_windows=2, alone_confidence=99.99, group_gap="0min", suppress="0min")
    early = group_alerts("svc", verdicts(_with({4: 99.999, 5: 90.0})), settings)
    late = group_alerts("svc", verdicts(_with({4: 90.0, 5: 99.999})), settings)
    assert early["detected_at"].tolist() == [INDEX[5]]  # the first window alone
    assert late["detected_at"].tolist() == [INDEX[6]]  # the run's second window, as before
    assert early["start"].tolist() == late["start"].tolist() == [INDEX[4]]


RUNS = [
    {3: 99.999}, {3: 90.0, 4: 90.0}, {3: 99.999, 4: 90.0, 9: 90.0}, {3: 90.0, 4: 99.999}, {2: 90.0, 7: 99.9}, {},
    {3: 99.999, 4: 90.0, 5: 90.0, 6: 90.0}, {3: 90.0, 4: 99.999, 5: 90.0}, {3: 99.999, 4: 90.0}, {3: 90.0, 4: 90.0, 5: 90.0, 6: 90.0},
]


@pytest.mark.parametrize("min_windows", [2, 3, 4])
@pytest.mark.parametrize("values", RUNS)
def test_live_and_replay_know_an_alert_at_the_same_moment_and_keep_the_same_run(values, min_windows):
    """The live loop's backward-looking verdicts raise each alert when the replay says it was
    detected, and from then on keep every window of the run the replay keeps (a window the
    live loop dropped inside a run would count as normal and could resolve the episode)."""
    v = verdicts(_with(values))
    replay = group_alerts("svc", v, RoutingSettings(min_windows=min_windows, group_gap="0min", suppress="0min"))
    live = causal_persistence(v, min_windows, alone_confidence=99.99)
    kept = live.index[live["model"]]
    first_known = [live.loc[t, "window_end"] for t in kept if t - pd.Timedelta("15min") not in kept]
    assert first_known == replay["detected_at"].tolist()
    whole = require_persistence(v, min_windows, alone_confidence=99.99)
    for a in replay.itertuples():  # the live loop keeps the run from its first known window to its end, no holes
        run = whole.index[whole["model"] & (whole.index >= a.start) & (whole.index < a.end)]
        from_first = run[run >= kept[kept >= a.start][0]]
        assert list(kept[(kept >= a.start) & (kept < a.end)]) == list(from_first)


def test_causal_persistence_without_the_alone_bar_waits_for_the_run():
    v = verdicts(_with({3: 99.999, 7: 90.0, 8: 90.0}))
    assert causal_persistence(v, 2, alone_confidence=None)["model"].tolist() == [i == 8 for i in range(len(INDEX))]
    assert causal_persistence(v, 2, alone_confidence=99.99)["model"].tolist() == [i in (3, 8) for i in range(len(INDEX))]


def test_an_alone_bar_below_the_investigation_bar_is_refused():
    with pytest.raises(ValueError, match="alone_confidence \\(70\\) is below investigate_confidence \\(75\\)"):
        RoutingSettings(alone_confidence=70)
    assert RoutingSettings(alone_confidence=None).alone_confidence is None
    assert RoutingSettings(investigate_confidence=99.995).alone_confidence == 99.99  # the default refuses nothing that loaded before
