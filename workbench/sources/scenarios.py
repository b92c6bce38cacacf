"""What happens to the sample services: deploys, campaigns, maintenance, incidents.

The schedule is drawn from the seed before any metric is generated, and each
incident kind is injected by one function below. Magnitudes are drawn from
ranges an SRE would recognise; none was tuned against a detector.

Incident kinds (``cause`` in the incident log starts with the kind):

``error_burst``
    Errors jump to 6-30 % for 8-40 min, p99 up 10-50 %. Often right after a
    deploy. The critical rule (errors > 5 %) catches it.
``latency_spike``
    p99 climbs to 5.5-12 s for 10-45 min (a hung dependency), p95 to about a
    third of that, timeouts double the error rate. The critical rule (p99 > 5 s)
    catches it.
``memory_leak``
    Memory creeps linearly from its normal level to 88-97 % over 4-14 h, p99
    rises 20 % in the last hour (GC pressure), then a restart drops it. No
    static threshold in the old set watches memory: subtle.
``partial_outage``
    One shard fails: errors hold at 2-4 % for 30-120 min. Below the critical
    5 %; the old 1 % rule fires, together with its usual noise.
``latency_creep``
    A dependency slows: p95 and p99 ramp up 35-80 % over 1-3 h, hold 30 min,
    then recover. Whether the old p95 > 300 ms rule sees it depends on the
    service's normal latency.
``night_cpu_saturation``
    A runaway batch job holds CPU at 82-96 % for 45-150 min between 00:00 and
    05:00 UTC, while traffic is low; p95 up 30 %.
``traffic_drop``
    Upstream misrouting: requests fall 20-55 % for 20-90 min in daytime; CPU
    follows. The old rule (drop > 30 % against last week) sees the deeper ones.

Lasting changes (drift), with ``source.sample.drift`` on: not incidents, so
they go into the events calendar as a ``deploy`` (teams log such work in their
change calendar), never into the incident log. They come from their own random
stream (``[seed, DRIFT_STREAM]``): incidents, other events and all noise are the
same with drift on or off, and only the changed services differ, from their
change on. :func:`sample_changes` lists them for benchmarks and notebooks.

``migration``
    One service, or two (even odds), moves to a new cluster and runtime, each on
    its own weekday, 09:00-17:00 UTC, between 60 % of the sample and 15 days
    before its end (days 36-45 of 60): the old behaviour has been learnt first
    and at least 14 days follow. Below 38 days there is no change. From then on
    p95 and p99 sit 25-60 % higher (extra hops, a sidecar proxy, slower storage);
    the daily mean CPU is x0.6-0.8 (a faster runtime) or x1.2-1.4 (smaller nodes,
    the sidecar's share), its daily swing a further x0.7-0.9 or x1.1-1.3 (another
    autoscaler); with even odds memory sits 5-15 points higher (bigger heap).
    The cutover restarts every pod (memory warms up as after a release); traffic
    and errors stay as they were. Later incidents land on the new baseline, at
    the same absolute levels (p99 of a spike, CPU of a saturation, memory of a
    leak). The time ignores the incident schedule (an incident may span it); a
    busy service whose CPU rises can reach 100 % at its peak, clipped as in a
    campaign.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from workbench._util import parse_time
from workbench.errors import ParameterError
from workbench.settings import SampleSettings
from workbench.sources.sample_text import PHRASES, write_up

__all__ = [
    "CHANGE_COLUMNS", "CHANGE_KINDS", "DRIFT_STREAM", "INCIDENT_KINDS", "SEVERITY", "Change", "Event",
    "Incident", "Window", "apply_change", "apply_incident", "draw_changes", "sample_changes", "schedule",
]

INCIDENT_KINDS: tuple[str, ...] = (
    "error_burst",
    "latency_spike",
    "memory_leak",
    "partial_outage",
    "latency_creep",
    "night_cpu_saturation",
    "traffic_drop",
)

#: Kinds of lasting change (drift), documented with the incident kinds.
CHANGE_KINDS: tuple[str, ...] = ("migration",)

#: Second word of the drift stream's seed: any constant, but changing it moves every change.
DRIFT_STREAM = 0x6D696772

SEVERITY = {
    "error_burst": "critical",
    "latency_spike": "critical",
    "memory_leak": "major",
    "partial_outage": "major",
    "latency_creep": "minor",
    "night_cpu_saturation": "major",
    "traffic_drop": "major",
}

# (min, max) duration in minutes of each kind's labelled window.
_DURATION = {
    "error_burst": (8, 40),
    "latency_spike": (10, 45),
    "memory_leak": (240, 840),
    "partial_outage": (30, 120),
    "latency_creep": (90, 210),
    "night_cpu_saturation": (45, 150),
    "traffic_drop": (20, 90),
}


@dataclass(frozen=True)
class Window:
    """A half-open span ``[i0, i1)`` of minute indices on one service (``*`` = all)."""

    service: str
    i0: int
    i1: int

    def overlaps(self, other: Window, margin: int = 0) -> bool:
        same = self.service == other.service or "*" in (self.service, other.service)
        return same and self.i0 < other.i1 + margin and other.i0 < self.i1 + margin


@dataclass(frozen=True)
class Event:
    window: Window
    type: str
    description: str
    magnitude: float


@dataclass(frozen=True)
class Incident:
    window: Window
    kind: str
    magnitude: float
    cause: str
    resolution: str


def _minute_of_day(index: pd.DatetimeIndex, i: int) -> int:
    ts = index[i]
    return ts.hour * 60 + ts.minute


def schedule(
    index: pd.DatetimeIndex, services: list[str], rng: np.random.Generator, text_rng: np.random.Generator | None = None
) -> tuple[list[Event], list[Incident]]:
    """Draw the events and incidents for the whole sample period.

    With ``text_rng`` each incident's cause and resolution are written up as an on-call
    engineer would (:func:`workbench.sources.sample_text.write_up`); without it they are
    the short phrases. Either way ``rng`` makes the same draws.

    Five incidents of each kind for six services over 60 days (35 in all), scaled
    down for a smaller sample. Incidents start after the first week (so there is clean history to learn
    from), never overlap each other on a service (2 h apart at least), and never
    overlap a campaign or maintenance window, so every label is unambiguous.
    """
    n = len(index)
    per_day = 24 * 60
    days = n // per_day
    events: list[Event] = []

    # Deploys: about three a week per service, weekday working hours.
    for service in services:
        for day in range(days):
            weekday = (index[0] + pd.Timedelta(days=day)).day_of_week
            if weekday < 5 and rng.random() < 0.6:
                i0 = day * per_day + int(rng.integers(9 * 60, 17 * 60))
                level = float(rng.uniform(0.95, 1.07))
                events.append(Event(Window(service, i0, i0 + 5), "deploy", f"release of {service}", level))

    # Campaigns: expected surges, announced ahead; not incidents.
    campaign_targets = ["*", "checkout", "search", "catalog", "*", "checkout", "notifications"]
    for target in campaign_targets:
        day = int(rng.integers(3, days - 1))
        i0 = day * per_day + int(rng.integers(10 * 60, 17 * 60))
        length = int(rng.integers(120, 480))
        surge = float(rng.uniform(1.6, 2.6))
        label = "site-wide sale" if target == "*" else f"{target} promotion"
        events.append(Event(Window(target, i0, i0 + length), "campaign", f"{label} (x{surge:.1f} traffic)", surge))

    # Maintenance: traffic drained at night on purpose.
    for service in rng.choice(services, size=min(3, len(services)), replace=False):
        day = int(rng.integers(5, days - 1))
        i0 = day * per_day + int(rng.integers(60, 180))
        length = int(rng.integers(30, 90))
        events.append(Event(Window(str(service), i0, i0 + length), "maintenance", f"{service} node rotation, traffic drained", 0.4))

    blocking = [e.window for e in events if e.type in ("campaign", "maintenance")]
    incidents: list[Incident] = []
    # Five of each kind for the default six services x 60 days, fewer for a smaller sample.
    per_kind = max(1, round(5 * len(services) * days / (6 * 60)))
    kinds = [k for k in INCIDENT_KINDS for _ in range(min(5, per_kind))]
    rng.shuffle(kinds)
    for kind in kinds:
        lo, hi = _DURATION[kind]
        for _attempt in range(500):
            service = str(rng.choice(services))
            length = int(rng.integers(lo, hi + 1))
            day = int(rng.integers(7, days))
            if kind == "night_cpu_saturation":
                start_minute = int(rng.integers(0, 5 * 60 - length // 2))
            elif kind in ("traffic_drop", "error_burst", "latency_spike"):
                start_minute = int(rng.integers(8 * 60, 21 * 60))
            else:
                start_minute = int(rng.integers(0, per_day))
            i0 = day * per_day + start_minute
            window = Window(service, i0, i0 + length)
            if window.i1 >= n:
                continue
            if any(window.overlaps(b, margin=60) for b in blocking):
                continue
            if any(window.overlaps(other.window, margin=120) for other in incidents):
                continue
            magnitude = _draw_magnitude(kind, rng)
            cause, resolution = str(rng.choice(PHRASES[kind][0])), str(rng.choice(PHRASES[kind][1]))
            cause, resolution = write_up(kind, cause, resolution, service, text_rng) if text_rng is not None else (f"{kind}: {cause}", resolution)
            incidents.append(Incident(window, kind, magnitude, cause, resolution))
            if kind == "error_burst" and rng.random() < 0.5:
                events.append(Event(Window(service, i0 - 3, i0 + 2), "deploy", f"release of {service}", 1.0))
            break
        # else: no room left in a very small sample; it simply has fewer incidents.
    incidents.sort(key=lambda inc: inc.window.i0)
    events.sort(key=lambda ev: (ev.window.i0, ev.window.service))
    return events, incidents


def _draw_magnitude(kind: str, rng: np.random.Generator) -> float:
    return float(
        {
            "error_burst": rng.uniform(6, 30),  # error %
            "latency_spike": rng.uniform(5500, 12000),  # p99 ms
            "memory_leak": rng.uniform(88, 97),  # memory % at the peak
            "partial_outage": rng.uniform(2, 4),  # error %
            "latency_creep": rng.uniform(1.35, 1.8),  # latency factor at the peak
            "night_cpu_saturation": rng.uniform(82, 96),  # CPU %
            "traffic_drop": rng.uniform(0.45, 0.8),  # traffic factor
        }[kind]
    )


def apply_incident(signals: dict[str, np.ndarray], incident: Incident, rng: np.random.Generator) -> None:
    """Change ``signals`` (one service's arrays, modified in place) as ``incident`` would."""
    i0, i1 = incident.window.i0, incident.window.i1
    span = slice(i0, i1)
    length = i1 - i0
    m = incident.magnitude
    ramp = np.linspace(0.0, 1.0, length)
    if incident.kind == "error_burst":
        signals["error_p"][span] = m / 100 * rng.uniform(0.8, 1.2, length)
        signals["p99_factor"][span] *= rng.uniform(1.1, 1.5)
    elif incident.kind == "latency_spike":
        # p99 = p95 x tail ratio, so the p95 share of the rise is taken out of the p99 factor.
        target = np.maximum(m / signals["p99_nominal"][span], 1.0)
        p95_rise = np.maximum(target / 3, 1.0)
        signals["p95_factor"][span] *= p95_rise
        signals["p99_factor"][span] *= target / p95_rise * rng.uniform(0.95, 1.05, length)
        signals["error_p"][span] *= 2.0
    elif incident.kind == "memory_leak":
        start_level = signals["memory"][i0]
        signals["memory"][span] = start_level + (m - start_level) * ramp + rng.normal(0, 0.3, length)
        last_hour = slice(max(i0, i1 - 60), i1)
        signals["p99_factor"][last_hour] *= 1.2
        # The restart: memory falls back to its usual level and warms up again.
        after = slice(i1, min(i1 + 180, len(signals["memory"])))
        warm = np.linspace(-6.0, 0.0, after.stop - after.start)
        signals["memory"][after] += warm
    elif incident.kind == "partial_outage":
        signals["error_p"][span] = m / 100 * rng.uniform(0.85, 1.15, length)
    elif incident.kind == "latency_creep":
        up = max(1, int(length * 0.75))
        shape = np.concatenate([np.linspace(1.0, m, up), np.full(length - up, m)])
        signals["p95_factor"][span] *= shape
        signals["p99_factor"][span] *= shape
    elif incident.kind == "night_cpu_saturation":
        signals["cpu_floor"][span] = m + rng.normal(0, 1.0, length)
        signals["p95_factor"][span] *= 1.3
    elif incident.kind == "traffic_drop":
        signals["traffic"][span] *= m
    else:  # pragma: no cover - INCIDENT_KINDS is closed
        raise ParameterError(f"unknown incident kind {incident.kind!r}")


# -- lasting changes (drift) -------------------------------------------------------------

_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Change:
    """A lasting change of one service from minute ``i0`` of the sample on (a migration)."""

    service: str
    i0: int
    latency: float  # factor on the p95 and p99 baseline
    cpu_level: float  # factor on the daily mean CPU
    cpu_swing: float  # factor on the daily peak-to-trough CPU swing
    memory: float  # memory baseline shift in percentage points (0 = unchanged)
    description: str


def draw_changes(start: pd.Timestamp, days: int, services: list[str], seed: int) -> list[Change]:
    """Draw the sample's lasting changes (the ``migration`` documented above), by time.

    ``start`` is the sample's first minute (UTC, weekdays count from it), ``days`` its
    length; the draws come from ``default_rng([seed, DRIFT_STREAM])``. Returns one or
    two changes sorted by time, or none for a sample shorter than 38 days.
    """
    first, last = math.ceil(0.6 * days), days - 15
    if last < first or not services:
        return []
    rng = np.random.default_rng([seed, DRIFT_STREAM])
    candidates = range(first, last + 1)
    weekdays = [d for d in candidates if (start + pd.Timedelta(days=d)).day_of_week < 5] or list(candidates)
    count = min(len(services), 1 + int(rng.random() < 0.5))
    changes = []
    for service in rng.choice(services, size=count, replace=False):
        i0 = int(rng.choice(weekdays)) * _PER_DAY + int(rng.integers(9 * 60, 17 * 60))
        latency = float(rng.uniform(1.25, 1.6))
        cpu_level = float(rng.uniform(0.6, 0.8) if rng.random() < 0.5 else rng.uniform(1.2, 1.4))
        cpu_swing = cpu_level * float(rng.uniform(0.7, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 1.3))
        memory = float(rng.uniform(5, 15)) if rng.random() < 0.5 else 0.0
        description = f"migration of {service} to the new cluster"
        changes.append(Change(str(service), i0, latency, cpu_level, cpu_swing, memory, description))
    return sorted(changes, key=lambda c: (c.i0, c.service))


def apply_change(signals: dict[str, np.ndarray], change: Change) -> None:
    """Change ``signals`` (one service's arrays, in place) from ``change.i0`` on.

    Call it after the events and before the incidents, so incidents land on the new
    baseline. ``p99_nominal`` moves with the latency, so a ``latency_spike`` still
    reaches its absolute p99 target; ``cpu_factor`` and ``cpu_swing`` are read by the
    generator's CPU model (mean x level, swing around it x swing).
    """
    i0 = change.i0
    n = len(signals["memory"])
    signals["p95_factor"][i0:] *= change.latency
    signals["p99_nominal"][i0:] *= change.latency
    signals["cpu_factor"][i0:] = change.cpu_level
    signals["cpu_swing"][i0:] = change.cpu_swing
    signals["memory"][i0:] += change.memory
    # The cutover restarts every pod: memory warms up as after a release. Error rates are
    # left alone: numpy's binomial takes more or fewer draws as p changes, which would
    # shift every later draw of the main stream (gaps, other services).
    warm = np.linspace(-5.0, 0.0, min(240, n - i0))
    signals["memory"][i0 : i0 + len(warm)] += warm


#: Columns of :func:`sample_changes`: the service, when (UTC), the calendar entry, the drawn factors.
CHANGE_COLUMNS = ["service", "at", "description", "latency", "cpu_level", "cpu_swing", "memory"]


def sample_changes(settings: SampleSettings, services: list[str]) -> pd.DataFrame:
    """The lasting changes the sample generator applies for these settings.

    Parameters
    ----------
    settings
        The sample's settings; nothing is drawn when ``settings.drift`` is off.
    services
        The configured services, in config order.

    Returns
    -------
    pandas.DataFrame
        One row per change, by time: ``service``, ``at`` (UTC timestamp of the
        cutover, also a ``deploy`` in the events calendar), ``description``, and
        the drawn ``latency``, ``cpu_level``, ``cpu_swing`` (factors) and
        ``memory`` (percentage points). Empty when drift is off or the sample
        is shorter than 38 days.
    """
    start = parse_time(settings.start, "source.sample.start")
    changes = draw_changes(start, settings.days, list(services), settings.seed) if settings.drift else []
    rows = [{**asdict(c), "at": start + pd.Timedelta(minutes=c.i0)} for c in changes]
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
