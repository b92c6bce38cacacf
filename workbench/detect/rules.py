"""Static alert rules as estimators whose ``fit`` learns nothing.

Rules run on raw samples (1-minute data), as Prometheus evaluates alerting rules:
a condition must hold on consecutive samples for the rule's ``for`` duration
before it fires. ``drop_pct`` compares with the same minute a week earlier. A
missing sample breaks a ``for`` run (Prometheus resets pending alerts on gaps).

Because rules share the detectors' interface (``fit`` / ``predict``), the router
treats a rule verdict and a model verdict alike (ADTK's ``ThresholdAD``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from workbench.errors import DataError
from workbench.settings import Rule

__all__ = ["RuleSet", "ThresholdRule", "fire_windows"]


class ThresholdRule(BaseEstimator):
    """One rule over one metric.

    Parameters
    ----------
    name : str
    metric : str
        Column of the wide samples frame.
    op : {">", "<", "drop_pct"}
    threshold : float
        In the metric's unit, or a percentage for ``drop_pct``.
    for_ : str
        How long the condition must hold before the rule fires.
    action : {"page", "investigate"}
    """

    def __init__(self, name: str = "rule", metric: str = "error_rate", op: str = ">", threshold: float = 0.0, for_: str = "0min", action: str = "page"):
        self.name = name
        self.metric = metric
        self.op = op
        self.threshold = threshold
        self.for_ = for_
        self.action = action

    @classmethod
    def from_config(cls, rule: Rule) -> ThresholdRule:
        return cls(rule.name, rule.metric, rule.op, rule.threshold, rule.for_, rule.action)

    def fit(self, samples=None, y=None) -> ThresholdRule:
        """Learns nothing; present so rules and models share one interface."""
        if self.op not in (">", "<", "drop_pct"):
            raise ValueError(f"rule {self.name}: unknown op {self.op!r}")
        self.fitted_ = True
        return self

    def condition(self, samples: pd.DataFrame) -> pd.Series:
        """True where the condition holds on a sample (before the ``for`` duration)."""
        if self.metric not in samples:
            raise DataError(f"rule {self.name}: metric {self.metric!r} is not in the data (have {list(samples.columns)})")
        values = samples[self.metric]
        if self.op == ">":
            return values > self.threshold
        if self.op == "<":
            return values < self.threshold
        last_week = values.reindex(values.index - pd.Timedelta(days=7)).set_axis(values.index)
        return values < last_week * (1 - self.threshold / 100)

    def predict(self, samples: pd.DataFrame) -> pd.Series:
        """True on every sample where the rule is firing (the condition held for ``for_``)."""
        held = self.condition(samples).fillna(False).astype(bool)
        needed = pd.Timedelta(self.for_)
        if needed <= pd.Timedelta(0):
            return held
        # Runs of consecutive samples (a gap or a False breaks a run); fire once a run is long enough.
        step = samples.index.to_series().diff()
        expected = step.mode().iloc[0] if len(step.dropna()) else pd.Timedelta("1min")
        breaks = (~held) | (step != expected)
        run_id = breaks.cumsum()
        run_start = samples.index.to_series().groupby(run_id.to_numpy()).transform("first")
        return held & (samples.index.to_series() - run_start + expected > needed)


class RuleSet:
    """Several rules evaluated together; ``predict`` gives one boolean column per rule."""

    def __init__(self, rules: list[ThresholdRule]):
        self.rules = rules

    @classmethod
    def from_config(cls, rules: list[Rule]) -> RuleSet:
        return cls([ThresholdRule.from_config(r) for r in rules])

    def fit(self, samples=None, y=None) -> RuleSet:
        for rule in self.rules:
            rule.fit(samples)
        return self

    def predict(self, samples: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({r.name: r.predict(samples) for r in self.rules}, index=samples.index)


def fire_windows(firing: pd.DataFrame, window: str) -> pd.DataFrame:
    """Per window: ``rules`` (comma-joined names that fired) and ``first_fire`` (earliest firing sample).

    Only windows in which some rule fired are returned.
    """
    active = firing[firing.any(axis=1)]
    if active.empty:
        return pd.DataFrame(columns=["rules", "first_fire"], index=pd.DatetimeIndex([], tz="UTC"))
    slot = active.index.floor(window)
    names = np.array(active.columns)
    rows = {}
    for start, block in active.groupby(slot):
        fired = names[block.to_numpy().any(axis=0)]
        rows[start] = {"rules": ",".join(fired), "first_fire": block.index[0]}
    return pd.DataFrame.from_dict(rows, orient="index")
