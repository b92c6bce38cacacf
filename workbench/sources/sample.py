"""Deterministic sample data: six services, 1-minute metrics, events and labelled incidents.

Same seed, same data on every machine (numpy's PCG64 stream). The model per
service and minute:

* traffic = base rate x daily shape (peak mid-afternoon UTC, trough ~04:00) x
  weekday/weekend factor x slow growth x AR(1) noise, times campaign surges,
  maintenance drains and incident effects;
* CPU = idle + load x traffic, with a level that shifts a little at each deploy;
* latency p95 rises with utilisation (cubic), shifts at deploys, log-normal
  noise; p99 = p95 x a tail ratio with heavier noise;
* error rate = a binomial draw of failed requests among the minute's requests,
  so quiet night-time minutes are naturally noisier, plus short self-healing
  blips (a bad pod, client retries) that are noise, not incidents;
* every rate is then what the documented Prometheus queries return (README, "Your own
  metrics": ``rate(...[5m])`` sampled once a minute): request rate, error rate (errors
  over requests, each summed over the window) and CPU over the trailing 5 minutes; the
  latency percentiles request-weighted over them, an approximation of ``histogram_quantile``
  over five minutes of buckets (which reads a short spike somewhat higher, sooner); memory
  is a gauge, as it is. A coarser ``frequency`` averages these 1-minute values over each step;
* memory follows traffic a little, drops at each deploy (restart) and warms up;
* scrape gaps: a few minutes missing here and there, and one long exporter
  outage on some services;
* with ``drift`` on, one or two services migrate for good in the second half
  (new latency baseline, CPU profile, maybe memory level), drawn from a
  separate random stream: with drift off the data is exactly as without it.

Incidents, events and the drift are drawn by :mod:`workbench.sources.scenarios`,
which documents each incident kind and the ``migration``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench._util import atomic_path, parse_time
from workbench.config import Config
from workbench.contracts import CANONICAL_METRICS, EVENT_COLUMNS, INCIDENT_COLUMNS
from workbench.settings import SampleSettings
from workbench.sources.sample_text import TEXT_STREAM
from workbench.sources.scenarios import (
    SEVERITY,
    Change,
    Event,
    Incident,
    apply_change,
    apply_incident,
    draw_changes,
    schedule,
)
from workbench.store.files import read_parquet

__all__ = ["GENERATOR_VERSION", "PROFILES", "SampleData", "SampleSource", "ensure_sample", "generate", "sample_path"]

#: Bump when the generator's output changes, so cached files are rebuilt. 4: rates over 5 minutes.
GENERATOR_VERSION = 4


@dataclass(frozen=True)
class Profile:
    """Normal behaviour of one sample service."""

    base_rps: float  # mean requests/s on a weekday
    weekend: float  # weekend traffic factor
    peak_hour: float  # UTC hour of the daily peak
    growth: float  # traffic growth over 60 days (0.08 = +8 %)
    cpu_idle: float  # % CPU with no traffic
    cpu_peak: float  # % CPU at a normal weekday peak
    p95_ms: float  # p95 latency at low load
    p99_ratio: float  # p99 / p95
    error_pct: float  # background error rate in %
    memory_pct: float  # typical memory use in %


PROFILES: dict[str, Profile] = {
    "checkout": Profile(120, 0.85, 14, 0.06, 8, 62, 170, 2.0, 0.30, 55),
    "payments": Profile(40, 0.80, 15, 0.04, 10, 55, 210, 2.2, 0.20, 48),
    "search": Profile(300, 1.10, 19, 0.10, 12, 68, 240, 1.8, 0.40, 62),
    "catalog": Profile(200, 1.05, 18, 0.05, 6, 45, 120, 1.9, 0.15, 40),
    "auth": Profile(500, 0.70, 10, 0.03, 9, 52, 60, 2.4, 0.50, 35),
    "notifications": Profile(25, 0.90, 12, 0.02, 5, 38, 150, 2.6, 0.30, 45),
}

# How strongly a site-wide campaign reaches each service (1 = full surge).
_CAMPAIGN_REACH = {"checkout": 1.0, "search": 1.0, "catalog": 1.0, "payments": 0.8, "auth": 0.6, "notifications": 1.2}


@dataclass(frozen=True)
class SampleData:
    """The generated metrics (long form) with their incident log and events calendar."""

    metrics: pd.DataFrame
    incidents: pd.DataFrame
    events: pd.DataFrame


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise with stationary standard deviation ``sigma``.

    Built from a linear filter so 86,400 steps take milliseconds.
    """
    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    shocks[0] = rng.normal(0.0, sigma)
    return lfilter([1.0], [1.0, -phi], shocks)


