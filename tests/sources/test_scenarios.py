"""The sample's scenario calendar: a deterministic schedule, disjoint incidents, and each kind's effect."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import workbench.sources.scenarios as scenarios
from workbench.labels.incidents import read_incidents
from workbench.settings import SampleSettings
from workbench.sources.scenarios import (
    CHANGE_COLUMNS,
    CHANGE_KINDS,
    INCIDENT_KINDS,
    SEVERITY,
    Change,
    Incident,
    Window,
    apply_change,
    apply_incident,
    draw_changes,
    sample_changes,
    schedule,
)

SERVICES = ["checkout", "payments", "search", "catalog", "auth", "notifications"]
DAY = 24 * 60


def minutes(days: int) -> pd.DatetimeIndex:
    return pd.date_range("2026-09-01", periods=days * DAY, freq="1min", tz="UTC")


@pytest.fixture(scope="module")
def schedules():
    """Schedules of the default size (60 days, six services) for a few seeds, drawn once."""
    index = minutes(60)
    return {seed: schedule(index, SERVICES, np.random.default_rng(seed)) for seed in (0, 1, 2)}


def test_the_seven_kinds_and_the_migration_are_the_documented_ones():
    documented = re.findall(r"^``(\w+)``$", scenarios.__doc__, flags=re.M)
    assert documented == list(INCIDENT_KINDS) + list(CHANGE_KINDS)
    assert CHANGE_KINDS == ("migration",)
    assert len(INCIDENT_KINDS) == 7
    assert set(SEVERITY) == set(INCIDENT_KINDS)


@pytest.mark.parametrize("days, services", [(60, SERVICES), (14, SERVICES), (21, ["checkout"])])
def test_schedule_is_deterministic_for_a_seed(days, services):
    index = minutes(days)
    first = schedule(index, services, np.random.default_rng(42))
    again = schedule(index, services, np.random.default_rng(42))
    other = schedule(index, services, np.random.default_rng(43))
    assert first == again
    assert first != other
    assert len(first[0]) > 0 and len(first[1]) > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_size_has_five_of_each_kind(schedules, seed):
    _, incidents = schedules[seed]
    kinds = pd.Series([inc.kind for inc in incidents]).value_counts()
    assert kinds.to_dict() == {kind: 5 for kind in INCIDENT_KINDS}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incidents_never_overlap_on_a_service(schedules, seed):
    _, incidents = schedules[seed]
    for service in SERVICES:
        mine = sorted((inc.window for inc in incidents if inc.window.service == service), key=lambda w: w.i0)
        for before, after in zip(mine, mine[1:]):
            assert after.i0 - before.i1 >= 120, (service, before, after)  # two hours apart at least


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incidents_avoid_planned_events_and_the_first_week(schedules, seed):
    events, incidents = schedules[seed]
    planned = [e.window for e in events if e.type in ("campaign", "maintenance")]
    assert planned
    for inc in incidents:
        assert inc.window.i0 >= 7 * DAY
        assert not any(inc.window.overlaps(p, margin=60) for p in planned), inc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_incident_is_well_formed(schedules, seed):
    index = minutes(60)
    events, incidents = schedules[seed]
    assert [inc.window.i0 for inc in incidents] == sorted(inc.window.i0 for inc in incidents)
    for inc in incidents:
        assert inc.kind in INCIDENT_KINDS
        assert inc.cause.startswith(f"{inc.kind}: ")
        lo, hi = scenarios._DURATION[inc.kind]
        assert lo <= inc.window.i1 - inc.window.i0 <= hi
        assert inc.window.i1 < len(index)
        if inc.kind == "night_cpu_saturation":
            assert index[inc.window.i0].hour < 5
        if inc.kind in ("traffic_drop", "error_burst", "latency_spike"):
            assert 8 <= index[inc.window.i0].hour < 21
    assert {e.type for e in events} == {"deploy", "campaign", "maintenance"}


@pytest.mark.parametrize(
    "kind, severity",
    [
        ("error_burst", "critical"),
        ("latency_spike", "critical"),
        ("memory_leak", "major"),
        ("partial_outage", "major"),
        ("latency_creep", "minor"),
        ("night_cpu_saturation", "major"),
        ("traffic_drop", "major"),
    ],
)
def test_severity_per_kind(kind, severity):
    assert SEVERITY[kind] == severity


def test_the_incident_log_carries_the_severity_of_its_kind(sample_config):
    log = read_incidents(sample_config.path("incidents"))
    assert len(log) > 0
    kinds = log["cause"].str.split(":").str[0]
    assert set(kinds) <= set(INCIDENT_KINDS)
    assert log["severity"].tolist() == [SEVERITY[k] for k in kinds]


# -- apply_incident ------------------------------------------------------------------------

N = 2000
I0, I1 = 600, 700  # a 100-minute incident (memory_leak gets the same, shorter than usual)


def signals() -> dict[str, np.ndarray]:
    """One service's arrays as _service_signals builds them before incidents, nearly constant."""
    rng = np.random.default_rng(5)
    return {
        "traffic": np.ones(N),
        "p95_factor": np.ones(N),
        "p99_factor": np.ones(N),
        "cpu_floor": np.zeros(N),
        "cpu_level": np.zeros(N),
        "p99_nominal": np.full(N, 400.0),
        "error_p": 0.002 * np.exp(rng.normal(0, 0.1, N)),
        "memory": 55 + rng.normal(0, 0.5, N),
    }


