"""The sample generator: reproducible, realistic in the ways the issue names, never shaped to a detector."""

import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, make_project

from workbench.config import load_config
from workbench.contracts import CANONICAL_METRICS, to_wide, validate_long
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.settings import SampleSettings
from workbench.sources import load_metrics
from workbench.sources.sample import (
    GENERATOR_VERSION,
    ensure_sample,
    generate,
    sample_path,
)
from workbench.sources.scenarios import INCIDENT_KINDS, sample_changes
from workbench.workflows.sample import write_sample_labels


def kind(incidents):
    return incidents["cause"].str.split(":").str[0]


def test_same_seed_same_data(full_sample, sample_config):
    again = generate(load_config(REPO / "workbench.yaml").source.sample, list(sample_config.services))
    # DataFrame.equals: exact, and seconds faster than assert_frame_equal on 3 M rows.
    assert full_sample.metrics.equals(again.metrics)
    assert full_sample.incidents.equals(again.incidents)
    assert full_sample.events.equals(again.events)


def test_other_seed_other_data(sample_config):
    settings = sample_config.source.sample.model_copy(update={"seed": 8})
    other = generate(settings, list(sample_config.services))
    mine = generate(sample_config.source.sample, list(sample_config.services))
    assert not other.metrics["value"].equals(mine.metrics["value"])


def test_shape_six_services_sixty_days_one_minute(full_sample):
    m = full_sample.metrics
    assert set(m["service"].unique()) == {"checkout", "payments", "search", "catalog", "auth", "notifications"}
    assert set(m["metric"].unique()) == set(CANONICAL_METRICS)
    span = m["timestamp"].max() - m["timestamp"].min()
    assert span >= pd.Timedelta(days=59, hours=23)
    per_series = m.groupby(["service", "metric"], observed=True).size()
    assert per_series.min() > 0.99 * 60 * 24 * 60  # a few missed scrapes, no more
    assert per_series.max() < 60 * 24 * 60  # but there are gaps
    validate_long(m.head(10_000))  # the contract holds


def test_the_committed_labels_are_the_generators(full_sample):
    # data/sample-labels/incidents.csv and events.csv are the sample's truth; regenerate with
    # `workbench sample --write-labels` after a deliberate generator change.
    committed = read_incidents(REPO / "data" / "sample-labels" / "incidents.csv")
    generated = full_sample.incidents.copy()
    assert committed["id"].tolist() == generated["id"].tolist()
    assert committed["start"].tolist() == generated["start"].tolist()
    assert committed["cause"].tolist() == generated["cause"].tolist()
    events = read_events(REPO / "data" / "sample-labels" / "events.csv")
    assert len(events) == len(full_sample.events)


def test_incidents_are_many_and_varied(full_sample):
    incidents = full_sample.incidents
    assert len(incidents) >= 30
    counts = kind(incidents).value_counts()
    assert set(counts.index) == set(INCIDENT_KINDS)
    assert counts.min() >= 4
    assert incidents["service"].nunique() >= 5
    assert incidents["id"].is_unique


def test_incidents_never_overlap_each_other_or_campaigns(full_sample):
    inc = full_sample.incidents.sort_values(["service", "start"])
    for _, rows in inc.groupby("service"):
        assert (rows["start"].iloc[1:].to_numpy() >= rows["end"].iloc[:-1].to_numpy()).all()
    blocking = full_sample.events[full_sample.events["type"].isin(["campaign", "maintenance"])]
    for ev in blocking.itertuples():
        hit = inc[(inc["start"] < ev.end) & (inc["end"] > ev.start)]
        if ev.service != "*":
            hit = hit[hit["service"] == ev.service]
        assert hit.empty, f"incident overlaps {ev.description}"


def test_events_have_deploys_campaigns_and_maintenance(full_sample):
    counts = full_sample.events["type"].value_counts()
    assert counts["deploy"] >= 6 * 8 * 2  # a couple a week per service at least
    assert counts["campaign"] >= 4
    assert counts["maintenance"] >= 1


@pytest.fixture(scope="module")
def windows(full_sample):
    """15-minute windows per service, the resolution rules and models will use."""
    return {s: to_windows(to_wide(full_sample.metrics, s), "15min") for s in full_sample.incidents["service"].unique()}


def _peak(windows, incident, metric, how="max"):
    # Windows are labelled by their start: the first one holding the incident starts at the floor.
    segment = windows[incident.service].loc[incident.start.floor("15min") : incident.end - pd.Timedelta("1ns"), metric]
    return getattr(segment, how)()


