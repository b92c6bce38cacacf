"""``workbench score``: the live loop (replay, catch-up, dry run, degraded model, scrape gaps,
the CLI, an unwritable sink) and its crash safety under SIGKILL.

One trained two-service project (28 days of the sample) is built per module; every test
that writes state works on its own copy of it.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import make_project
from zygote import Zygote

import workbench.workflows.score as score_module
from workbench.alerting.sinks import open_sinks
from workbench.alerting.sinks.file import FileSink
from workbench.alerting.state import AlertState
from workbench.cli import main
from workbench.config import load_config
from workbench.errors import ParameterError
from workbench.lifecycle.versions import MODEL_FILE, list_versions
from workbench.present.words import rarity_of_tail
from workbench.sources.sample import generate
from workbench.workflows.score import score
from workbench.workflows.train import train_services

SERVICES = ["checkout", "payments"]
WEEK = ("2026-09-21", "2026-09-28")


# -- the project -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A trained 28-day checkout + payments project (never written to by the tests)."""
    config = load_config(make_project(tmp_path_factory.mktemp("score") / "base", days=28, services=SERVICES))
    train_services(config)
    assert not (config.root / config.alerting.state).exists()
    return config.root


def copy_project(trained: Path, dest: Path):
    shutil.copytree(trained, dest)
    return load_config(dest / "workbench.yaml")


@pytest.fixture()
def config(trained, tmp_path):
    return copy_project(trained, tmp_path / "p")


def set_sink_path(config, path: str):
    """Point the project's only sink (a file sink) at ``path``; returns the reloaded config."""
    config_path = config.root / "workbench.yaml"
    settings = yaml.safe_load(config_path.read_text())
    settings["alerting"] = {"sinks": [{"kind": "file", "path": path}]}
    config_path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return load_config(config_path)


# -- reading what a run left ---------------------------------------------------------------
def events_path(config) -> Path:
    return open_sinks(config)["file"].path


def sink_events(config) -> list[dict]:
    return open_sinks(config)["file"].events()


def state_path(config) -> Path:
    return config.root / config.alerting.state


def snapshot(config) -> dict | None:
    """Every row of the alert state and the events file's bytes (``None`` parts when absent)."""
    tables = None
    if state_path(config).exists():
        db = sqlite3.connect(state_path(config))
        try:
            tables = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("scored", "episodes", "outbox")}
        finally:
            db.close()
    path = events_path(config)
    return {"tables": tables, "events": path.read_bytes() if path.exists() else None}


def episodes(config) -> pd.DataFrame:
    with AlertState(state_path(config)) as state:
        return state.episodes()


def outbox(config) -> pd.DataFrame:
    with AlertState(state_path(config)) as state:
        return state.outbox()


def check_story(events: list[dict], eps: pd.DataFrame) -> dict[str, list[dict]]:
    """The events file tells a consistent story per dedup_key, and the state agrees with it.

    Per key: exactly one trigger (first), at most one resolve, nothing after the resolve.
    Every resolved episode has its resolve line; an open one has none.
    """
    by_key: dict[str, list[dict]] = {}
    for event in events:
        by_key.setdefault(event["dedup_key"], []).append(event)
    for key, chain in by_key.items():
        kinds = [e["event"] for e in chain]
        assert kinds.count("trigger") == 1, (key, kinds)
        assert kinds[0] == "trigger", (key, kinds)
        assert kinds.count("resolve") <= 1, (key, kinds)
        if "resolve" in kinds:
            assert kinds[-1] == "resolve", f"{key}: an event after its resolve: {kinds}"
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), f"outbox ids out of order or repeated: {ids}"
    for ep in eps.itertuples():
        kinds = [e["event"] for e in by_key.get(ep.key, [])]
        if ep.status == "resolved":
            assert "resolve" in kinds, f"{ep.key} is resolved in the state but the file has {kinds}"
        else:
            assert ep.status == "open" and "resolve" not in kinds, (ep.key, ep.status, kinds)
    return by_key


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


