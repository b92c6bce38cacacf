"""Capacity forecasting: what each service has provisioned and what it costs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from workbench._registry import FORECASTERS
from workbench.contracts import (
    CAPACITY_RESOURCES,
)
from workbench.settings.types import (
    PositiveDuration,
    Strict,
    Window,
)


class ResourceCapacity(Strict):
    """What one service has provisioned of one resource, and what a unit costs.

    For ``cpu_usage`` and ``memory_usage`` (percentages of what is provisioned) the
    usage in units is ``percent / 100 * provisioned``. For ``request_rate`` a unit (a
    replica, say) serves ``per_unit`` requests per second.
    """

    provisioned: Annotated[float, Field(gt=0)]
    unit: str = "units"
    unit_cost: Annotated[float, Field(ge=0)]  # per unit per month
    per_unit: Annotated[float, Field(gt=0)] | None = None
    granularity: Annotated[float, Field(gt=0)] = 1.0  # recommendations are whole multiples of this


class CapacitySettings(Strict):
    """Capacity forecasting (``workbench.forecast.outlook``, ``workbench.forecast.capacity``)."""

    horizon: PositiveDuration = "14D"
    resolution: Window = "1h"
    method: Annotated[str, AfterValidator(FORECASTERS.check)] = "profile"
    interval: Annotated[float, Field(gt=0.5, lt=1)] = 0.9
    target_utilisation: Annotated[float, Field(gt=0, le=100)] = 80.0
    currency: str = "$"
    backtest_initial: PositiveDuration = "28D"
    backtest_every: PositiveDuration = "84h"
    services: dict[str, dict[Literal[CAPACITY_RESOURCES], ResourceCapacity]] = Field(default_factory=dict)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _request_rate_needs_per_unit(self) -> CapacitySettings:
        for service, resources in self.services.items():
            rate = resources.get("request_rate")
            if rate is not None and rate.per_unit is None:
                raise ValueError(f"services.{service}.request_rate needs per_unit (requests per second one {rate.unit} serves)")
        return self
