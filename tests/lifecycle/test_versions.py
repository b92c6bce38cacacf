"""Model versions on disk: save, list, load, on a temporary copy of the sample project."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re

import joblib
import pytest

import workbench._util as _util
import workbench.lifecycle.versions as versions
from workbench.errors import ConfigError, DataError, DataWarning
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.training import ServiceModel, describe_model, train_latest
from workbench.lifecycle.versions import (
    list_versions,
    load_model,
    load_version,
    save_model,
)
from workbench.sources import load_service

VERSION = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")


@pytest.fixture(scope="session")
def trained(sample_config) -> ServiceModel:
    """One checkout model on the 14-day sample, trained once."""
    windows = to_windows(load_service(sample_config, "checkout"), sample_config.window, sample_config.max_fill)
    incidents, events = read_incidents(sample_config.path("incidents")), read_events(sample_config.path("events"))
    return train_latest("checkout", windows, incidents, events, sample_config.model)


@pytest.fixture()
def config(sample_config, tmp_path):
    """The sample's config rooted in an empty temporary folder: models/ is tmp_path/models."""
    return sample_config.model_copy(update={"root": tmp_path})


BASE = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone.utc)


def freeze(monkeypatch, times) -> None:
    """Make save_model take its version ids at ``times`` (an iterable of datetimes)."""
    times = iter(times)
    monkeypatch.setattr(versions, "timestamped_id", lambda now=None: _util.timestamped_id(next(times)))


@pytest.fixture()
def clock(monkeypatch):
    """save_model's clock, one second later at each save (so versions differ in time)."""
    freeze(monkeypatch, (BASE + dt.timedelta(seconds=k) for k in range(10_000)))


def numbered(model: ServiceModel, k: int) -> ServiceModel:
    """A copy of ``model`` that can be told apart after a round trip."""
    return dataclasses.replace(model, training_windows=k)


def test_save_writes_model_and_metadata(config, trained, tmp_path):
    facts = describe_model(trained)
    folder = save_model(config, trained, facts)
    assert folder.parent == tmp_path / "models" / "checkout"
    assert VERSION.match(folder.name)
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.joblib"]
    meta = json.loads((folder / "metadata.json").read_text())
    saved_at = dt.datetime.fromisoformat(meta.pop("saved_at"))  # orders saves within one second
    assert saved_at.tzinfo is not None and abs(dt.datetime.now(dt.timezone.utc) - saved_at) < dt.timedelta(minutes=5)
    assert meta.pop("model_file") == "model.joblib"
    assert meta.pop("sha256") == hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()
    card = meta.pop("card")
    assert card["trained_to"] == trained.trained_to.isoformat() and card["training_windows"] == trained.training_windows
    assert card["feature_schema"] == trained.metadata["feature_names"]
    assert re.fullmatch(r"[0-9a-f]{64}", card["data_sha256"]) and card["code"]
    assert card["calibration"]["alarm_raw_score"] == trained.detector.offset_
    assert card["detector"]["random_state"] == trained.detector.random_state
    assert meta == {"version": folder.name, **json.loads(json.dumps(facts, default=str))}
    assert meta["service"] == "checkout" and meta["training windows"] == trained.training_windows
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temp folder left


def test_versions_are_never_overwritten(config, trained, clock):
    folders = [save_model(config, numbered(trained, k), {"n": k}) for k in range(3)]
    assert len(set(folders)) == 3
    for k, folder in enumerate(folders):
        assert json.loads((folder / "metadata.json").read_text())["n"] == k  # earlier saves untouched
    listed = list_versions(config, "checkout")
    assert [v["n"] for v in listed] == [0, 1, 2]  # oldest first
    assert [v["version"] for v in listed] == [f.name for f in folders]
    assert listed[0]["version"].startswith("20261128T093000Z-") and listed[2]["version"].startswith("20261128T093002Z-")


def test_load_newest_and_named(config, trained, clock):
    folders = [save_model(config, numbered(trained, k), {"n": k}) for k in (11, 22, 33)]
    newest = load_model(config, "checkout")
    assert isinstance(newest, ServiceModel) and newest.training_windows == 33
    assert load_model(config, "checkout", folders[0].name).training_windows == 11
    assert load_model(config, "checkout", folders[1].name).training_windows == 22
    # What is loaded is the fitted model: it scores like the original.
    assert newest.detector.offset_ == trained.detector.offset_
    assert newest.metadata["feature_names"] == trained.metadata["feature_names"]


def test_two_saves_in_one_second_keep_their_order(config, trained, monkeypatch):
    freeze(monkeypatch, [BASE, BASE])
    suffixes = iter(["ffff", "0000"])  # what secrets.token_hex(2) may well return
    monkeypatch.setattr(_util.secrets, "token_hex", lambda n: next(suffixes))
    save_model(config, numbered(trained, 1), {"n": 1})
    save_model(config, numbered(trained, 2), {"n": 2})
    assert [v["n"] for v in list_versions(config, "checkout")] == [1, 2]
    assert load_model(config, "checkout").training_windows == 2