MAGNITUDE = {
    "error_burst": 20.0,
    "latency_spike": 8000.0,
    "memory_leak": 92.0,
    "partial_outage": 3.0,
    "latency_creep": 1.6,
    "night_cpu_saturation": 90.0,
    "traffic_drop": 0.6,
}

#: What each kind changes inside its window (every other array stays as it was).
CHANGED = {
    "error_burst": {"error_p", "p99_factor"},
    "latency_spike": {"p95_factor", "p99_factor", "error_p"},
    "memory_leak": {"memory", "p99_factor"},
    "partial_outage": {"error_p"},
    "latency_creep": {"p95_factor", "p99_factor"},
    "night_cpu_saturation": {"cpu_floor", "p95_factor"},
    "traffic_drop": {"traffic"},
}


def applied(kind: str):
    before = signals()
    after = {k: v.copy() for k, v in before.items()}
    incident = Incident(Window("checkout", I0, I1), kind, MAGNITUDE[kind], f"{kind}: test", "test")
    apply_incident(after, incident, np.random.default_rng(0))
    return before, after


@pytest.mark.parametrize("kind", INCIDENT_KINDS)
def test_apply_incident_changes_only_its_window(kind):
    before, after = applied(kind)
    outside = np.ones(N, dtype=bool)
    outside[I0:I1] = False
    for name in before:
        if kind == "memory_leak" and name == "memory":
            # The restart after the leak: memory drops and warms up for three hours.
            recovery = slice(I1, I1 + 180)
            drop = after["memory"][recovery] - before["memory"][recovery]
            assert drop[0] == pytest.approx(-6.0) and (np.diff(drop) > 0).all() and drop[-1] == pytest.approx(0.0)
            outside[recovery] = False
        assert np.array_equal(after[name][outside], before[name][outside]), name
        inside_changed = not np.array_equal(after[name][I0:I1], before[name][I0:I1])
        assert inside_changed == (name in CHANGED[kind]), name


def test_error_burst_in_detail():
    before, after = applied("error_burst")
    m = MAGNITUDE["error_burst"] / 100
    inside = after["error_p"][I0:I1]
    assert (inside >= 0.8 * m).all() and (inside <= 1.2 * m).all()
    assert inside.min() > 10 * before["error_p"].max()  # a burst, not noise
    factor = after["p99_factor"][I0:I1]
    assert np.ptp(factor) == 0 and 1.1 <= factor[0] <= 1.5  # one p99 rise for the whole burst
    np.testing.assert_array_equal(after["error_p"][:I0], before["error_p"][:I0])
    np.testing.assert_array_equal(after["error_p"][I1:], before["error_p"][I1:])


@pytest.mark.parametrize(
    "kind, check",
    [
        ("traffic_drop", lambda b, a: np.allclose(a["traffic"][I0:I1], 0.6)),
        ("partial_outage", lambda b, a: ((a["error_p"][I0:I1] >= 0.0255) & (a["error_p"][I0:I1] <= 0.0345)).all()),
        ("night_cpu_saturation", lambda b, a: abs(a["cpu_floor"][I0:I1].mean() - 90) < 1 and np.allclose(a["p95_factor"][I0:I1], 1.3)),
        ("latency_creep", lambda b, a: a["p95_factor"][I1 - 1] == pytest.approx(1.6) and a["p95_factor"][I0] == pytest.approx(1.0)),
        ("latency_spike", lambda b, a: np.allclose(a["error_p"][I0:I1], 2 * b["error_p"][I0:I1]) and np.allclose(a["p95_factor"][I0:I1], 20 / 3)),
        ("memory_leak", lambda b, a: abs(a["memory"][I1 - 1] - 92) < 2 and abs(a["memory"][I0] - b["memory"][I0]) < 2),
    ],
)
def test_each_kind_reaches_its_magnitude(kind, check):
    before, after = applied(kind)
    assert check(before, after)


# -- lasting changes (drift) -------------------------------------------------------------

START = pd.Timestamp("2026-09-01", tz="UTC")