# -- 1. replay ---------------------------------------------------------------------------
def test_replay_scores_every_window_and_tells_a_consistent_story(config):
    result = score(config, start=WEEK[0], end=WEEK[1])

    assert not result.dry_run and not result.degraded
    assert [c.service for c in result.services] == SERVICES
    for c in result.services:
        assert (c.windows, c.first, c.last) == (672, "2026-09-21 00:00:00+00:00", "2026-09-27 23:45:00+00:00"), c
    with AlertState(state_path(config)) as state:
        assert all(state.last_scored(s) == pd.Timestamp("2026-09-27T23:45Z") for s in SERVICES)
    eps = episodes(config)
    assert len(eps) >= 1, "the week holds incidents: a replay that opens nothing tests nothing"
    by_key = check_story(sink_events(config), eps)
    assert set(by_key) == set(eps["key"]), "every episode's trigger reached the file, and nothing else did"
    assert (outbox(config)["state"] == "delivered").all()
    events = sum(c.events for c in result.services)
    assert result.delivery.delivered == {"file": events} and len(sink_events(config)) == events
    # How unusual: each model episode keeps its worst window's tail, in words on its pages.
    model_eps = eps[eps["source"] != "rule"]
    assert len(model_eps) >= 1 and model_eps["log10_tail"].notna().all()
    period = int(pd.Timedelta(config.model.confidence_period) / pd.Timedelta(config.window))
    assert all(u == rarity_of_tail(t, period) for t, u in zip(model_eps["log10_tail"], model_eps["unusual"], strict=True))
    pages = [e for e in sink_events(config) if e.get("source") in ("model", "both")]
    assert pages and all(e["unusual"].startswith("once in") and e["unusual"] in e["summary"] for e in pages)
    assert eps.loc[eps["source"] == "rule", "unusual"].eq("").all()

    before = snapshot(config)
    again = score(config, start=WEEK[0], end=WEEK[1])
    assert [c.windows for c in again.services] == [0, 0]
    assert again.delivery.delivered == {}
    assert snapshot(config) == before, "a repeated replay must write nothing"


# -- 2. catch-up, no-op, the clock -----------------------------------------------------------
def test_first_live_run_scores_only_the_newest_complete_window(config):
    result = score(config, at="2026-09-22T00:07Z")
    for c in result.services:
        assert (c.windows, c.first, c.last) == (1, "2026-09-21 23:45:00+00:00", "2026-09-21 23:45:00+00:00"), c
    with AlertState(state_path(config)) as state:
        assert state.last_scored("checkout") == pd.Timestamp("2026-09-21T23:45Z")


def test_a_missed_run_catches_up(config):
    score(config, at="2026-09-22T00:07Z")
    result = score(config, at="2026-09-22T01:07Z")  # the runs at 00:22, 00:37 and 00:52 were missed
    for c in result.services:
        assert (c.windows, c.first, c.last) == (4, "2026-09-22 00:00:00+00:00", "2026-09-22 00:45:00+00:00"), c


def test_a_rerun_at_the_same_time_is_a_no_op(config):
    score(config, at="2026-09-22T00:07Z")
    score(config, at="2026-09-22T01:07Z")
    before = snapshot(config)
    result = score(config, at="2026-09-22T01:07Z")
    assert [c.windows for c in result.services] == [0, 0]
    assert snapshot(config) == before
    # At the exact end of the last scored window the clock has not gone back: still a no-op.
    assert [c.windows for c in score(config, at="2026-09-22T01:00Z").services] == [0, 0]
    assert snapshot(config) == before


def test_a_clock_before_the_last_scored_window_is_refused_and_writes_nothing(config):
    score(config, at="2026-09-22T00:07Z")
    score(config, at="2026-09-22T01:07Z")
    with AlertState(state_path(config)) as state:
        last = state.last_scored("checkout")
    before = snapshot(config)
    too_early = last + pd.Timedelta(config.window) - pd.Timedelta(seconds=1)
    for at in (too_early.isoformat(), "2026-09-22T00:07Z", "2026-09-21T12:00Z"):
        with pytest.raises(ParameterError, match="clock went backwards"):
            score(config, at=at)
        assert snapshot(config) == before, at


def test_a_clock_behind_any_service_writes_nothing_for_any_service(config):
    score(config, ["payments"], at="2026-09-22T01:07Z")
    before = snapshot(config)
    with pytest.raises(ParameterError, match="clock went backwards"):
        score(config, at="2026-09-22T00:50Z")  # behind payments (scored up to 01:00), not checkout
    assert snapshot(config) == before


