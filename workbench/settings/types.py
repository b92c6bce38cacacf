"""The shared building blocks of the settings: a strict base model and the duration and window types."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = ["Duration", "PositiveDuration", "Window", "Strict", "duration", "parse_window", "positive_duration"]


class Strict(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)



def parse_window(value: str) -> str:
    """Check a window width such as ``15min``: at least a minute, dividing a day evenly.

    Returns the value unchanged; raises ``ValueError`` naming the bad value.
    """
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a duration like '15min' or '1h': {value!r}") from exc
    if delta < pd.Timedelta("1min"):
        raise ValueError(f"must be at least 1min, got {value!r}")
    if pd.Timedelta("1D") % delta != pd.Timedelta(0):
        raise ValueError(f"must divide a day evenly (e.g. 5min, 15min, 1h), got {value!r}")
    return value


def duration(value: str) -> str:
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a duration like '5min': {value!r}") from exc
    if delta < pd.Timedelta(0):
        raise ValueError(f"must not be negative, got {value!r}")
    return value



def positive_duration(value: str) -> str:
    duration(value)
    if pd.Timedelta(value) <= pd.Timedelta(0):
        raise ValueError(f"must be positive, got {value!r}")
    return value



#: A non-negative duration such as ``5min``.
Duration = Annotated[str, AfterValidator(duration)]
#: A window width: at least a minute, dividing a day evenly.
Window = Annotated[str, AfterValidator(parse_window)]
#: A positive duration such as ``30s``.
PositiveDuration = Annotated[str, AfterValidator(positive_duration)]