def test_classic_incidents_cross_the_critical_thresholds(full_sample, windows):
    inc = full_sample.incidents
    for row in inc[kind(inc) == "error_burst"].itertuples():
        assert _peak(windows, row, "error_rate") > 5, row.id
    for row in inc[kind(inc) == "latency_spike"].itertuples():
        assert _peak(windows, row, "latency_p99") > 5000, row.id


def test_subtle_incidents_stay_below_the_critical_thresholds(full_sample, windows):
    inc = full_sample.incidents
    subtle = inc[kind(inc).isin(["memory_leak", "partial_outage", "latency_creep", "night_cpu_saturation", "traffic_drop"])]
    assert len(subtle) >= 20
    for row in subtle.itertuples():
        assert _peak(windows, row, "error_rate") < 5, row.id
        assert _peak(windows, row, "latency_p99") < 5000, row.id


def test_subtle_incidents_leave_their_mark(full_sample, windows):
    inc = full_sample.incidents
    for row in inc[kind(inc) == "memory_leak"].itertuples():
        assert _peak(windows, row, "memory_usage") > 85, row.id
    for row in inc[kind(inc) == "partial_outage"].itertuples():
        assert 1.5 < _peak(windows, row, "error_rate", "median") < 5, row.id
    for row in inc[kind(inc) == "night_cpu_saturation"].itertuples():
        assert row.start.hour < 5 and _peak(windows, row, "cpu_usage") > 80, row.id


def test_campaigns_surge_traffic(full_sample, windows):
    ev = full_sample.events
    for row in ev[(ev["type"] == "campaign") & (ev["service"] != "*")].itertuples():
        during = windows[row.service].loc[row.start : row.end, "request_rate"].max() if row.service in windows else None
        if during is None:
            continue
        week_before = windows[row.service].loc[row.start - pd.Timedelta(days=7) : row.end - pd.Timedelta(days=7), "request_rate"].max()
        assert during > 1.3 * week_before, row.description


def test_daily_and_weekly_seasonality(full_sample):
    wide = to_wide(full_sample.metrics, "auth")["request_rate"]
    by_hour = wide.groupby(wide.index.hour).median()
    assert by_hour.max() > 2 * by_hour.min()
    by_day = wide.groupby(wide.index.day_of_week).median()
    assert by_day[[5, 6]].mean() < 0.85 * by_day[[1, 2, 3]].mean()  # auth is quieter at weekends


def test_coarser_frequency_is_the_minute_data_resampled(sample_config):
    settings = sample_config.source.sample.model_copy(update={"frequency": "5min", "days": 14})
    coarse = generate(settings, ["checkout"])
    fine = generate(settings.model_copy(update={"frequency": "1min"}), ["checkout"])
    steps = coarse.metrics["timestamp"].drop_duplicates().diff().dropna()
    assert (steps >= pd.Timedelta("5min")).all()
    assert coarse.incidents.equals(fine.incidents)


def test_loading_the_sample_never_writes_label_files(tmp_path):
    # A missing events calendar once made the loader rewrite both label files with the
    # sample's, deleting labels a person had entered.
    config = load_config(make_project(tmp_path / "p", days=14, labels=False))
    ensure_sample(config, force=True)
    load_metrics(config, source="sample", services=["checkout"])
    assert not config.path("incidents").exists() and not config.path("events").exists()
    write_sample_labels(config)
    config.path("events").unlink()
    mine = config.path("incidents").read_text() + "INC-9999,checkout,2026-09-02T00:00Z,2026-09-02T01:00Z,minor,by hand,none,me\n"
    config.path("incidents").write_text(mine)
    load_metrics(config, source="sample", services=["checkout"])
    assert config.path("incidents").read_text() == mine and not config.path("events").exists()


def test_ensure_sample_caches_and_never_overwrites_labels(tmp_path):
    config = load_config(make_project(tmp_path / "p", days=14))
    path = ensure_sample(config)
    assert path == sample_path(config) and path.is_file()
    labels = config.path("incidents")
    labels.write_text(labels.read_text() + "INC-9999,checkout,2026-09-02T00:00Z,2026-09-02T01:00Z,minor,by hand,none,me\n")
    before = path.stat().st_mtime_ns
    ensure_sample(config)
    assert path.stat().st_mtime_ns == before  # cached
    ensure_sample(config, force=True)
    assert "INC-9999" in labels.read_text()  # a reviewer's label survives regeneration