# -- 3. dry run ----------------------------------------------------------------------------
def test_dry_run_writes_nothing_but_reports_what_it_would_do(trained, tmp_path):
    config = copy_project(trained, tmp_path / "p")
    dry = score(config, start=WEEK[0], end=WEEK[1], dry_run=True)

    assert dry.dry_run and [c.windows for c in dry.services] == [672, 672]
    assert sum(c.opened for c in dry.services) >= 1, "the dry run must still report the episodes it would open"
    assert dry.delivery.delivered == {}
    assert not events_path(config).exists()
    with AlertState(state_path(config)) as state:
        assert all(state.last_scored(s) is None for s in SERVICES)
        assert state.episodes().empty and state.outbox().empty

    real = score(config, start=WEEK[0], end=WEEK[1])
    assert [c.windows for c in real.services] == [672, 672], "the dry run must not have marked anything scored"

    def counts(result) -> list[tuple]:
        return [(c.service, c.opened, c.updated, c.resolved, c.events) for c in result.services]

    assert counts(dry) == counts(real)

    # A live dry run does not move the clock either.
    live = copy_project(trained, tmp_path / "live")
    assert [c.windows for c in score(live, at="2026-09-22T01:07Z", dry_run=True).services] == [1, 1]
    assert snapshot(live)["tables"] == {"scored": [], "episodes": [], "outbox": []}
    assert [c.windows for c in score(live, at="2026-09-22T01:07Z").services] == [1, 1]


def test_cli_dry_run(config, capsys):
    rc, out, _ = run_cli(capsys, "--config", str(config.root / "workbench.yaml"), "score", "--from", "2026-09-23",
                         "--to", "2026-09-24", "--services", "checkout", "--dry-run", "--json")
    assert rc == 0
    report = json.loads(out)
    assert report["dry_run"] is True and report["services"][0]["windows"] == 96
    assert report["services"][0]["opened"] >= 1
    assert not events_path(config).exists()
    assert snapshot(config)["tables"] == {"scored": [], "episodes": [], "outbox": []}


# -- 4. model missing or tampered: the rules still page ------------------------------------
def critical_incident(config) -> dict:
    """A checkout incident that one of the sample's critical rules (errors > 5 %, p99 > 5 s) must catch."""
    incidents = pd.read_csv(config.path("incidents"))
    kind = incidents["cause"].str.split(":").str[0].str.strip()
    chosen = incidents[(incidents["service"] == "checkout") & kind.isin(["error_burst", "latency_spike"])]
    assert not chosen.empty, "the sample has no critical checkout incident in 28 days"
    incident = chosen.iloc[0].to_dict()
    return {**incident, "start": pd.Timestamp(incident["start"]), "end": pd.Timestamp(incident["end"])}


def assert_rules_paged(config, capsys, incident, extra_check) -> None:
    day = incident["start"].floor("D")
    rc, out, err = run_cli(capsys, "--config", str(config.root / "workbench.yaml"), "score", "--from", day.isoformat(),
                           "--to", (day + pd.Timedelta(days=1)).isoformat(), "--services", "checkout", "--json")
    assert rc == 1, (out, err)
    assert "degraded" in err
    report = json.loads(out)
    assert report["degraded"] is True
    cycle = report["services"][0]
    assert cycle["windows"] == 96 and cycle["model"].startswith("skipped")
    extra_check(cycle["model"])

    eps = episodes(config)
    width = pd.Timedelta(config.window)
    paged = eps[(eps["source"] == "rule") & (eps["action"] == "page")
                & (eps["opened"] >= incident["start"].floor(width)) & (eps["opened"] <= incident["end"])]
    assert len(paged) == 1, f"no rule page for {incident['id']} ({incident['start']} to {incident['end']}):\n{eps}"
    assert (eps["source"] == "rule").all(), "without a model only the rules can alert"
    by_key = check_story(sink_events(config), eps)
    assert by_key[paged["key"].iloc[0]][0]["action"] == "page"


def test_missing_model_degrades_but_the_rules_still_page(config, capsys):
    incident = critical_incident(config)
    shutil.rmtree(config.path("models"))
    assert_rules_paged(config, capsys, incident, lambda status: None)