def test_a_service_without_models(config, tmp_path):
    assert list_versions(config, "auth") == []
    with pytest.raises(DataError) as info:
        load_model(config, "auth")
    assert str(info.value) == f"no saved model for auth in {tmp_path / 'models' / 'auth'}"
    assert not (tmp_path / "models").exists()  # looking creates nothing


@pytest.mark.parametrize("call", [list_versions, load_model])
def test_an_unknown_service_is_a_config_error(config, call):
    with pytest.raises(ConfigError) as info:
        call(config, "nosuch")
    assert str(info.value) == f"unknown service 'nosuch'; configured services: {', '.join(config.services)}"


def test_saving_a_model_of_an_unknown_service(config, trained, tmp_path):
    with pytest.raises(ConfigError, match="unknown service 'billing'"):
        save_model(config, dataclasses.replace(trained, service="billing"), {})
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("version", ["20000101T000000Z-0000", "latest", "nope"])
def test_an_unknown_version(config, trained, version):
    save_model(config, trained, {})
    with pytest.raises(DataError) as info:
        load_model(config, "checkout", version)
    assert str(info.value) == f"no model version {version!r} for checkout"


def test_a_failed_save_leaves_nothing(config, trained, monkeypatch, tmp_path):
    def dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", dump)  # versions imports joblib where it saves
    with pytest.raises(OSError, match="disk full"):
        save_model(config, trained, {})
    assert list((tmp_path / "models" / "checkout").iterdir()) == []
    assert list_versions(config, "checkout") == []


def _leftover(config, trained, files: tuple[str, ...]):
    """A complete version plus a temporary folder a killed save left behind, holding ``files``."""
    good = save_model(config, trained, {"n": "good"})
    tmp = good.parent / ".20991231T235959Z-beef.tmp"
    tmp.mkdir()
    for name in files:
        (tmp / name).write_bytes((good / name).read_bytes())
    if "metadata.json" in files:
        (tmp / "metadata.json").write_text(json.dumps({"version": "20991231T235959Z-beef", "n": "half"}))
    return good


def test_a_half_written_model_is_not_listed(config, trained):
    good = _leftover(config, trained, ("model.joblib",))
    assert [v["version"] for v in list_versions(config, "checkout")] == [good.name]
    assert load_model(config, "checkout").training_windows == trained.training_windows


def test_a_version_killed_before_its_rename_is_not_listed(config, trained):
    good = _leftover(config, trained, ("model.joblib", "metadata.json"))
    assert [v["version"] for v in list_versions(config, "checkout")] == [good.name]


def _never_unpickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("joblib.load was called on a file that failed its check")

    monkeypatch.setattr(joblib, "load", refuse)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), id="one-byte-flipped"),
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b"", id="emptied"),
    ],
)
def test_a_tampered_model_file_is_refused_and_never_unpickled(config, trained, monkeypatch, damage):
    folder = save_model(config, trained, {})
    path = folder / "model.joblib"
    path.write_bytes(damage(path.read_bytes()))
    _never_unpickle(monkeypatch)
    with pytest.raises(DataError, match="does not match the checksum"):
        load_model(config, "checkout")


def test_a_model_without_a_checksum_is_refused(config, trained, monkeypatch):
    folder = save_model(config, trained, {})
    meta = json.loads((folder / "metadata.json").read_text())
    del meta["sha256"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    _never_unpickle(monkeypatch)
    with pytest.raises(DataError, match="no checksum"):
        load_model(config, "checkout")


def test_a_swapped_model_file_is_refused(config, trained, clock, monkeypatch):
    # A valid pickle from another version is still not this version's file.
    first = save_model(config, numbered(trained, 1), {})
    second = save_model(config, numbered(trained, 2), {})
    (second / "model.joblib").write_bytes((first / "model.joblib").read_bytes())
    _never_unpickle(monkeypatch)
    with pytest.raises(DataError, match="does not match the checksum"):
        load_model(config, "checkout", second.name)


def test_corrupt_metadata_is_named_and_leaves_the_other_versions_usable(config, trained):
    healthy = save_model(config, trained, {}).name
    folder = save_model(config, trained, {})
    (folder / "metadata.json").write_text('{"version": ')
    with pytest.warns(DataWarning, match=f"{folder.name}/metadata.json: unreadable model metadata .*left out: move it aside"):
        assert [v["version"] for v in list_versions(config, "checkout")][-1] == healthy
    with pytest.warns(DataWarning):
        assert load_version(config, "checkout")[1]["version"] == healthy
    with pytest.warns(DataWarning), pytest.raises(DataError, match="metadata is unreadable"):
        load_version(config, "checkout", folder.name)
    (folder / "metadata.json").write_text('{"version": "someone-else"}')
    with pytest.warns(DataWarning, match="it names version 'someone-else'"):
        list_versions(config, "checkout")
