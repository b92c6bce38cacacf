"""Aliases and their history: promote, rollback, compare-and-swap, checksum-verified loads, prune."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import types

import pytest

import workbench._util as _util
import workbench.lifecycle.versions as versions
from workbench.errors import DataError, ParameterError
from workbench.lifecycle.aliases import (
    CHALLENGER,
    CHAMPION,
    aliases,
    history,
    load_alias,
    load_champion,
    previous_champion,
    protected_versions,
    prune,
    record,
    rollback,
    set_alias,
)
from workbench.lifecycle.versions import (
    MODEL_FILE,
    list_versions,
    save_model,
    service_folder,
)

BASE = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture()
def config(sample_config, tmp_path):
    """The sample's config rooted in an empty temporary folder: models/ is tmp_path/models."""
    return sample_config.model_copy(update={"root": tmp_path})


@pytest.fixture()
def saved(config, monkeypatch):
    """Save ``n`` small stand-in models for checkout (one second apart); return their version names."""
    times = iter(BASE + dt.timedelta(seconds=k) for k in range(1000))
    monkeypatch.setattr(versions, "timestamped_id", lambda now=None: _util.timestamped_id(next(times)))

    def make(n: int) -> list[str]:
        return [save_model(config, types.SimpleNamespace(service="checkout", n=k), {"n": k}).name for k in range(n)]

    return make


def test_no_history_means_no_aliases(config):
    assert history(config, "checkout") == [] and aliases(config, "checkout") == {}
    with pytest.raises(DataError, match="no champion yet"):
        load_alias(config, "checkout")


def test_a_move_is_a_history_row_and_the_aliases_are_its_fold(config, saved):
    a, b = saved(2)
    record(config, "checkout", action="first", moves={CHAMPION: a}, reason="first model", by="tester")
    set_alias(config, "checkout", CHALLENGER, b, reason="trained", by="tester")
    assert aliases(config, "checkout") == {CHAMPION: a, CHALLENGER: b}
    rows = history(config, "checkout")
    assert [r["seq"] for r in rows] == [1, 2]
    assert rows[0]["moves"] == {CHAMPION: {"from": None, "to": a}} and rows[0]["by"] == "tester"
    assert rows[0]["sha256"] == {a: list_versions(config, "checkout")[0]["sha256"]}
    assert dt.datetime.fromisoformat(rows[0]["at"]).tzinfo is not None
    record(config, "checkout", action="promote", moves={CHAMPION: b, CHALLENGER: None}, reason="better")
    assert aliases(config, "checkout") == {CHAMPION: b}
    assert len(history(config, "checkout")) == 3  # append-only: the earlier rows are all still there


def test_a_decision_that_moves_nothing_is_still_recorded(config, saved):
    (a,) = saved(1)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    record(config, "checkout", action="keep", reason="not better", figures={"improvement": -0.02})
    rows = history(config, "checkout")
    assert rows[-1]["action"] == "keep" and rows[-1]["moves"] == {} and rows[-1]["figures"] == {"improvement": -0.02}
    assert aliases(config, "checkout") == {CHAMPION: a}


def test_unknown_alias_or_version_is_refused_and_nothing_is_written(config, saved):
    (a,) = saved(1)
    with pytest.raises(ParameterError, match="unknown alias"):
        record(config, "checkout", action="promote", moves={"production": a})
    with pytest.raises(ParameterError, match="no model version 'nope'"):
        set_alias(config, "checkout", CHAMPION, "nope", reason="typo")
    assert history(config, "checkout") == []


def test_compare_and_swap_refuses_a_stale_view(config, saved):
    a, b, c = saved(3)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    set_alias(config, "checkout", CHAMPION, b, reason="a person promoted b meanwhile")
    with pytest.raises(ParameterError, match="changed while this run worked"):
        record(config, "checkout", action="promote", moves={CHAMPION: c}, expect={CHAMPION: a})
    assert aliases(config, "checkout") == {CHAMPION: b} and len(history(config, "checkout")) == 2


def test_rollback_restores_the_previous_champion_and_a_second_one_undoes_it(config, saved):
    a, b, c = saved(3)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    record(config, "checkout", action="promote", moves={CHAMPION: b})
    record(config, "checkout", action="keep", moves={CHALLENGER: c})
    row = rollback(config, "checkout", reason="b pages too much", by="oncall")
    assert row["moves"] == {CHAMPION: {"from": b, "to": a}} and row["action"] == "rollback" and row["reason"] == "b pages too much"
    assert aliases(config, "checkout") == {CHAMPION: a, CHALLENGER: c}
    rollback(config, "checkout")
    assert aliases(config, "checkout")[CHAMPION] == b
    rollback(config, "checkout", to=c)
    assert aliases(config, "checkout")[CHAMPION] == c
    assert previous_champion(history(config, "checkout")) == b


def test_rollback_with_nowhere_to_go_is_a_clear_error(config, saved):
    (a,) = saved(1)
    with pytest.raises(ParameterError, match="no earlier champion"):
        rollback(config, "checkout")
    record(config, "checkout", action="first", moves={CHAMPION: a})
    with pytest.raises(ParameterError, match="no earlier champion"):
        rollback(config, "checkout")
    with pytest.raises(ParameterError, match="already the champion"):
        rollback(config, "checkout", to=a)