def test_tampered_model_is_never_unpickled_and_the_rules_still_page(config, capsys, monkeypatch):
    incident = critical_incident(config)
    newest = list_versions(config, "checkout")[-1]["version"]
    path = config.path("models") / "checkout" / newest / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    calls = []

    def no_unpickling(*args, **kwargs):
        calls.append(args)
        raise AssertionError("joblib.load was called on a model whose checksum does not match")

    monkeypatch.setattr("joblib.load", no_unpickling)  # versions imports joblib where it loads

    def mentions_checksum(status: str) -> None:
        assert "checksum" in status, status

    assert_rules_paged(config, capsys, incident, mentions_checksum)
    assert calls == []


# -- 5. a scrape gap is no verdict -----------------------------------------------------------
GAPS = {
    # Inside checkout's model episode of 2026-09-23 (opened 13:30): counted as normal it would resolve it.
    "in_episode": (pd.Timestamp("2026-09-23T14:00Z"), pd.Timestamp("2026-09-23T15:00Z")),
    # A quiet hour: counted as an anomaly it would open one.
    "quiet": (pd.Timestamp("2026-09-24T10:00Z"), pd.Timestamp("2026-09-24T11:00Z")),
}


def test_a_scrape_gap_neither_opens_nor_resolves_an_episode(tmp_path):
    metrics_path = tmp_path / "m.parquet"
    config = load_config(make_project(tmp_path / "p", days=28, services=SERVICES,
                                      source={"kind": "files", "sample": {"days": 28}, "files": {"path": str(metrics_path)}}))
    metrics = generate(config.source.sample, SERVICES).metrics
    metrics = metrics[metrics["service"] == "checkout"]
    for start, end in GAPS.values():
        metrics = metrics[~((metrics["timestamp"] >= start) & (metrics["timestamp"] < end))]
    metrics.to_parquet(metrics_path)
    train_services(config, ["checkout"])

    result = score(config, ["checkout"], start="2026-09-23", end="2026-09-25")

    cycle = result.services[0]
    assert (cycle.windows, cycle.last, cycle.model) == (192, "2026-09-24 23:45:00+00:00", "ok"), "windows in a gap count as scored"
    with AlertState(state_path(config)) as state:
        assert state.last_scored("checkout") == pd.Timestamp("2026-09-24T23:45Z")
    eps = episodes(config)
    for start, end in GAPS.values():
        inside = eps[(eps["opened"] >= start) & (eps["opened"] < end)]
        assert inside.empty, f"an episode opened inside the scrape gap {start} to {end}:\n{inside}"
    start, end = GAPS["in_episode"]
    spanning = eps[(eps["opened"] < start) & (eps["resolved"].isna() | (eps["resolved"] > start))]
    assert len(spanning) == 1, f"the test needs an episode open when the gap starts:\n{eps}"
    resolved = spanning["resolved"].iloc[0]
    assert resolved is None or pd.isna(resolved) or resolved > end, f"the gap's windows counted as normal: resolved at {resolved}"
    check_story(sink_events(config), eps)
    assert [c.windows for c in score(config, ["checkout"], start="2026-09-23", end="2026-09-25").services] == [0]


# -- 6. the CLI ------------------------------------------------------------------------------
def test_cli_score_and_alerts_json(config, capsys):
    cfg = str(config.root / "workbench.yaml")
    rc, out, err = run_cli(capsys, "--config", cfg, "score", "--from", WEEK[0], "--to", WEEK[1], "--json")
    assert rc == 0, err
    report = json.loads(out)
    assert report["degraded"] is False and report["dry_run"] is False
    assert [(s["service"], s["windows"], s["model"]) for s in report["services"]] == [(s, 672, "ok") for s in SERVICES]
    events = sum(s["events"] for s in report["services"])
    assert events >= 1
    assert report["delivery"] == {"delivered": {"file": events}, "retried": {}, "dead": {}, "skipped": {}}
    assert len(sink_events(config)) == events

    rc, out, _ = run_cli(capsys, "--config", cfg, "alerts", "--json")
    assert rc == 0

    def strict(name):
        raise AssertionError(f"{name} is not JSON: a missing number must be null")

    listing = json.loads(out, parse_constant=strict)
    assert all({"unusual", "log10_tail"} <= set(e) for e in listing["open_episodes"])
    open_keys = sorted(episodes(config).query("status == 'open'")["key"])
    assert sorted(e["key"] for e in listing["open_episodes"]) == open_keys
    assert listing["backlog"] == {} and listing["dead_letters"] == []