def _profile_for(service: str, k: int) -> Profile:
    # Services beyond the six named ones reuse a profile, so any config works.
    return PROFILES.get(service) or list(PROFILES.values())[k % len(PROFILES)]


def _service_signals(
    service: str,
    profile: Profile,
    index: pd.DatetimeIndex,
    events: list[Event],
    incidents: list[Incident],
    changes: list[Change],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    n = len(index)
    hours = (index.hour + index.minute / 60).to_numpy(dtype=float)
    phase = 2 * np.pi * (hours - profile.peak_hour) / 24
    daily = 1 + 0.5 * np.cos(phase) + 0.1 * np.cos(2 * phase)
    weekday = index.day_of_week.to_numpy()
    weekly = np.where(weekday >= 5, profile.weekend, np.where(weekday == 0, 1.05, 1.0))
    growth = np.exp(np.log1p(profile.growth) * np.arange(n) / (60 * 24 * 60))

    signals = {
        "traffic": np.ones(n),
        "p95_factor": np.ones(n),
        "p99_factor": np.ones(n),
        "cpu_floor": np.zeros(n),
        "cpu_level": np.zeros(n),
        "cpu_factor": np.ones(n),
        "cpu_swing": np.ones(n),
        "p99_nominal": np.full(n, profile.p95_ms * profile.p99_ratio),
    }
    error_noise = np.exp(_ar1(rng, n, 0.95, 0.25))
    signals["error_p"] = profile.error_pct / 100 * error_noise
    # Self-healing blips: about one a day, 2-8 minutes, 4-10x the usual error rate.
    for i0 in np.flatnonzero(rng.random(n) < 1 / (24 * 60)):
        signals["error_p"][i0 : i0 + int(rng.integers(2, 9))] *= rng.uniform(4, 10)
    signals["memory"] = profile.memory_pct + 4 * (daily - 1) + _ar1(rng, n, 0.995, 1.0)

    for ev in events:
        if ev.window.service not in (service, "*"):
            continue
        i0, i1 = ev.window.i0, min(ev.window.i1, n)
        if ev.type == "deploy":
            # A release shifts latency and CPU a little until the next one and restarts pods.
            signals["p95_factor"][i0:] = ev.magnitude
            signals["cpu_level"][i0:] = rng.uniform(-2.5, 2.5)
            warm = np.linspace(-5.0, 0.0, min(240, n - i0))
            signals["memory"][i0 : i0 + len(warm)] += warm
            signals["error_p"][i0:i1] *= 2.5
        elif ev.type == "campaign":
            reach = 1.0 if ev.window.service == service else _CAMPAIGN_REACH.get(service, 1.0)
            surge = 1 + (ev.magnitude - 1) * reach
            length = i1 - i0
            up, down = min(30, length // 3), min(60, length // 3)
            shape = np.ones(length)
            shape[:up] = np.linspace(0, 1, up)
            shape[length - down :] = np.linspace(1, 0, down)
            signals["traffic"][i0:i1] *= 1 + (surge - 1) * shape
        elif ev.type == "maintenance":
            signals["traffic"][i0:i1] *= ev.magnitude
    # After the deploys (which reset the latency level) and before the incidents (which land on the new baseline).
    for change in changes:
        if change.service == service:
            apply_change(signals, change)
    for incident in incidents:
        if incident.window.service == service:
            apply_incident(signals, incident, rng)

    rps = profile.base_rps * daily * weekly * growth * np.exp(_ar1(rng, n, 0.9, 0.04)) * signals["traffic"]
    normal_peak = profile.base_rps * 1.6
    load = (profile.cpu_peak - profile.cpu_idle) / normal_peak
    # A migration scales the daily mean CPU by cpu_factor and the swing around it by cpu_swing.
    # The mean is the nominal one (idle + load at the base rate), not one measured from this
    # run's traffic, so the drawn factors mean the same on every service. Without drift both
    # are 1 and this is exactly idle + load x rps.
    nominal = profile.cpu_idle + load * profile.base_rps
    shape = signals["cpu_swing"] * (profile.cpu_idle + load * rps) + (signals["cpu_factor"] - signals["cpu_swing"]) * nominal
    cpu = shape + signals["cpu_level"] + _ar1(rng, n, 0.8, 1.5)
    cpu = np.maximum(cpu, signals["cpu_floor"])
    utilisation = np.minimum(rps / (normal_peak / 0.72), 1.3)
    p95 = profile.p95_ms * (1 + 0.6 * utilisation**3) * signals["p95_factor"] * np.exp(_ar1(rng, n, 0.7, 0.06))
    p99 = p95 * profile.p99_ratio * signals["p99_factor"] * np.exp(rng.normal(0, 0.1, n))
    requests = np.maximum(np.round(rps * 60), 1).astype(np.int64)
    errors = rng.binomial(requests, np.clip(signals["error_p"], 0, 1))
    # As the documented queries return them: rates over the last 5 minutes, one sample a minute.
    # (Per-minute ratios made every self-healing blip of five minutes or more at 5 % errors page
    # the critical rule, which the same rule over a 5-minute rate would not see.)
    weights = _trailing(requests)
    return {
        "request_rate": _trailing(rps),
        "error_rate": 100 * _trailing(errors) / weights,
        "latency_p95": _trailing(p95 * requests) / weights,
        "latency_p99": _trailing(p99 * requests) / weights,
        "cpu_usage": np.clip(_trailing(cpu), 0, 100),
        "memory_usage": np.clip(signals["memory"], 0, 100),
    }


def _trailing(x: np.ndarray, minutes: int = 5) -> np.ndarray:
    """Mean over the trailing ``minutes`` (fewer at the very start), as ``rate(...[5m])`` averages."""
    return pd.Series(np.asarray(x, dtype=float)).rolling(minutes, min_periods=1).mean().to_numpy()


def _gap_mask(n: int, rng: np.random.Generator, long_outage: bool) -> np.ndarray:
    """True where a scrape was missed (the sample is absent from the data)."""
    missing = np.zeros(n, dtype=bool)
    for _ in range(int(rng.poisson(5))):
        i0 = int(rng.integers(0, n))
        missing[i0 : i0 + int(rng.integers(1, 16))] = True
    if long_outage:
        i0 = int(rng.integers(n // 10, n - n // 10))
        missing[i0 : i0 + int(rng.integers(30, 181))] = True
    return missing


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def generate(settings: SampleSettings, services: list[str]) -> SampleData:
    """Generate the sample metrics, incident log and events calendar.

    Parameters
    ----------
    settings
        Seed, start date (UTC), number of days and sample frequency.
    services
        Service names; the six in :data:`PROFILES` have their own behaviour,
        others reuse those profiles in turn.

    Returns
    -------
    SampleData
        ``metrics`` in the long form of DESIGN.md (missed scrapes are absent
        rows), ``incidents`` and ``events`` in their CSV contracts.
    """
    rng = np.random.default_rng(settings.seed)
    freq = pd.Timedelta(settings.frequency)
    start = parse_time(settings.start, "source.sample.start")
    index = pd.date_range(start, periods=int(pd.Timedelta(days=settings.days) / freq), freq=freq, name="timestamp")
    if freq != pd.Timedelta("1min"):
        # The scenario calendar is in minutes; coarser data is the 1-minute data resampled.
        fine = settings.model_copy(update={"frequency": "1min"})
        data = generate(fine, services)
        wide = data.metrics.pivot_table(index="timestamp", columns=["service", "metric"], values="value")
        coarse = wide.resample(freq).mean().stack(["service", "metric"], future_stack=True).dropna()
        metrics = coarse.rename("value").reset_index()[["timestamp", "service", "metric", "value"]]
        return SampleData(metrics, data.incidents, data.events)

    events, incidents = schedule(index, list(services), rng, text_rng=np.random.default_rng([settings.seed, TEXT_STREAM]))
    # The drift has its own random stream, so the draws above and below are the same without it.
    changes = draw_changes(start, settings.days, list(services), settings.seed) if settings.drift else []
    long_outage = set(rng.choice(services, size=max(1, len(services) // 3), replace=False).tolist())
    parts = []
    for k, service in enumerate(services):
        values = _service_signals(service, _profile_for(service, k), index, events, incidents, changes, rng)
        missing = _gap_mask(len(index), rng, service in long_outage)
        keep = ~missing
        for metric in CANONICAL_METRICS:
            parts.append(
                pd.DataFrame(
                    {
                        "timestamp": index[keep],
                        "service": service,
                        "metric": metric,
                        "value": np.round(values[metric][keep], 4),
                    }
                )
            )
    metrics = pd.concat(parts, ignore_index=True)
    for col in ("service", "metric"):
        metrics[col] = metrics[col].astype("category")

    def stamp(i: int) -> pd.Timestamp:
        return index[0] + i * freq

    incident_rows = [
        {
            "id": f"INC-{k + 1:04d}",
            "service": inc.window.service,
            "start": stamp(inc.window.i0),
            "end": stamp(inc.window.i1),
            "severity": SEVERITY[inc.kind],
            "cause": inc.cause,
            "resolution": inc.resolution,
            "labelled_by": "sample-generator",
        }
        for k, inc in enumerate(incidents)
    ]
    event_rows = [
        {
            "start": stamp(ev.window.i0),
            "end": stamp(ev.window.i1),
            "service": ev.window.service,
            "type": ev.type,
            "description": ev.description,
        }
        for ev in events
    ]
    # Migrations are in the team's change calendar like any release.
    event_rows += [
        {"start": stamp(c.i0), "end": stamp(c.i0 + 5), "service": c.service, "type": "deploy", "description": c.description}
        for c in changes
    ]
    event_rows.sort(key=lambda row: (row["start"], row["service"]))
    return SampleData(metrics, _frame(incident_rows, INCIDENT_COLUMNS), _frame(event_rows, EVENT_COLUMNS))


def _fingerprint(settings: SampleSettings, services: list[str]) -> str:
    # model_dump holds every setting, the drift flag included: flipping it rebuilds the cache.
    key = json.dumps({"v": GENERATOR_VERSION, "s": settings.model_dump(), "services": services}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def sample_path(config: Config) -> Path:
    """Where the cached sample metrics for this config live (under ``data/sample/``)."""
    fp = _fingerprint(config.source.sample, list(config.services))
    return config.path("data") / "sample" / f"metrics-{fp}.parquet"


def ensure_sample(config: Config, *, force: bool = False) -> Path:
    """Generate the sample metrics if they are not cached yet; return the metrics file.

    Never writes the incident log or the events calendar: those are the team's labels.
    The sample's own labels come from :func:`sample_labels` and are written only when
    asked (``workbench sample --write-labels``). The file is written to a unique
    temporary name and renamed, so an interrupted run leaves no half-written file.
    """
    path = sample_path(config)
    if force or not path.is_file():
        data = generate(config.source.sample, list(config.services))
        with atomic_path(path) as tmp:
            data.metrics.to_parquet(tmp, index=False)
    return path


def sample_labels(config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample's ground truth for this config: ``(incidents, events)`` frames."""
    data = generate(config.source.sample, list(config.services))
    return data.incidents, data.events


class SampleSource:
    """The generated sample, cached as Parquet under ``data/sample/`` on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        # Generated here, so nothing impossible in it: the data-quality scan is skipped on every load.
        return read_parquet(ensure_sample(self.config), services, start, end, check=False)