def drawn(seed: int, days: int = 60, drift: bool = True, services=SERVICES) -> pd.DataFrame:
    return sample_changes(SampleSettings(seed=seed, days=days, drift=drift), services)


def test_changes_are_deterministic_for_a_seed():
    first = drawn(7)
    assert first.equals(drawn(7))
    assert not first.equals(drawn(8))
    assert list(first.columns) == CHANGE_COLUMNS
    assert str(first["at"].dt.tz) == "UTC"


@pytest.mark.parametrize("days", [38, 45, 60, 90, 365])
@pytest.mark.parametrize("seed", range(12))
def test_changes_land_in_the_second_half_with_two_weeks_after(seed, days):
    changes = drawn(seed, days)
    end = START + pd.Timedelta(days=days)
    assert 1 <= len(changes) <= 2
    assert changes["service"].is_unique and set(changes["service"]) <= set(SERVICES)
    assert changes["at"].is_monotonic_increasing
    for c in changes.itertuples():
        assert c.at >= START + 0.6 * (end - START), c  # after the middle, with history before
        assert end - c.at >= pd.Timedelta(days=14), c
        assert c.at.day_of_week < 5 and 9 <= c.at.hour < 17, c  # a planned cutover, in working hours
        assert c.description == f"migration of {c.service} to the new cluster"


@pytest.mark.parametrize("seed", range(40))
def test_drawn_factors_stay_in_their_documented_ranges(seed):
    for c in drawn(seed).itertuples():
        assert 1.25 <= c.latency <= 1.6
        assert 0.6 <= c.cpu_level <= 0.8 or 1.2 <= c.cpu_level <= 1.4
        relative_swing = c.cpu_swing / c.cpu_level
        assert 0.7 <= relative_swing <= 0.9 or 1.1 <= relative_swing <= 1.3
        assert c.memory == 0 or 5 <= c.memory <= 15


def test_both_directions_and_counts_occur_across_seeds():
    # Even odds are even odds: over 40 seeds each branch shows up (a stuck branch would not).
    every = pd.concat([drawn(seed).assign(seed=seed) for seed in range(40)])
    assert set(every.groupby("seed").size()) == {1, 2}
    assert (every["cpu_level"] < 1).any() and (every["cpu_level"] > 1).any()
    assert (every["memory"] == 0).any() and (every["memory"] > 0).any()
    assert every["service"].nunique() == len(SERVICES)


@pytest.mark.parametrize("days", [14, 30, 37])
def test_a_sample_too_short_for_a_second_half_has_no_change(days):
    assert drawn(7, days).empty
    assert draw_changes(START, days, SERVICES, 7) == []


def test_no_change_when_drift_is_off_or_no_services():
    off = drawn(7, drift=False)
    assert off.empty and list(off.columns) == CHANGE_COLUMNS
    assert draw_changes(START, 60, [], 7) == []
    assert len(drawn(7, services=["checkout"])) == 1


CHANGE = Change("checkout", 1000, latency=1.4, cpu_level=0.7, cpu_swing=0.6, memory=10.0, description="migration")


def changed(change: Change = CHANGE):
    before = {**signals(), "cpu_factor": np.ones(N), "cpu_swing": np.ones(N)}
    after = {k: v.copy() for k, v in before.items()}
    apply_change(after, change)
    return before, after


def test_apply_change_changes_nothing_before_its_minute_and_holds_after():
    before, after = changed()
    for name in before:
        assert np.array_equal(after[name][: CHANGE.i0], before[name][: CHANGE.i0]), name
    tail = slice(CHANGE.i0, None)
    assert np.allclose(after["p95_factor"][tail], 1.4) and np.allclose(after["p99_nominal"][tail], 400 * 1.4)
    assert np.allclose(after["cpu_factor"][tail], 0.7) and np.allclose(after["cpu_swing"][tail], 0.6)
    shift = after["memory"][tail] - before["memory"][tail]
    assert shift[0] == pytest.approx(10 - 5) and np.allclose(shift[240:], 10)  # restart, then the new level
    for name in ("traffic", "error_p", "cpu_floor", "cpu_level", "p99_factor"):
        assert np.array_equal(after[name], before[name]), name


def test_a_latency_spike_after_a_change_keeps_its_absolute_p99():
    # p99 is proportional to p95_factor x p99_factor x the nominal p99 (400 ms here).
    spike = Incident(Window("checkout", 1200, 1300), "latency_spike", 8000.0, "latency_spike: test", "test")
    for change in (None, CHANGE):
        sig = changed(change)[1] if change else {**signals(), "cpu_factor": np.ones(N), "cpu_swing": np.ones(N)}
        apply_incident(sig, spike, np.random.default_rng(0))
        p99 = 400 * sig["p95_factor"][1200:1300] * sig["p99_factor"][1200:1300]
        assert np.allclose(p99, 8000, rtol=0.06), change
