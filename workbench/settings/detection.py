"""The static rules, the per-service model and the hybrid routing."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from workbench.contracts import (
    CANONICAL_METRICS,
    RULE_ACTIONS,
    AlertAction,
    RuleOp,
)
from workbench.settings.types import (
    Duration,
    Strict,
)


class Rule(Strict):
    """One static alert rule.

    ``op`` is ``">"`` or ``"<"`` against ``threshold`` in the metric's unit, or
    ``"drop_pct"``: the metric fell by more than ``threshold`` percent against
    the same window one week earlier. The condition must hold for ``for_``
    (Prometheus' ``for:``) before the rule fires.
    """

    name: str
    metric: Literal[CANONICAL_METRICS]  # type: ignore[valid-type]
    op: RuleOp
    threshold: float
    for_: Duration = Field(default="0min", alias="for")
    action: AlertAction = AlertAction.PAGE

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _threshold_makes_sense(self) -> Rule:
        if self.action not in RULE_ACTIONS:
            raise ValueError(f"a rule's action is {' or '.join(RULE_ACTIONS)}, got {self.action.value!r}")
        if self.op == RuleOp.DROP_PCT and not 0 < self.threshold < 100:
            raise ValueError(f"drop_pct threshold is a percentage in (0, 100), got {self.threshold}")
        return self


class Rules(Strict):
    critical: list[Rule] = Field(default_factory=list)
    baseline: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Rules:
        for group in ("critical", "baseline"):
            names = [r.name for r in getattr(self, group)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{group}: duplicate rule names {dupes}")
        return self


class ModelSettings(Strict):
    """The per-service Isolation Forest and how it is retrained (see ``workbench.detect.forest`` and ``workbench.lifecycle.training``)."""

    n_estimators: Annotated[int, Field(ge=10, le=2000)] = 200
    alarm_confidence: Annotated[float, Field(gt=0, lt=100)] = 75.0
    confidence_period: Duration = "7D"
    train_span: Duration = "30D"
    min_train: Duration = "14D"
    retrain_every: Duration = "7D"
    incident_margin: Duration = "1h"
    random_state: int = 0


class RoutingSettings(Strict):
    """The hybrid policy: rule alone pages, model alone asks for investigation, both page with context."""

    investigate_confidence: Annotated[float, Field(gt=0, lt=100)] = 75.0
    min_windows: Annotated[int, Field(ge=1, le=96)] = 1
    # One model window at or above this confidence alerts without waiting for
    # min_windows (see workbench.alerting.postprocess); None always waits.
    alone_confidence: Annotated[float, Field(gt=0, le=100)] | None = 99.99
    group_gap: Duration = "15min"
    suppress: Duration = "1h"

    @model_validator(mode="after")
    def _alone_above_investigate(self) -> RoutingSettings:
        # Only a bar the config sets: the default must not refuse a config that asks for
        # investigation above it (then every flagged window is confident enough alone).
        explicit = "alone_confidence" in self.model_fields_set
        if explicit and self.alone_confidence is not None and self.alone_confidence < self.investigate_confidence:
            raise ValueError(
                f"alone_confidence ({self.alone_confidence:g}) is below investigate_confidence "
                f"({self.investigate_confidence:g}): a window that alerts alone must be one the model flags"
            )
        return self
