"""Small idioms the stages share, written once: atomic writes, UTC parsing, sampling
steps, run lengths, robust scale, timestamped ids.

Imports only the standard library at module level (pandas where a function needs it),
so the CLI and the front door stay cheap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "MAD_TO_SIGMA",
    "atomic_dir",
    "atomic_path",
    "atomic_write_text",
    "exclusive_lock",
    "infer_step",
    "jsonable",
    "parse_time",
    "run_lengths",
    "timestamped_id",
    "to_utc",
    "try_lock",
]

#: Scales a median absolute deviation to a standard deviation under normality (1 / Phi^-1(3/4)).
MAD_TO_SIGMA = 1.4826


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path``; on success rename it over ``path``.

    A writer that is killed, or raises, leaves ``path`` as it was (the temporary file
    is removed on an exception). The name is unique per call, so concurrent writers
    never share a temporary file; the last rename wins. The file gets the usual
    permissions (``0666 & ~umask``), not ``mkstemp``'s private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, 0o666 & ~_umask())
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`); return the path."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a unique temporary folder beside ``path``; on success rename it to ``path``.

    ``path`` must not exist yet (a folder is never replaced: versions are immutable).
    On an exception the temporary folder and what was written in it are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) while inside.

    A second process asking for the same lock waits until the first leaves; the kernel
    releases it when a process dies, so a killed run never leaves it held.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def try_lock(path: str | os.PathLike[str], busy: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` while inside, or refuse at once.

    Raises ``BusyError`` with ``busy`` (what is running) when another process holds it;
    the kernel releases the lock when its holder dies, so a killed run never blocks the next.
    """
    import fcntl

    from workbench.errors import BusyError

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BusyError(busy) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def jsonable(value):
    """``value`` with only what JSON holds: dataclasses and mappings as dicts, timestamps as ISO
    strings, string enums as their values, numpy numbers as Python ones, NaN and infinities as None.
    """
    import dataclasses
    import math

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def timestamped_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id such as ``20261128T093000Z-1a2b`` (UTC second plus 16 random bits)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def to_utc(values, what: str = "timestamp"):
    """Parse timestamps (a Series or Index) to tz-aware UTC; tz-naive values are taken as UTC.

    Numbers are Unix epoch times in seconds, milliseconds, microseconds or nanoseconds,
    told by their size (a CSV of ``1759276800`` means 2025-10-01, not 1970).

    Raises
    ------
    DataError
        A value cannot be parsed as a timestamp; the message names ``what``.
    """
    import pandas as pd

    epochs = _epoch_unit(values)
    try:
        if epochs is not None:
            return pd.to_datetime(pd.to_numeric(values), unit=epochs, utc=True)
        # utc=True reads naive values as UTC and converts aware ones: the contract.
        return pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"{what}: cannot parse as timestamps ({exc})") from exc


def _epoch_unit(values) -> str | None:
    """The unit of numeric timestamps (Unix epoch ``s``, ``ms``, ``us`` or ``ns``, told by their
    size), or ``None`` when they are not all numbers (ISO text, datetimes).

    pandas reads a bare number as nanoseconds, so epoch seconds would all land in 1970.
    """
    import numpy as np
    import pandas as pd

    if len(values) == 0 or pd.api.types.is_datetime64_any_dtype(values):
        return None
    head = pd.Series(np.asarray(values[:5], dtype=object))
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, str, np.number)) for v in head):
        return None  # datetime or Timestamp objects, booleans: not epoch numbers
    if pd.to_numeric(head, errors="coerce").isna().any():
        return None  # text dates (the common case): decided from five values, no copy of the column
    try:
        numbers = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    except TypeError:  # an object further down that is no number at all
        return None
    if numbers.isna().any():
        return None
    size = float(numbers.abs().max())
    # 1e11 s is the year 5138; 1e11 ms is 1973: sizes separate the units for any real date.
    return "ns" if size >= 1e17 else "us" if size >= 1e14 else "ms" if size >= 1e11 else "s"


def parse_time(value, what: str = "time"):
    """One time to tz-aware UTC (see :func:`to_utc`), or ``None`` for ``None`` or a blank string."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    import pandas as pd

    return to_utc(pd.Index([value]), what=what)[0]


def infer_step(index: pd.DatetimeIndex, default: pd.Timedelta | None = None) -> pd.Timedelta:
    """The sampling interval of a sorted index: its most common step, robust to jitter.

    Raw scrape timestamps carry sub-second jitter (``10:00:15.012``, ``10:00:29.987``): the
    raw differences are all different and their "most common" one can be a millisecond.
    When the median step is a second or more, the steps are rounded to whole seconds
    before the most common one is taken.

    With fewer than two timestamps, ``default`` if given, else a :class:`DataError`.
    """
    import pandas as pd

    if len(index) < 2:
        if default is not None:
            return pd.Timedelta(default)
        raise DataError("need at least two samples to tell the sampling interval")
    # Differences of the index itself: its unit (ns, us, s) varies with the source.
    steps = pd.Series(index[1:] - index[:-1])
    steps = steps[steps > pd.Timedelta(0)]
    if steps.empty:
        raise DataError("every sample has the same timestamp: cannot tell the sampling interval")
    if steps.median() >= pd.Timedelta("1s"):
        steps = steps.dt.round("1s")
        steps = steps[steps > pd.Timedelta(0)]
    return pd.Timedelta(steps.mode().iloc[0])


def run_lengths(mask: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Label runs of equal consecutive values in ``mask``.

    Returns
    -------
    run_id : Series of int
        The same number for every row of one run, increasing from run to run.
    length : Series of int
        The number of rows in the run each row belongs to.
    """
    run_id = (mask != mask.shift()).cumsum()
    return run_id, mask.groupby(run_id).transform("size")


def robust_sigma(values: np.ndarray | pd.Series) -> float:
    """``MAD_TO_SIGMA`` times the median absolute deviation from the median (NaN ignored)."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    return float(np.nanmedian(np.abs(arr - np.nanmedian(arr))) * MAD_TO_SIGMA)
