import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from workbench.contracts import RuleOp
from workbench.detect.base import VERDICT_COLUMNS
from workbench.detect.rules import RuleSet, ThresholdRule, rule_verdicts
from workbench.errors import DataError, ParameterError
from workbench.settings import Rule


def minutes(values, metric="error_rate", start="2026-01-05T00:00Z"):
    index = pd.date_range(start, periods=len(values), freq="1min")
    return pd.DataFrame({metric: np.asarray(values, dtype=float)}, index=index)


CASES = [
    # (op, threshold, hold, values, expected firing)
    (">", 5, "0min", [1, 6, 7, 1], [False, True, True, False]),
    ("<", 5, "0min", [1, 6, 7, 1], [True, False, False, True]),
    (">", 5, "3min", [6, 6, 6, 6, 1, 6], [False, False, False, True, False, False]),  # fires once held 3 min
    (">", 5, "5min", [6, 6, 6, 6], [False, False, False, False]),  # never long enough
    (">", 5, "0min", [np.nan, 6], [False, True]),  # NaN is not a breach
]


@pytest.mark.parametrize("op, threshold, hold, values, expected", CASES)
def test_threshold_rules(op, threshold, hold, values, expected):
    rule = ThresholdRule("r", "error_rate", op, threshold, hold).fit()
    assert rule.predict(minutes(values)).tolist() == expected


def test_fit_learns_nothing():
    # Whatever fit saw (nothing, calm data, data full of breaches), the predictions are
    # the same and the only state fit leaves is the validated parameters.
    probe = minutes([1, 6, 6, 6, 1, 9, 9])
    seen = [None, minutes([0.0] * 50), minutes([100.0] * 50), minutes([np.nan] * 3)]
    rules = [ThresholdRule("r", "error_rate", ">", 5, "1min").fit(data) for data in seen]
    assert all(r.predict(probe).equals(rules[0].predict(probe)) for r in rules)
    for rule in rules:
        assert {k for k in vars(rule) if k.endswith("_")} == {"op_", "hold_"}
        assert (rule.op_, rule.hold_) == (RuleOp.ABOVE, pd.Timedelta("1min"))


def test_config_rule_maps_for_to_hold():
    config = Rule.model_validate({"name": "slow", "metric": "latency_p99", "op": ">", "threshold": 5, "for": "3min"})
    rule = ThresholdRule.from_config(config)
    assert not [k for k in rule.get_params() if k.endswith("_")]
    assert (rule.name, rule.metric, rule.op, rule.threshold, rule.hold, rule.action) == ("slow", "latency_p99", ">", 5, "3min", "page")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"op": ">="}, "unknown op '>='"),
        ({"op": "drop"}, "unknown op 'drop'"),
        ({"action": "pgae"}, "unknown action 'pgae'"),
        ({"hold": "soon"}, "not a duration"),
        ({"hold": "-5min"}, "non-negative"),
    ],
)
def test_bad_parameters_fail_at_fit_not_later(params, message):
    rule = ThresholdRule("r", "error_rate", **params)  # __init__ only stores: clone and set_params work
    assert clone(rule).get_params() == rule.get_params()
    with pytest.raises(ParameterError, match=message):
        rule.fit()


def test_predict_before_fit_is_not_fitted():
    with pytest.raises(NotFittedError):
        ThresholdRule().predict(minutes([1]))
    with pytest.raises(NotFittedError):
        ThresholdRule().condition(minutes([1]))
    with pytest.raises(NotFittedError):
        RuleSet([ThresholdRule()]).predict(minutes([1]))


def test_rules_need_a_frame_of_named_metrics():
    with pytest.raises(DataError, match="DataFrame"):
        ThresholdRule().fit().predict(np.ones((3, 1)))