def test_rollback_to_a_damaged_version_leaves_the_champion(config, saved):
    a, b = saved(2)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    record(config, "checkout", action="promote", moves={CHAMPION: b})
    (service_folder(config, "checkout") / a / MODEL_FILE).write_bytes(b"damaged")
    with pytest.raises(DataError, match="does not match the checksum"):
        rollback(config, "checkout")
    assert aliases(config, "checkout") == {CHAMPION: b} and len(history(config, "checkout")) == 2


class _Payload:
    """A pickle that would create ``marker`` when unpickled: code execution, if it were ever loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_tampered_model_that_would_run_code_is_refused_and_never_executed(config, saved, tmp_path):
    (a,) = saved(1)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    marker = tmp_path / "pwned"
    (service_folder(config, "checkout") / a / MODEL_FILE).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(DataError, match="does not match the checksum"):
        load_alias(config, "checkout")
    assert not marker.exists()
    assert aliases(config, "checkout") == {CHAMPION: a}  # the alias still names it: nothing was silently swapped


def test_model_and_metadata_changed_together_are_refused_by_the_history(config, saved, tmp_path):
    (a,) = saved(1)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    folder = service_folder(config, "checkout") / a
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Payload(marker))
    (folder / MODEL_FILE).write_bytes(evil)
    meta = json.loads((folder / "metadata.json").read_text())
    import hashlib

    meta["sha256"] = hashlib.sha256(evil).hexdigest()
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="another checksum"):
        load_alias(config, "checkout")
    assert not marker.exists()


def test_a_truncated_model_file_is_refused(config, saved):
    (a,) = saved(1)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    path = service_folder(config, "checkout") / a / MODEL_FILE
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataError, match="does not match the checksum"):
        load_champion(config, "checkout")


def test_an_alias_pointing_at_a_missing_version_is_a_clear_error(config, saved):
    a, b = saved(2)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    import shutil

    shutil.rmtree(service_folder(config, "checkout") / a)
    with pytest.raises(DataError, match=f"points at version {a}, which is not in"):
        load_champion(config, "checkout")  # never falls back to b
    assert aliases(config, "checkout") == {CHAMPION: a}


def test_load_champion_uses_the_newest_version_only_without_any_champion(config, saved):
    a, b = saved(2)
    model, meta = load_champion(config, "checkout")
    assert model.n == 1 and meta["alias"].startswith("newest")
    record(config, "checkout", action="first", moves={CHAMPION: a})
    model, meta = load_champion(config, "checkout")
    assert model.n == 0 and meta["version"] == a and meta["alias"] == CHAMPION


@pytest.mark.parametrize(
    "content, match",
    [
        ('{"at": "2026-11-28T00:00:00+00:00", "moves": {}}\n{"at": "2026-11', "line 2: not a JSON row"),
        ('{"moves": {}}\n', "missing at"),
        ('{"at": "2026-11-28T00:00:00+00:00", "moves": []}\n', "'moves' must be an object"),
    ],
)
def test_a_damaged_history_is_named_not_guessed(config, saved, content, match):
    saved(1)
    (service_folder(config, "checkout") / "history.jsonl").write_text(content)
    with pytest.raises(DataError, match=match):
        aliases(config, "checkout")


def test_a_failed_write_leaves_the_history_as_it_was(config, saved, monkeypatch):
    a, b = saved(2)
    record(config, "checkout", action="first", moves={CHAMPION: a})
    before = (service_folder(config, "checkout") / "history.jsonl").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        record(config, "checkout", action="promote", moves={CHAMPION: b})
    monkeypatch.undo()
    assert (service_folder(config, "checkout") / "history.jsonl").read_bytes() == before
    assert [p.name for p in service_folder(config, "checkout").iterdir() if p.name.endswith(".tmp")] == []


def test_prune_keeps_the_newest_the_aliased_and_the_recently_aliased(config, saved):
    names = saved(6)
    record(config, "checkout", action="first", moves={CHAMPION: names[0]})
    record(config, "checkout", action="promote", moves={CHAMPION: names[1]})  # names[0] was champion just now
    record(config, "checkout", action="keep", moves={CHALLENGER: names[2]})
    assert prune(config, "checkout", keep=1, dry_run=True) == [names[3], names[4]]
    assert len(list_versions(config, "checkout")) == 6  # a dry run removes nothing
    assert prune(config, "checkout", keep=1) == [names[3], names[4]]
    assert [v["version"] for v in list_versions(config, "checkout")] == [names[0], names[1], names[2], names[5]]
    assert load_alias(config, "checkout")[1]["version"] == names[1]


def test_prune_forgets_protection_once_the_history_is_old(config, saved):
    names = saved(3)
    record(config, "checkout", action="first", moves={CHAMPION: names[0]})
    record(config, "checkout", action="promote", moves={CHAMPION: names[1]})
    import pandas as pd

    later = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=31)
    assert protected_versions(config, "checkout", "30D", now=later) == {names[1]}
    assert protected_versions(config, "checkout", "30D") == {names[0], names[1]}


def test_prune_refuses_a_negative_keep(config):
    with pytest.raises(ParameterError, match="--keep"):
        prune(config, "checkout", keep=-1)


def test_prune_sweeps_what_killed_saves_left_behind(config, saved):
    import time

    names = saved(1)
    folder = service_folder(config, "checkout")
    stale, fresh = folder / f".{names[0]}.abc.tmp", folder / ".20261128T000000Z-0000.def.tmp"
    for path in (stale, fresh):
        path.mkdir()
        (path / MODEL_FILE).write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    prune(config, "checkout", keep=1)
    assert not stale.exists() and fresh.exists()  # a save in progress right now is left alone
    assert [v["version"] for v in list_versions(config, "checkout")] == names
