"""The business figures (``workbench.evaluate.business``, the 09 report): what on-call time costs and when it hurts.

The minutes and the hourly cost are judgement values a team sets, not fitted: toil is
``minutes_per_page`` for each page and ``minutes_per_investigation`` for each alert that asks
for investigation only, and its cost is the hours times ``hourly_cost``. A page's time of day
is read in ``timezone``: outside business hours is any time not on a business day within
``business_hours``; at night is any day within ``night`` (a span may wrap past midnight).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from workbench.settings.types import Strict

__all__ = ["WEEKDAYS", "BusinessSettings", "clock_span", "parse_clock_span"]

#: Business days are named as in ``Mon``; their position is Python's weekday (Monday = 0).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_clock_span(value: str) -> tuple[int, int]:
    """``"09:00-18:00"`` as minutes after midnight ``(540, 1080)``; the end may be before the start (it wraps).

    Raises ``ValueError`` naming the bad value.
    """
    try:
        first, last = (dt.time.fromisoformat(part.strip()) for part in str(value).split("-"))
    except ValueError as exc:
        raise ValueError(f"not a span of clock times like '09:00-18:00': {value!r}") from exc
    minutes = first.hour * 60 + first.minute, last.hour * 60 + last.minute
    if minutes[0] == minutes[1]:
        raise ValueError(f"the span starts and ends at the same time: {value!r}")
    return minutes


def clock_span(value: str) -> str:
    parse_clock_span(value)
    return value


#: A span of local clock times, ``HH:MM-HH:MM``, start included, end excluded.
ClockSpan = Annotated[str, AfterValidator(clock_span)]


class BusinessSettings(Strict):
    """What on-call time costs, and which hours count as business hours and as night."""

    #: Minutes of a person's time one page takes (woken, logged in, looked, handed over).
    minutes_per_page: Annotated[float, Field(gt=0)] = 30.0
    #: Minutes one "investigate" alert (no page) takes in working hours.
    minutes_per_investigation: Annotated[float, Field(ge=0)] = 15.0
    #: What an hour of on-call time costs, in ``currency``.
    hourly_cost: Annotated[float, Field(ge=0)] = 100.0
    currency: Annotated[str, Field(min_length=1, max_length=5)] = "$"
    #: The zone the team's clock runs in (an IANA name), for business hours and nights.
    timezone: str = "UTC"
    business_days: Annotated[list[Literal[WEEKDAYS]], Field(min_length=1)] = Field(default_factory=lambda: list(WEEKDAYS[:5]))  # type: ignore[valid-type]
    business_hours: ClockSpan = "09:00-18:00"
    night: ClockSpan = "22:00-07:00"
    #: Bootstrap resamples behind each interval.
    bootstrap: Annotated[int, Field(ge=200, le=100_000)] = 2000

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC, Europe/Berlin or America/New_York") from exc
        return value

    @field_validator("business_days")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({d for d in value if value.count(d) > 1}, key=WEEKDAYS.index)
        if repeated:
            raise ValueError(f"days given twice: {repeated}")
        return value