def test_a_gap_breaks_the_for_run():
    samples = minutes([6, 6, 6, 6, 6]).drop(pd.Timestamp("2026-01-05T00:02Z"))
    fired = ThresholdRule("r", "error_rate", ">", 5, "2min").fit().predict(samples)
    assert fired.tolist() == [False, False, False, False]  # without the gap, minute 2 onwards would fire
    assert ThresholdRule("r", "error_rate", ">", 5, "2min").fit().predict(minutes([6] * 5)).tolist() == [False, False, True, True, True]


def test_drop_against_last_week():
    index = pd.date_range("2026-01-05T00:00Z", periods=8 * 24 * 60, freq="1min")
    values = np.full(len(index), 100.0)
    values[-10:] = 60.0  # a 40 % drop against the same minutes a week ago
    fired = ThresholdRule("drop", "request_rate", "drop_pct", 30).fit().predict(pd.DataFrame({"request_rate": values}, index=index))
    assert fired.sum() == 10 and fired.iloc[-10:].all()


def test_missing_metric_is_a_clear_error():
    with pytest.raises(DataError, match="metric 'latency_p99' is not in the data"):
        ThresholdRule("r", "latency_p99", ">", 1).fit().predict(minutes([1]))


def test_ruleset_verdicts_per_window():
    samples = minutes([1] * 20 + [9] * 3 + [1] * 7 + [-1] * 2)
    rules = RuleSet([ThresholdRule("hot", "error_rate", ">", 5), ThresholdRule("cold", "error_rate", "<", 0)]).fit()
    verdicts = rules.verdicts(samples, "15min")
    assert list(verdicts.columns) == VERDICT_COLUMNS
    assert verdicts.index.tolist() == [pd.Timestamp("2026-01-05T00:15Z"), pd.Timestamp("2026-01-05T00:30Z")]
    assert verdicts["kind"].tolist() == ["rule", "rule"] and verdicts["flag"].all()
    assert verdicts["detail"].tolist() == ["hot", "cold"]
    assert verdicts["first_seen"].tolist() == [pd.Timestamp("2026-01-05T00:20Z"), pd.Timestamp("2026-01-05T00:30Z")]
    assert verdicts["confidence"].isna().all()  # a rule has no confidence


def test_no_firing_gives_an_empty_verdict_frame():
    verdicts = RuleSet([ThresholdRule("hot", "error_rate", ">", 5)]).fit().verdicts(minutes([1] * 30), "15min")
    assert verdicts.empty and list(verdicts.columns) == VERDICT_COLUMNS
    assert rule_verdicts(pd.DataFrame(index=minutes([1]).index), "15min").empty  # a set without rules


def test_ruleset_is_an_estimator():
    hot = ThresholdRule("hot", "error_rate", ">", 5)
    rules = RuleSet([hot])
    assert RuleSet().get_params() == {"rules": None}
    assert clone(rules).get_params()["rules"][0].get_params() == hot.get_params()
    assert rules.fit() is rules
    assert not hasattr(hot, "op_")  # the set fits clones, not the rules it was given
    assert rules.predict(minutes([1, 9])).to_dict("list") == {"hot": [False, True]}
    assert RuleSet().fit().predict(minutes([1, 9])).shape == (2, 0)


def test_ruleset_rejects_duplicate_names():
    with pytest.raises(ParameterError, match="duplicate rule names"):
        RuleSet([ThresholdRule("a"), ThresholdRule("a", op="<")]).fit()


def test_a_ruleset_turns_off_a_rule_whose_metric_is_missing_and_says_so():
    from workbench.errors import DataWarning

    rules = RuleSet([ThresholdRule("p99", "latency_p99", ">", 1), ThresholdRule("hot", "cpu_usage", ">", 5)]).fit()
    samples = minutes([1, 9, 9]).rename(columns=lambda c: "cpu_usage")
    with pytest.warns(DataWarning, match=r"rules p99 \(latency_p99\) are off: the data have no such metric"):
        fired = rules.predict(samples)
    assert fired["p99"].tolist() == [False] * 3 and fired["hot"].tolist() == [False, True, True]
