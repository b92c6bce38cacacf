"""Champion against challenger on the same windows: the replay, the A/A check, recall on earlier incidents."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import DataError
from workbench.evaluate.challenge import (
    _with_earlier,
    challenge,
    compared_span,
    live_pairs,
)
from workbench.evaluate.paired import Verdict
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.training import train_service
from workbench.sources import load_service
from workbench.sources.sample import ensure_sample

AT = pd.Timestamp("2026-10-06T00:00Z")  # the end of the 35-day sample


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """One service's samples, windows and labels from a 35-day sample, and a champion trained before the span."""
    path = make_project(tmp_path_factory.mktemp("challenge") / "wb", days=35, services=["checkout", "payments"])
    config = load_config(path)
    ensure_sample(config)
    samples = load_service(config, "payments")
    windows = to_windows(samples, config.window, config.max_fill)
    incidents, events = read_incidents(config.path("incidents")), read_events(config.path("events"))
    start, _ = compared_span(config, windows, AT)
    before = windows[windows.index < start]
    champion = train_service("payments", before, incidents, events, config.model)
    return config, samples, windows, incidents, events, before, champion


def test_both_sides_are_scored_on_the_same_windows_and_the_recipe_never_on_its_training(data):
    config, samples, windows, incidents, events, before, champion = data
    result = challenge(config, "payments", champion, samples, windows, incidents, events, AT)
    assert (result.start, result.end) == (AT - pd.Timedelta("14D"), AT)
    assert list(result.confidence.columns) == ["champion", "challenger"]
    assert result.confidence.index[0] == result.start and result.confidence.index[-1] < result.end
    # Scored by different models: the recipe retrains on data the champion never saw.
    both = result.confidence.dropna()
    assert len(both) > 0.9 * len(result.confidence) and not np.allclose(both["champion"], both["challenger"])
    assert result.comparison.days == 14 and result.earlier.empty  # no deployable model given: recall not checked
    assert {"champion", "challenger"} == set(result.alerts)


def test_an_aa_challenger_the_champion_retrained_with_other_seeds_is_not_promoted(data):
    """The small version of the A/A benchmark (benchmarks/bench_lifecycle.py runs hundreds of trials)."""
    config, samples, windows, incidents, events, before, champion = data
    verdicts = []
    for seed in (1, 2, 3):
        twin = train_service("payments", before, incidents, events, config.model.model_copy(update={"random_state": seed}))
        result = challenge(config, "payments", champion, samples, windows, incidents, events, AT, challenger=twin, seed=seed)
        verdicts.append(result.comparison.verdict)
        assert abs(result.comparison.improvement) < 1 or result.comparison.champion.cost == 0
    assert Verdict.PROMOTE not in verdicts


def test_recall_is_checked_on_earlier_incidents_with_the_deployable_challenger(data):
    config, samples, windows, incidents, events, before, champion = data
    result = challenge(config, "payments", champion, samples, windows, incidents, events, AT, challenger=champion)
    earlier = incidents[(incidents["service"] == "payments") & (incidents["start"] < result.start)]
    assert 0 < len(result.earlier) <= len(earlier)
    assert set(result.earlier["id"]) <= set(earlier["id"])
    # The same model on both sides: the same catches, no regression, and the earlier ones count as evidence.
    assert (result.earlier["champion_caught"] == result.earlier["challenger_caught"]).all()
    assert result.comparison.regressions == ()
    assert f"{len(result.earlier)} earlier" in " ".join(result.comparison.reasons)


def test_an_earlier_incident_the_challenger_misses_blocks_the_promotion(data):
    config, samples, windows, incidents, events, before, champion = data
    result = challenge(config, "payments", champion, samples, windows, incidents, events, AT, challenger=champion)
    better = dataclasses.replace(result.comparison, improvement=0.5, lower_bound=0.2, fp_rise=0.0, regressions=())
    caught = result.earlier.assign(champion_caught=True, challenger_caught=True)
    assert _with_earlier(better, caught, config).verdict == Verdict.PROMOTE
    lost = caught.assign(challenger_caught=[False] + [True] * (len(caught) - 1))
    blocked = _with_earlier(better, lost, config)
    assert blocked.verdict == Verdict.KEEP and blocked.regressions == (str(caught["id"].iloc[0]),)
    assert any("missed by the challenger: " + str(caught["id"].iloc[0]) in r for r in blocked.reasons)


def test_too_little_history_before_the_span_is_a_clear_error(data):
    config, samples, windows, incidents, events, before, champion = data
    short = windows[windows.index >= pd.Timestamp("2026-09-10T00:00Z")]
    with pytest.raises(DataError, match="history before that"):
        challenge(config, "payments", champion, samples, short, incidents, events, AT)


def scores_table(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["window", "role", "version", "confidence"])
    frame["window"] = pd.to_datetime(frame["window"], utc=True)
    return frame


def test_live_pairs_keep_only_windows_scored_by_this_champion_and_a_challenger():
    t = [f"2026-10-01T00:{m:02d}Z" for m in (0, 15, 30, 45)]
    table = scores_table([
        (t[0], "champion", "v1", 10.0), (t[0], "challenger", "c1", 20.0),
        (t[1], "champion", "v1", float("nan")), (t[1], "challenger", "c2", 30.0),  # no verdict is still a pair
        (t[2], "champion", "v0", 10.0), (t[2], "challenger", "c2", 40.0),  # another champion's window
        (t[3], "champion", "v1", 50.0),  # no shadow score
    ])
    pairs = live_pairs(table, "v1")
    assert pairs.index.tolist() == pd.to_datetime(t[:2], utc=True).tolist()
    assert pairs["challenger"].tolist() == [20.0, 30.0] and pairs["challenger_version"].tolist() == ["c1", "c2"]
    assert pairs["champion"].iloc[0] == 10.0 and pd.isna(pairs["champion"].iloc[1])
    assert live_pairs(table, "nobody").empty and live_pairs(scores_table([]), "v1").empty


def test_live_scores_replace_the_replay_on_their_windows(data):
    config, samples, windows, incidents, events, before, champion = data
    replayed = challenge(config, "payments", champion, samples, windows, incidents, events, AT, challenger=champion)
    assert replayed.live_windows == 0
    # The last three days scored live: the champion as replayed, the shadow challenger sure of an anomaly everywhere.
    last = replayed.confidence.index[replayed.confidence.index >= AT - pd.Timedelta("3D")]
    live = pd.DataFrame({"champion": replayed.confidence.loc[last, "champion"], "challenger": 100.0}, index=last)
    result = challenge(config, "payments", champion, samples, windows, incidents, events, AT, challenger=champion, live=live)
    assert result.live_windows == len(last) == 3 * 96
    assert (result.confidence.loc[last, "challenger"] == 100.0).all()
    earlier = result.confidence.index < last[0]
    pd.testing.assert_frame_equal(result.confidence[earlier], replayed.confidence[earlier])
    # A challenger that alarms for three days straight costs more: it is not promoted.
    assert result.comparison.challenger.cost > replayed.comparison.challenger.cost
    assert result.comparison.verdict != Verdict.PROMOTE