def test_profiles_are_used_for_unknown_service_names():
    config = load_config(REPO / "workbench.yaml")
    settings = config.source.sample.model_copy(update={"days": 14})
    data = generate(settings, ["alpha", "beta"])
    assert set(data.metrics["service"].astype(str)) == {"alpha", "beta"}
    assert np.isfinite(data.metrics["value"]).all()


# -- drift: the migration scenario -------------------------------------------------------

SIX = ["checkout", "payments", "search", "catalog", "auth", "notifications"]
#: The repository's default sample, pinned here so a config edit cannot move the golden digest.
PINNED = SampleSettings(seed=7, start="2026-09-01", days=60, frequency="1min", drift=True)
#: digest() of generate(PINNED with drift off, SIX): the generator without its drift scenario.
#: Drift off must keep reproducing it exactly. It was 36e095d54778c9cd, the generator before the
#: drift scenario (GENERATOR_VERSION 2), until version 4 turned every rate into a 5-minute rate
#: (the same draws, averaged). The digest reads an incident's kind, not its written-up text
#: (sample_text.py, its own random stream).
DRIFT_OFF_DIGEST = "d90c67fc509d1333"


def digest(data) -> str:
    m = data.metrics
    h = hashlib.sha256()
    h.update(pd.DatetimeIndex(m["timestamp"]).asi8.tobytes())
    h.update("\n".join(m["service"].astype(str)).encode())
    h.update("\n".join(m["metric"].astype(str)).encode())
    h.update(np.ascontiguousarray(m["value"].to_numpy(dtype="float64")).tobytes())
    kinds = data.incidents.assign(cause=data.incidents["cause"].str.split(":").str[0]).drop(columns=["resolution"])
    h.update(kinds.to_csv(index=False).encode())
    h.update(data.events.to_csv(index=False).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def drift_on(full_sample):
    config = load_config(REPO / "workbench.yaml")
    if config.source.sample == PINNED and list(config.services) == SIX:
        return full_sample  # already generated for this session
    return generate(PINNED, SIX)


@pytest.fixture(scope="module")
def drift_off():
    return generate(PINNED.model_copy(update={"drift": False}), SIX)


@pytest.fixture(scope="module")
def changes():
    return sample_changes(PINNED, SIX)


def test_drift_off_reproduces_the_generator_without_drift(drift_off):
    assert digest(drift_off) == DRIFT_OFF_DIGEST


def test_drift_changes_only_the_migrated_services_from_their_change_on(drift_on, drift_off, changes):
    assert 1 <= len(changes) <= 2
    on, off = drift_on.metrics, drift_off.metrics
    # Same random draws: the same rows (gaps included), in the same order.
    for col in ("timestamp", "service", "metric"):
        assert on[col].equals(off[col]), col
    differs = on["value"].to_numpy() != off["value"].to_numpy()
    allowed = np.zeros(len(on), dtype=bool)
    for c in changes.itertuples():
        mine = (on["service"] == c.service).to_numpy()
        allowed |= mine & (on["timestamp"] >= c.at).to_numpy()
        after_p95 = mine & (on["metric"] == "latency_p95").to_numpy() & (on["timestamp"] >= c.at).to_numpy()
        assert differs[after_p95].all(), c.service
        # Traffic and errors stay as they were (so does every error draw that follows).
        assert not differs[mine & on["metric"].isin(["request_rate", "error_rate"]).to_numpy()].any()
    assert not (differs & ~allowed).any()
    assert drift_on.incidents.equals(drift_off.incidents)


def test_the_migration_is_a_deploy_in_the_calendar(drift_on, drift_off, changes):
    extra = len(drift_on.events) - len(drift_off.events)
    assert extra == len(changes)
    ev = drift_on.events
    for c in changes.itertuples():
        row = ev[(ev["start"] == c.at) & (ev["service"] == c.service) & (ev["type"] == "deploy")]
        assert row["description"].tolist() == [f"migration of {c.service} to the new cluster"]
        assert c.description == row["description"].iloc[0]
    assert ev["start"].is_monotonic_increasing
    assert set(ev["type"]) == set(drift_off.events["type"])  # no new event type


def _week(wide: pd.DataFrame, at: pd.Timestamp, after: bool) -> pd.DataFrame:
    # Skip the day next to the change (the cutover's restart) and compare whole weeks.
    day, week = pd.Timedelta(days=1), pd.Timedelta(days=8)
    return wide.loc[at + day : at + week] if after else wide.loc[at - week : at - day]


def _swing(cpu: pd.Series) -> float:
    by_hour = cpu.groupby(cpu.index.hour).median()
    return by_hour.max() - by_hour.min()


def test_after_the_migration_the_baseline_moves_by_the_drawn_factors(drift_on, drift_off, changes):
    for c in changes.itertuples():
        on, off = to_wide(drift_on.metrics, c.service), to_wide(drift_off.metrics, c.service)
        after_on, after_off, before_on = _week(on, c.at, True), _week(off, c.at, True), _week(on, c.at, False)
        for metric in ("latency_p95", "latency_p99"):
            assert after_on[metric].median() / after_off[metric].median() == pytest.approx(c.latency, rel=0.01)
            # Against its own week before, as an SRE would see it: roughly the factor.
            assert after_on[metric].median() / before_on[metric].median() == pytest.approx(c.latency, rel=0.15)
        assert after_on["cpu_usage"].median() / after_off["cpu_usage"].median() == pytest.approx(c.cpu_level, rel=0.05)
        assert _swing(after_on["cpu_usage"]) / _swing(after_off["cpu_usage"]) == pytest.approx(c.cpu_swing, rel=0.05)
        shift = after_on["memory_usage"].median() - after_off["memory_usage"].median()
        assert shift == pytest.approx(c.memory, abs=0.5)


def test_services_that_do_not_migrate_keep_their_baseline(drift_on, changes):
    first = changes["at"].min()
    for service in sorted(set(SIX) - set(changes["service"])):
        wide = to_wide(drift_on.metrics, service)
        ratio = _week(wide, first, True)["latency_p95"].median() / _week(wide, first, False)["latency_p95"].median()
        assert ratio == pytest.approx(1.0, abs=0.1), service


def test_incidents_after_the_migration_keep_their_marks(drift_on, changes):
    # Incidents land on the new baseline; each kind still shows as it should (the
    # latency_spike's absolute target is checked in test_scenarios, none follows here).
    inc = drift_on.incidents.merge(changes[["service", "at"]], on="service")
    later = inc[inc["start"] > inc["at"]].assign(kind=kind)
    assert len(later) > 0
    for row in later.itertuples():
        windows = {row.service: to_windows(to_wide(drift_on.metrics, row.service), "15min")}
        if row.kind in ("error_burst", "latency_spike"):
            assert _peak(windows, row, "error_rate") > 5 or _peak(windows, row, "latency_p99") > 5000, row.id
        else:
            assert _peak(windows, row, "error_rate") < 5 and _peak(windows, row, "latency_p99") < 5000, row.id
        if row.kind == "night_cpu_saturation":
            assert _peak(windows, row, "cpu_usage") > 80, row.id


@pytest.mark.parametrize("days", [14, 30, 37])
def test_a_short_sample_has_no_migration(days):
    settings = PINNED.model_copy(update={"days": days})
    assert sample_changes(settings, SIX).empty
    on, off = generate(settings, ["search"]), generate(settings.model_copy(update={"drift": False}), ["search"])
    assert on.metrics.equals(off.metrics) and on.events.equals(off.events)


def test_a_coarser_sample_keeps_the_drift_setting():
    settings = PINNED.model_copy(update={"days": 40, "frequency": "5min"})
    on, off = generate(settings, ["search"]), generate(settings.model_copy(update={"drift": False}), ["search"])
    (at,) = sample_changes(settings, ["search"])["at"]
    assert "migration of search to the new cluster" in set(on.events["description"])
    p95 = [to_wide(d.metrics, "search")["latency_p95"] for d in (on, off)]
    assert p95[0][: at - pd.Timedelta("5min")].equals(p95[1][: at - pd.Timedelta("5min")])
    assert (p95[0][at + pd.Timedelta("5min") :] > p95[1][at + pd.Timedelta("5min") :]).all()


def test_a_new_generator_version_rebuilds_the_cached_sample(tmp_path, monkeypatch):
    # A cached sample from an older generator (per-minute ratios before version 4) must not be reused.
    config = load_config(make_project(tmp_path / "p", days=14, labels=False))
    before = sample_path(config)
    monkeypatch.setattr("workbench.sources.sample.GENERATOR_VERSION", GENERATOR_VERSION + 1)
    assert sample_path(config) != before


def test_flipping_drift_rebuilds_the_cached_sample(tmp_path):
    path = make_project(tmp_path / "p", days=14, labels=False)
    config = load_config(path)
    settings = yaml.safe_load(path.read_text())
    settings["source"]["sample"]["drift"] = not config.source.sample.drift
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert sample_path(load_config(path)) != sample_path(config)
