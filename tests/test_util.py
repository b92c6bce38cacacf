"""The shared idioms of workbench._util: atomic writes, UTC parsing, steps, runs, scale, ids."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat

import numpy as np
import pandas as pd
import pytest

from workbench._util import (
    MAD_TO_SIGMA,
    atomic_dir,
    atomic_path,
    atomic_write_text,
    infer_step,
    robust_sigma,
    run_lengths,
    timestamped_id,
    to_utc,
)
from workbench.errors import DataError

# -- atomic_path ---------------------------------------------------------------------------


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp != target and tmp.parent == target.parent and tmp.exists()
        tmp.write_text("new")
        assert target.read_text() == "old"  # not yet replaced inside the block
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_atomic_path_keeps_the_old_file_when_the_writer_raises(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    seen = []
    with pytest.raises(RuntimeError, match="writer died"):
        with atomic_path(target) as tmp:
            seen.append(tmp)
            tmp.write_text("half")
            raise RuntimeError("writer died")
    assert target.read_text() == "old"
    assert not seen[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_atomic_path_creates_missing_folders_and_no_file_on_error(tmp_path):
    target = tmp_path / "a" / "b" / "f.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_concurrent_atomic_paths_get_their_own_temp_files(tmp_path):
    target = tmp_path / "f.txt"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        assert first.name.startswith(".f.txt.") and first.name.endswith(".tmp")
        first.write_text("first")
        second.write_text("second")
    # The inner context finished first, the outer one last: the last rename wins.
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_file_mode_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "f.txt", "x")
        mode = stat.S_IMODE(path.stat().st_mode)
    finally:
        os.umask(old)
    assert mode == 0o666 & ~umask


@pytest.mark.parametrize("text", ["", "one line\n", "a,b\r\nc,d\r\n", "unicode: \u00e9\u20ac\U0001f600\n"])
def test_atomic_write_text_round_trips(tmp_path, text):
    path = atomic_write_text(tmp_path / "sub" / "f.csv", text)
    assert path == tmp_path / "sub" / "f.csv"
    assert path.read_bytes() == text.encode()  # newlines written as given


# -- atomic_dir ----------------------------------------------------------------------------


def test_atomic_dir_renames_into_place(tmp_path):
    target = tmp_path / "v1"
    with atomic_dir(target) as tmp:
        assert tmp != target and not target.exists()
        (tmp / "model.txt").write_text("m")
    assert (target / "model.txt").read_text() == "m"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]


def test_atomic_dir_refuses_an_existing_target(tmp_path):
    target = tmp_path / "v1"
    target.mkdir()
    (target / "model.txt").write_text("good")
    with pytest.raises(OSError):
        with atomic_dir(target) as tmp:
            (tmp / "model.txt").write_text("replacement")
    assert (target / "model.txt").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]  # temp folder removed


def test_atomic_dir_cleans_up_on_error(tmp_path):
    target = tmp_path / "v1"
    with pytest.raises(ValueError, match="boom"):
        with atomic_dir(target) as tmp:
            (tmp / "nested").mkdir()
            (tmp / "nested" / "x").write_text("x")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


# -- to_utc ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, expected",
    [
        (["2026-01-05 10:00"], ["2026-01-05 10:00+00:00"]),
        (["2026-01-05T10:00:00+02:00"], ["2026-01-05 08:00+00:00"]),
        (["2026-01-05 10:00", "2026-01-05T10:00:00-05:00"], ["2026-01-05 10:00+00:00", "2026-01-05 15:00+00:00"]),
        (pd.Series(pd.date_range("2026-03-29 00:30", periods=2, freq="1h", tz="Europe/Berlin")), ["2026-03-28 23:30+00:00", "2026-03-29 00:30+00:00"]),
    ],
)
def test_to_utc(values, expected):
    out = to_utc(pd.Series(values) if isinstance(values, list) else values)
    assert str(out.dt.tz) == "UTC"
    assert list(out) == [pd.Timestamp(e) for e in expected]


def test_to_utc_keeps_an_index_an_index():
    out = to_utc(pd.Index(["2026-01-05 10:00"]))
    assert isinstance(out, pd.DatetimeIndex) and out[0] == pd.Timestamp("2026-01-05 10:00", tz="UTC")


@pytest.mark.parametrize("garbage", [["not a time"], ["2026-01-05", "soon"], ["2026-13-45"]])
def test_to_utc_names_what_on_garbage(garbage):
    with pytest.raises(DataError, match=r"^incident start: cannot parse as timestamps"):
        to_utc(pd.Series(garbage), what="incident start")


# -- infer_step ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stamps, expected",
    [
        (["00:00", "00:01", "00:02", "00:05", "00:06"], "1min"),
        (["00:00", "00:15", "00:30", "00:31", "00:45"], "15min"),
        (["00:00", "00:10"], "10min"),
    ],
)
def test_infer_step_is_the_most_common_step(stamps, expected):
    index = pd.DatetimeIndex([f"2026-01-05 {s}" for s in stamps], tz="UTC")
    assert infer_step(index) == pd.Timedelta(expected)


def test_infer_step_works_for_second_resolution_indexes():
    index = pd.date_range("2026-01-05", periods=5, freq="30s", tz="UTC").as_unit("s")
    assert infer_step(index) == pd.Timedelta("30s")


def test_infer_step_ignores_sub_second_scrape_jitter():
    rng = np.random.default_rng(3)
    jitter = pd.to_timedelta(rng.uniform(-0.4, 0.4, 2000), unit="s")
    index = (pd.date_range("2026-01-05", periods=2000, freq="15s", tz="UTC") + jitter).sort_values()
    assert pd.Series(index[1:] - index[:-1]).mode().iloc[0] != pd.Timedelta("15s")  # what a naive mode picks
    assert infer_step(index) == pd.Timedelta("15s")


def test_infer_step_keeps_a_true_sub_second_step_and_refuses_one_timestamp():
    assert infer_step(pd.date_range("2026-01-05", periods=50, freq="100ms", tz="UTC")) == pd.Timedelta("100ms")
    with pytest.raises(DataError, match="same timestamp"):
        infer_step(pd.DatetimeIndex(["2026-01-05"] * 3, tz="UTC"))


@pytest.mark.parametrize("n", [0, 1])
def test_infer_step_default_or_error_on_too_few(n):
    index = pd.date_range("2026-01-05", periods=n, freq="1min", tz="UTC")
    assert infer_step(index, default=pd.Timedelta("60s")) == pd.Timedelta("1min")
    assert infer_step(index, default="15min") == pd.Timedelta("15min")
    with pytest.raises(DataError, match="at least two samples"):
        infer_step(index)


# -- run_lengths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mask, ids, lengths",
    [
        ([True, True, False, True], [1, 1, 2, 3], [2, 2, 1, 1]),
        ([False, False, False], [1, 1, 1], [3, 3, 3]),
        ([True], [1], [1]),
        ([True, False, True, False], [1, 2, 3, 4], [1, 1, 1, 1]),
        ([False, True, True, True, False, False], [1, 2, 2, 2, 3, 3], [1, 3, 3, 3, 2, 2]),
    ],
)
def test_run_lengths(mask, ids, lengths):
    index = pd.date_range("2026-01-05", periods=len(mask), freq="15min")
    run_id, length = run_lengths(pd.Series(mask, index=index))
    assert run_id.tolist() == ids and length.tolist() == lengths
    assert run_id.index.equals(index) and length.index.equals(index)


# -- robust_sigma -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, mad",
    [
        ([1.0, 2.0, 3.0, 4.0, 100.0], 1.0),
        ([5.0, 5.0, 5.0], 0.0),
        ([1.0, np.nan, 3.0, 5.0], 2.0),
        ([-10.0, 0.0, 10.0, 20.0], 10.0),
    ],
)
def test_robust_sigma_is_scaled_mad(values, mad):
    assert robust_sigma(np.array(values)) == pytest.approx(MAD_TO_SIGMA * mad)
    assert robust_sigma(pd.Series(values)) == pytest.approx(MAD_TO_SIGMA * mad)


def test_robust_sigma_of_a_standard_normal_is_one():
    sample = np.random.default_rng(42).standard_normal(200_000)
    assert robust_sigma(sample) == pytest.approx(1.0, abs=0.05)
    assert robust_sigma(3 * sample + 7) == pytest.approx(3.0, abs=0.15)


# -- timestamped_id -------------------------------------------------------------------------------

ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")


def test_timestamped_id_format():
    now = dt.datetime(2026, 11, 28, 9, 30, 0, tzinfo=dt.timezone.utc)
    value = timestamped_id(now)
    assert ID.match(value) and value.startswith("20261128T093000Z-")
    assert ID.match(timestamped_id())


def test_timestamped_id_is_in_utc():
    local = dt.datetime(2026, 11, 28, 10, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert timestamped_id(local).startswith("20261128T083000Z-")


def test_timestamped_ids_sort_by_time():
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    times = [base + dt.timedelta(seconds=s) for s in (0, 1, 59, 3600, 86400 * 40, 86400 * 400)]
    ids = [timestamped_id(t) for t in times]
    assert sorted(ids) == ids
    assert sorted(reversed(ids)) == ids


def test_timestamped_ids_in_one_second_differ():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert len({timestamped_id(now) for _ in range(50)}) > 40  # 16 random bits



def _hold_lock(lock, seconds):
    """A process that holds ``lock`` for ``seconds``; returns once it has it."""
    import subprocess
    import sys

    code = f"import time; from workbench._util import exclusive_lock\nwith exclusive_lock({str(lock)!r}):\n    print('held', flush=True); time.sleep({seconds})"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_exclusive_lock_makes_a_second_process_wait(tmp_path):
    import time

    from workbench._util import exclusive_lock

    holder = _hold_lock(tmp_path / "state.lock", 1.5)
    started = time.monotonic()
    with exclusive_lock(tmp_path / "state.lock"):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.8  # it waited for the holder to let go


def test_exclusive_lock_is_released_when_its_holder_is_killed(tmp_path):
    import signal
    import time

    from workbench._util import exclusive_lock

    holder = _hold_lock(tmp_path / "state.lock", 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    started = time.monotonic()
    with exclusive_lock(tmp_path / "state.lock"):
        assert time.monotonic() - started < 5


def test_jsonable_keeps_only_what_json_holds():
    import dataclasses
    import enum
    import json

    import numpy as np
    import pandas as pd

    from workbench._util import jsonable

    class Colour(enum.StrEnum):
        RED = "red"

    @dataclasses.dataclass
    class Row:
        when: pd.Timestamp
        colour: Colour
        values: tuple

    out = jsonable({"row": Row(pd.Timestamp("2026-11-28T00:00Z"), Colour.RED, (np.int64(3), np.float64("nan"), float("inf"), 1.5))})
    assert out == {"row": {"when": "2026-11-28T00:00:00+00:00", "colour": "red", "values": [3, None, None, 1.5]}}
    assert type(out["row"]["values"][0]) is int and type(out["row"]["colour"]) is str
    json.dumps(out, allow_nan=False)


# -- a hundred random kills per atomic writer ----------------------------------------------------
def _big(k: int) -> str:
    return (f"version {k}\n" + "x" * 200_000 + f"\nend {k}\n")


def test_atomic_write_text_survives_a_hundred_random_kills(tmp_path):
    from killing import kill_at_random

    from workbench._util import atomic_write_text

    target = tmp_path / "run.json"
    seen = kill_at_random(lambda k: atomic_write_text(target, _big(k)), lambda: target.read_text() if target.exists() else None,
                          {0: _big(0), 1: _big(1)})
    assert seen[0] and seen[1]


def test_atomic_dir_survives_a_hundred_random_kills(tmp_path):
    """Model versions: a folder appears whole (both files) or not at all."""
    from killing import kill_at_random

    from workbench._util import atomic_dir

    root = tmp_path / "models"
    counter = iter(range(10**9))

    def write(k: int) -> None:
        with atomic_dir(root / f"v{os.getpid()}-{next(counter)}") as folder:
            (folder / "model.joblib").write_text(_big(k))
            (folder / "metadata.json").write_text("{}")

    def read():
        folders = [p for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []
        whole = all(sorted(f.name for f in p.iterdir()) == ["metadata.json", "model.joblib"] for p in folders)
        return "whole" if whole else "torn"

    seen = kill_at_random(write, read, {0: "whole", 1: "whole"})
    assert seen[0] == 101  # every look, the parent's first included, found only whole versions


def test_atomic_parquet_survives_a_hundred_random_kills(tmp_path):
    """Store partitions and the sample cache are Parquet written through atomic_path."""
    from killing import kill_at_random

    from workbench._util import atomic_path

    target = tmp_path / "part.parquet"
    frames = {k: pd.DataFrame({"value": np.full(100_000, float(k))}) for k in (0, 1)}

    def write(k: int) -> None:
        with atomic_path(target) as tmp:
            frames[k].to_parquet(tmp)

    def read():
        if not target.exists():
            return None
        return float(pd.read_parquet(target)["value"].iloc[0]) if len(pd.read_parquet(target)) == 100_000 else "torn"

    seen = kill_at_random(write, read, {0: 0.0, 1: 1.0})
    assert seen[0] and seen[1]


@pytest.mark.parametrize(
    "values",
    [[1790812800, 1790812860], ["1790812800", "1790812860"], [1790812800000, 1790812860000], [1790812800.0, 1790812860.0],
     [1790812800 * 10**6, 1790812860 * 10**6], [1790812800 * 10**9, 1790812860 * 10**9]],
    ids=["s", "s-text", "ms", "s-float", "us", "ns"],
)
def test_to_utc_reads_epoch_numbers_by_their_size(values):
    assert to_utc(pd.Series(values)).tolist() == [pd.Timestamp("2026-10-01T00:00Z"), pd.Timestamp("2026-10-01T00:01Z")]


def test_to_utc_leaves_timestamp_objects_and_text_dates_alone():
    stamps = pd.Series([pd.Timestamp("2026-10-01T00:00Z"), pd.Timestamp("2026-10-01T01:00Z")], dtype=object)
    assert to_utc(stamps).tolist() == stamps.tolist()
    assert to_utc(pd.Series(["2026-10-01 00:00", "2026-10-01T01:00+01:00"])).tolist() == [pd.Timestamp("2026-10-01T00:00Z")] * 2
