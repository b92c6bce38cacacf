"""Static alert rules as estimators whose ``fit`` learns nothing.

Rules run on raw samples (1-minute data), as Prometheus evaluates alerting rules:
a condition must hold on consecutive samples for the rule's ``hold`` duration
(Prometheus' ``for``) before it fires. ``drop_pct`` compares with the same minute
a week earlier. A missing sample breaks a run (Prometheus resets pending alerts
on gaps).

Rules share the detectors' interface (``fit`` / ``predict``), and a
:class:`RuleSet` gives the same kind of per-window verdict frame as a model
(:mod:`workbench.detect.base`), so the policy treats a rule verdict and a model
verdict alike (ADTK's ``ThresholdAD``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from workbench._util import infer_step
from workbench.contracts import RULE_ACTIONS, RuleOp
from workbench.detect.base import VerdictKind, verdict_frame
from workbench.errors import DataError, DataWarning, ParameterError
from workbench.settings import Rule

__all__ = ["RuleOp", "RuleSet", "ThresholdRule", "rule_verdicts"]

ACTIONS = RULE_ACTIONS


def _samples(samples, name: str) -> pd.DataFrame:
    if not isinstance(samples, pd.DataFrame):
        raise DataError(f"rule {name}: rules read named metrics from a DataFrame, got {type(samples).__name__}")
    return samples


class ThresholdRule(BaseEstimator):
    """One rule over one metric.

    Parameters
    ----------
    name : str
    metric : str
        Column of the wide samples frame.
    op : {">", "<", "drop_pct"}
        See :class:`RuleOp`.
    threshold : float
        In the metric's unit, or a percentage for ``drop_pct``.
    hold : str
        How long the condition must hold before the rule fires (a pandas
        duration such as ``"5min"``; Prometheus' ``for``).
    action : {"page", "investigate"}

    Attributes
    ----------
    op_ : RuleOp
        The validated comparison.
    hold_ : pandas.Timedelta
        The validated hold duration.
    """

    def __init__(self, name: str = "rule", metric: str = "error_rate", op: str = ">", threshold: float = 0.0, hold: str = "0min", action: str = "page"):
        self.name = name
        self.metric = metric
        self.op = op
        self.threshold = threshold
        self.hold = hold
        self.action = action

    @classmethod
    def from_config(cls, rule: Rule) -> ThresholdRule:
        return cls(name=rule.name, metric=rule.metric, op=rule.op, threshold=rule.threshold, hold=rule.for_, action=rule.action)

    def fit(self, samples=None, y=None) -> ThresholdRule:
        """Validate the parameters; learns nothing from ``samples``.

        Present so rules and models share one interface.

        Raises
        ------
        ParameterError
            An unknown ``op`` or ``action``, or a ``hold`` that is not a non-negative duration.
        """
        try:
            op = RuleOp(self.op)
        except ValueError:
            raise ParameterError(f"rule {self.name}: unknown op {self.op!r} (known: {[o.value for o in RuleOp]})") from None
        if self.action not in ACTIONS:
            raise ParameterError(f"rule {self.name}: unknown action {self.action!r} (known: {[str(a) for a in ACTIONS]})")
        try:
            hold = pd.Timedelta(self.hold)
        except (ValueError, TypeError):
            raise ParameterError(f"rule {self.name}: hold {self.hold!r} is not a duration") from None
        if pd.isna(hold) or hold < pd.Timedelta(0):
            raise ParameterError(f"rule {self.name}: hold must be a non-negative duration, got {self.hold!r}")
        self.op_, self.hold_ = op, hold
        return self

    def condition(self, samples: pd.DataFrame) -> pd.Series:
        """True where the condition holds on a sample (before the ``hold`` duration)."""
        check_is_fitted(self, "op_")
        samples = _samples(samples, self.name)
        if self.metric not in samples:
            raise DataError(f"rule {self.name}: metric {self.metric!r} is not in the data (have {list(samples.columns)})")
        values = samples[self.metric]
        if self.op_ is RuleOp.ABOVE:
            return values > self.threshold
        if self.op_ is RuleOp.BELOW:
            return values < self.threshold
        last_week = values.reindex(values.index - pd.Timedelta(days=7)).set_axis(values.index)
        return values < last_week * (1 - self.threshold / 100)

    def predict(self, samples: pd.DataFrame) -> pd.Series:
        """True on every sample where the rule is firing (the condition held for ``hold``)."""
        held = self.condition(samples).fillna(False).astype(bool)
        if self.hold_ <= pd.Timedelta(0):
            return held
        # Runs of consecutive samples (a gap or a False breaks a run); fire once a run is long enough.
        times = samples.index.to_series()
        step = times.diff()
        # With one sample there is no run to measure; any step will do.
        expected = infer_step(samples.index, default=pd.Timedelta("1min"))
        breaks = (~held) | (step != expected)
        run_id = breaks.cumsum()
        run_start = times.groupby(run_id.to_numpy()).transform("first")
        return held & (times - run_start + expected > self.hold_)


class RuleSet(BaseEstimator):
    """Several rules evaluated together: one verdict source.

    Parameters
    ----------
    rules : list of ThresholdRule or None
        ``None`` is no rules (a system without rules).

    Attributes
    ----------
    rules_ : list of ThresholdRule
        Fitted clones of ``rules`` (the given rules are left untouched).
    """

    def __init__(self, rules: list[ThresholdRule] | None = None):
        self.rules = rules

    @classmethod
    def from_config(cls, rules: list[Rule]) -> RuleSet:
        return cls([ThresholdRule.from_config(r) for r in rules])

    def fit(self, samples=None, y=None) -> RuleSet:
        """Validate every rule (learns nothing from ``samples``).

        Raises
        ------
        ParameterError
            Two rules share a name (their columns in :meth:`predict` would collide),
            or a rule's own parameters are bad (see :meth:`ThresholdRule.fit`).
        """
        rules = list(self.rules or [])
        names = [r.name for r in rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ParameterError(f"duplicate rule names {dupes}")
        self.rules_ = [clone(r).fit(samples) for r in rules]
        return self

    def predict(self, samples: pd.DataFrame) -> pd.DataFrame:
        """One boolean column per rule (named after it): True where the rule is firing.

        A rule whose metric the data lack (a service without a p99, say) is off (never
        firing), with a :class:`~workbench.errors.DataWarning` naming it: one missing metric
        must not silence every other rule.
        """
        check_is_fitted(self, "rules_")
        samples = _samples(samples, "set")
        off = [r for r in self.rules_ if r.metric not in samples]
        if off:
            named = ", ".join(f"{r.name} ({r.metric})" for r in off)
            warnings.warn(f"rules {named} are off: the data have no such metric", DataWarning, stacklevel=2)
        firing = {r.name: r.predict(samples) if r not in off else pd.Series(False, index=samples.index) for r in self.rules_}
        return pd.DataFrame(firing, index=samples.index, dtype=bool)

    def verdicts(self, samples: pd.DataFrame, window: str) -> pd.DataFrame:
        """The rules' verdict frame per window (:mod:`workbench.detect.base`); see :func:`rule_verdicts`."""
        return rule_verdicts(self.predict(samples), window)


def rule_verdicts(firing: pd.DataFrame, window: str) -> pd.DataFrame:
    """A rule verdict frame from per-sample firings (:meth:`RuleSet.predict`).

    Only windows in which some rule fired are returned, flagged, with ``detail``
    the comma-joined names of the rules that fired and ``first_seen`` the earliest
    firing sample; ``confidence`` is NaN (a rule has none).
    """
    active = firing[firing.any(axis=1)]
    slot = active.index.floor(window)
    names = np.array(active.columns)
    starts, detail, first = [], [], []
    for start, block in active.groupby(slot):
        starts.append(start)
        detail.append(",".join(names[block.to_numpy().any(axis=0)]))
        first.append(block.index[0])
    index = pd.DatetimeIndex(starts) if starts else pd.DatetimeIndex([], tz="UTC")
    return verdict_frame(index, VerdictKind.RULE, flag=True, detail=detail or "", first_seen=first or pd.NaT)
