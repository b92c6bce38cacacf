import numpy as np
import pandas as pd
import pytest

from workbench.detect.rules import RuleSet, ThresholdRule, fire_windows
from workbench.errors import DataError


def minutes(values, metric="error_rate", start="2026-01-05T00:00Z"):
    index = pd.date_range(start, periods=len(values), freq="1min")
    return pd.DataFrame({metric: np.asarray(values, dtype=float)}, index=index)


CASES = [
    # (op, threshold, for, values, expected firing)
    (">", 5, "0min", [1, 6, 7, 1], [False, True, True, False]),
    ("<", 5, "0min", [1, 6, 7, 1], [True, False, False, True]),
    (">", 5, "3min", [6, 6, 6, 6, 1, 6], [False, False, False, True, False, False]),  # fires once held 3 min
    (">", 5, "5min", [6, 6, 6, 6], [False, False, False, False]),  # never long enough
    (">", 5, "0min", [np.nan, 6], [False, True]),  # NaN is not a breach
]


@pytest.mark.parametrize("op, threshold, for_, values, expected", CASES)
def test_threshold_rules(op, threshold, for_, values, expected):
    rule = ThresholdRule("r", "error_rate", op, threshold, for_).fit()
    assert rule.predict(minutes(values)).tolist() == expected


def test_fit_learns_nothing():
    rule = ThresholdRule("r", "error_rate", ">", 5)
    assert rule.fit(minutes([100, 200])).get_params() == ThresholdRule("r", "error_rate", ">", 5).get_params()


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


def test_ruleset_and_windows():
    samples = minutes([1] * 20 + [9] * 3 + [1] * 7)
    rules = RuleSet([ThresholdRule("hot", "error_rate", ">", 5), ThresholdRule("cold", "error_rate", "<", 0)]).fit()
    windows = fire_windows(rules.predict(samples), "15min")
    assert windows.index.tolist() == [pd.Timestamp("2026-01-05T00:15Z")]
    assert windows.iloc[0]["rules"] == "hot"
    assert windows.iloc[0]["first_fire"] == pd.Timestamp("2026-01-05T00:20Z")