def replay_checkout(capsys, config, start: str, end: str) -> tuple[int, dict]:
    rc, out, err = run_cli(capsys, "--config", str(config.root / "workbench.yaml"), "score", "--from", start, "--to", end,
                           "--services", "checkout", "--json")
    assert out.strip(), err
    return rc, json.loads(out)


def open_episode_behind_a_broken_sink(config, capsys):
    """Replay checkout up to 14:00 on 2026-09-23 (an episode opened at 13:30) with the sink pointing at a folder."""
    (config.root / "sink-is-a-folder").mkdir()
    config = set_sink_path(config, "sink-is-a-folder")
    rc, report = replay_checkout(capsys, config, "2026-09-23", "2026-09-23T14:00")
    eps = episodes(config)
    assert list(eps["status"]) == ["open"] and eps["opened"].iloc[0] < pd.Timestamp("2026-09-23T14:00Z"), eps
    return config, rc, report, eps["key"].iloc[0]


def test_cli_unwritable_sink_keeps_events_pending_until_fixed(config, capsys):
    config, rc, report, key = open_episode_behind_a_broken_sink(config, capsys)

    # Delivery trouble does not fail the run (exit 1 is for a degraded model): the events wait.
    assert rc == 0
    assert report["delivery"]["delivered"] == {} and report["delivery"]["retried"].get("file", 0) >= 1
    box = outbox(config)
    assert len(box) >= 1 and (box["state"] == "pending").all(), box
    assert (box["attempts"] >= 1).all() and box["next_attempt"].notna().all()
    assert box["error"].str.contains("cannot append").all(), box["error"].tolist()
    rc, out, _ = run_cli(capsys, "--config", str(config.root / "workbench.yaml"), "alerts", "--json")
    listing = json.loads(out)
    assert rc == 0 and [e["key"] for e in listing["open_episodes"]] == [key]
    assert listing["backlog"] == {"file": len(box)} and listing["dead_letters"] == []

    # Fixed: the next run (no new event of its own) delivers the backlog, later ones the rest.
    config = set_sink_path(config, "data/alerts/events.jsonl")
    rc, report = replay_checkout(capsys, config, "2026-09-23T14:00", "2026-09-23T14:30")
    assert rc == 0 and report["delivery"]["delivered"] == {"file": len(box)}
    assert [e["event"] for e in sink_events(config)] == ["trigger"]
    rc, report = replay_checkout(capsys, config, "2026-09-23T14:30", "2026-09-25")
    assert rc == 0
    events = sink_events(config)
    assert [(e["dedup_key"], e["event"]) for e in events] == [(key, "trigger"), (key, "resolve")]
    check_story(events, episodes(config))
    assert (outbox(config)["state"] == "delivered").all()
    before = snapshot(config)
    replay_checkout(capsys, config, "2026-09-23", "2026-09-25")
    assert snapshot(config) == before, "delivered events are not sent again"


def test_fixed_sink_gets_the_backlog_even_when_the_episode_resolves_in_the_same_run(config, capsys):
    config, _, _, key = open_episode_behind_a_broken_sink(config, capsys)
    config = set_sink_path(config, "data/alerts/events.jsonl")
    replay_checkout(capsys, config, "2026-09-23T14:00", "2026-09-25")
    assert [(e["dedup_key"], e["event"]) for e in sink_events(config)] == [(key, "trigger"), (key, "resolve")]


# -- 7. crash safety -------------------------------------------------------------------------
class Killed(BaseException):
    """Stands for SIGKILL at one exact point (not an Exception: nothing may catch it)."""


EPISODE_COLUMNS = ["key", "status", "opened", "resolved", "action", "source"]


def story(events: list[dict]) -> list[tuple]:
    return [(e["dedup_key"], e["event"], e["window"], e["action"], e["source"]) for e in events]


@pytest.fixture(scope="module")
def clean_week(trained, tmp_path_factory):
    """A clean replay of checkout's week: (the events file's story, the episodes)."""
    config = copy_project(trained, tmp_path_factory.mktemp("clean") / "p")
    score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    events, eps = sink_events(config), episodes(config)
    check_story(events, eps)
    assert [e["event"] for e in events] == ["trigger", "resolve"], "the crash tests expect one episode that opens and resolves"
    return story(events), eps[EPISODE_COLUMNS]


def assert_same_as_clean(config, clean_week) -> None:
    events, eps = sink_events(config), episodes(config)
    check_story(events, eps)
    assert story(events) == clean_week[0]
    pd.testing.assert_frame_equal(eps[EPISODE_COLUMNS], clean_week[1])
    box = outbox(config)
    assert set(box["state"]) == {"delivered"}, box
    with AlertState(state_path(config)) as state:
        assert state.last_scored("checkout") == pd.Timestamp(WEEK[1], tz="UTC") - pd.Timedelta(config.window)


def replay_in_pieces(config, cuts: list[str]) -> None:
    for start, end in zip([WEEK[0], *cuts], [*cuts, WEEK[1]]):
        score(config, ["checkout"], start=start, end=end)


def test_a_replay_in_pieces_equals_one_replay(config, clean_week):
    """Each run loads only a few hours before its first window: where a run starts (after a
    crash, a missed run) must not change any verdict. Cuts before, inside and after the episode."""
    replay_in_pieces(config, ["2026-09-22T07:00", "2026-09-23T13:00", "2026-09-23T14:15", "2026-09-23T15:00", "2026-09-23T15:45", "2026-09-25"])
    assert_same_as_clean(config, clean_week)


def test_a_replay_cut_after_the_first_flagged_window_equals_one_replay(config, clean_week):
    replay_in_pieces(config, ["2026-09-23T13:45"])  # the episode's first window is 13:30
    assert_same_as_clean(config, clean_week)


@pytest.mark.parametrize("kind", ["trigger", "resolve"])
def test_killed_inside_a_cycle_transaction_the_rerun_redoes_it(config, clean_week, monkeypatch, kind):
    enqueue = AlertState.enqueue

    def killed_after_enqueue(self, sinks, episode, event, payload, created):
        enqueue(self, sinks, episode, event, payload, created)
        if event == kind:
            raise Killed  # the episode and its events are written, the transaction not committed

    with monkeypatch.context() as m:
        m.setattr(AlertState, "enqueue", killed_after_enqueue)
        with pytest.raises(Killed):
            score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    assert [e["event"] for e in sink_events(config)] == (["trigger"] if kind == "resolve" else [])
    assert (outbox(config)["event"] != kind).all(), "the killed transaction left rows behind"
    score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    assert_same_as_clean(config, clean_week)


@pytest.mark.parametrize("kind", ["trigger", "resolve"])
def test_killed_after_the_sink_wrote_the_line_the_rerun_does_not_repeat_it(config, clean_week, monkeypatch, kind):
    send = FileSink.send

    def killed_after_send(self, row):
        send(self, row)
        if row["event"] == kind:
            raise Killed  # on disk, not yet marked delivered

    with monkeypatch.context() as m:
        m.setattr(FileSink, "send", killed_after_send)
        with pytest.raises(Killed):
            score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    assert [e["event"] for e in sink_events(config)][-1] == kind
    assert list(outbox(config).query("event == @kind")["state"]) == ["pending"]
    score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    assert_same_as_clean(config, clean_week)


def test_killed_between_commit_and_delivery_the_trigger_is_still_delivered(trained, tmp_path, monkeypatch, clean_week):
    crashed = copy_project(trained, tmp_path / "crashed")
    real = score_module.deliver

    def killed(state, sinks, *args, **kwargs):
        # The run opens by draining what earlier runs left; die at the first real hand-over.
        if any(state.pending(name) for name in sinks):
            raise Killed
        return real(state, sinks, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr("workbench.workflows.score.deliver", killed)
        with pytest.raises(Killed):
            score(crashed, ["checkout"], start=WEEK[0], end=WEEK[1])  # dies right after the first trigger's commit
    assert list(outbox(crashed)["state"]) == ["pending"]
    score(crashed, ["checkout"], start=WEEK[0], end=WEEK[1])
    assert_same_as_clean(crashed, clean_week)


def test_sigkill_at_random_moments_changes_nothing(trained, tmp_path):
    """25 real CLI runs SIGKILLed at seeded random moments, one run to the end: as a clean run."""

    def argv(config) -> list[str]:
        return ["--config", str(config.root / "workbench.yaml"), "score", "--from", WEEK[0], "--to", WEEK[1], "--services", "checkout"]

    def progress(config) -> str | None:
        """The last scored window and the outbox's states: how far the killed runs got."""
        if not state_path(config).exists():
            return None
        with AlertState(state_path(config)) as state:
            last = state.last_scored("checkout")
            states = dict(Counter(state.outbox()["state"]))
        return f"{last:%d %H:%M} {states}" if last is not None else None

    clean = copy_project(trained, tmp_path / "clean")
    crashed = copy_project(trained, tmp_path / "crashed")
    zygote = Zygote(tmp_path)
    kills: list[tuple] = []
    try:
        status, duration = zygote.run(argv(clean))
        assert status == 0
        rng = random.Random(20260921)
        # Ascending: in random order an early long delay lets a run finish and every later
        # kill hits a no-op; sorted, the kills sweep through the run from loading to the end.
        for delay in sorted(rng.uniform(0.2, max(duration, 0.3)) for _ in range(25)):
            status, _ = zygote.run(argv(crashed), kill_after=delay)
            assert status in (0, -signal.SIGKILL), f"a run failed on its own (status {status}); before it: {kills}"
            kills.append((round(delay, 2), status, progress(crashed)))
        status, _ = zygote.run(argv(crashed))
        assert status == 0
    finally:
        zygote.close()
    print(f"clean run {duration:.2f} s; kills (delay, status, progress): {kills}")
    assert sum(1 for _, s, _ in kills if s == -signal.SIGKILL) >= 10, f"too few runs were killed mid-way to test anything: {kills}"

    clean_events, crashed_events = sink_events(clean), sink_events(crashed)
    check_story(clean_events, episodes(clean))
    by_key = check_story(crashed_events, episodes(crashed))  # one trigger per key, at most one resolve, none after it
    assert len(by_key) >= 1
    assert set(by_key) == {e["dedup_key"] for e in clean_events}, f"kills: {kills}"
    assert story(crashed_events) == story(clean_events), f"kills: {kills}"
    pd.testing.assert_frame_equal(episodes(crashed)[EPISODE_COLUMNS], episodes(clean)[EPISODE_COLUMNS])
    box = outbox(crashed)
    assert not (box["state"] == "pending").any(), box
    assert set(box["state"]) == {"delivered"}, box
    assert len(box) == len(outbox(clean)), "a killed cycle left extra outbox rows"
    with AlertState(state_path(crashed)) as state:
        assert state.last_scored("checkout") == pd.Timestamp(WEEK[1], tz="UTC") - pd.Timedelta(clean.window)


def test_two_runs_at_once_one_waits_and_every_event_goes_out_once(trained, tmp_path, clean_week):
    """Two real processes replaying the same week at the same moment (overlapping cron runs)."""
    import subprocess
    import sys

    config = copy_project(trained, tmp_path / "p")
    argv = [sys.executable, "-m", "workbench.cli", "--config", str(config.root / "workbench.yaml"), "score", "--from", WEEK[0], "--to", WEEK[1], "--services", "checkout", "--json"]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    scored = sorted(json.loads(out)["services"][0]["windows"] for out, _ in results)
    assert scored == [0, 7 * 96]  # the second waited for the first, then found every window scored
    assert_same_as_clean(config, clean_week)


# -- 7. the challenger scores in the shadow ----------------------------------------------------
def add_challenger(config, trained_before: str, seed: int = 1) -> str:
    """Train checkout's recipe on the data before ``trained_before`` (another seed) and make it the challenger."""
    from workbench.features.windows import to_windows
    from workbench.labels.incidents import read_events, read_incidents
    from workbench.lifecycle.aliases import CHALLENGER, set_alias
    from workbench.lifecycle.training import describe_model, train_latest
    from workbench.lifecycle.versions import save_model
    from workbench.sources import load_service

    windows = to_windows(load_service(config, "checkout", end=trained_before), config.window, config.max_fill)
    settings = config.model.model_copy(update={"random_state": seed})
    model = train_latest("checkout", windows, read_incidents(config.path("incidents")), read_events(config.path("events")), settings)
    version = save_model(config, model, describe_model(model)).name
    set_alias(config, "checkout", CHALLENGER, version, reason="test", action="challenger")
    return version


def stored_scores(config):
    with AlertState(state_path(config)) as state:
        return state.window_scores("checkout")


def test_a_challenger_shadow_scores_every_window_and_never_pages(config, clean_week):
    version = add_challenger(config, "2026-09-20")
    champion = list_versions(config, "checkout")[0]["version"]
    result = score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    cycle = result.services[0]
    assert (cycle.challenger, cycle.shadow, cycle.model) == (version, "ok", "ok") and not result.degraded
    assert_same_as_clean(config, clean_week)  # the champion alone decides what pages
    scores = stored_scores(config)
    per_role = scores.groupby("role")["window"].nunique()
    assert per_role["champion"] == per_role["challenger"] == cycle.windows == 7 * 96
    assert set(scores[scores["role"] == "champion"]["version"]) == {champion}
    assert set(scores[scores["role"] == "challenger"]["version"]) == {version}
    shadow = scores[scores["role"] == "challenger"].set_index("window")["confidence"]
    ours = scores[scores["role"] == "champion"].set_index("window")["confidence"]
    assert shadow.notna().mean() > 0.9 and not shadow.equals(ours)  # another model, scored for real


def test_a_challenger_never_shadow_scores_windows_it_trained_on(config):
    add_challenger(config, "2026-09-24")
    score(config, ["checkout"], start=WEEK[0], end=WEEK[1])
    scores = stored_scores(config)
    shadow = scores[scores["role"] == "challenger"]["window"]
    assert shadow.min() == pd.Timestamp("2026-09-24T00:00Z") and len(shadow) == 4 * 96  # from the end of its training data on
    assert (scores["role"] == "champion").sum() == 7 * 96


def test_a_damaged_challenger_costs_its_evidence_only(config, clean_week, capsys):
    version = add_challenger(config, "2026-09-20")
    path = config.path("models") / "checkout" / version / MODEL_FILE
    path.write_bytes(path.read_bytes()[:100])
    rc, out, err = run_cli(capsys, "--config", str(config.root / "workbench.yaml"), "score", "--services", "checkout", "--from", WEEK[0], "--to", WEEK[1])
    assert rc == 0, err  # not degraded: the champion paged as ever
    assert f"challenger {version} shadow skipped" in out and "could not shadow-score" in err and "checksum" in err
    assert_same_as_clean(config, clean_week)
    assert set(stored_scores(config)["role"]) == {"champion"}


def test_without_a_model_a_scrape_gap_does_not_resolve_a_rules_page(tmp_path):
    """Rules-only (nothing trained): quiet windows with samples resolve a rules page, but the
    empty windows of a gap inside it do not, in a replay as in the live loop."""
    metrics_path = tmp_path / "m.parquet"
    config = load_config(make_project(tmp_path / "p", days=28, services=SERVICES,
                                      source={"kind": "files", "sample": {"days": 28}, "files": {"path": str(metrics_path)}}))
    metrics = generate(config.source.sample, SERVICES).metrics
    metrics = metrics[metrics["service"] == "checkout"]
    metrics.to_parquet(metrics_path)
    score(config, ["checkout"], start="2026-09-08", end="2026-09-16")
    eps = episodes(config)
    assert len(eps) >= 1 and eps["resolved"].notna().all(), f"rules-only pages resolve on quiet windows:\n{eps}"
    first = eps.iloc[0]
    # Now the same data with a 3-hour gap right after that page's first window.
    gap = (first["opened"] + pd.Timedelta(config.window), first["opened"] + pd.Timedelta("3h15min"))
    metrics[~((metrics["timestamp"] >= gap[0]) & (metrics["timestamp"] < gap[1]))].to_parquet(metrics_path)
    state_path(config).unlink()
    score(config, ["checkout"], start="2026-09-08", end="2026-09-16")
    again = episodes(config).set_index("key").loc[first["key"]]
    assert pd.isna(again["resolved"]) or again["resolved"] > gap[1], f"the gap's empty windows resolved the page at {again['resolved']}"
