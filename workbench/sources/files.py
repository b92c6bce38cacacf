"""Metrics from a team's CSV or Parquet file (``source.files`` in the config).

Long form (``timestamp, service, metric, value``) or wide (``timestamp, service`` and one
column per metric), with the file's own column names and metric names mapped to the
contract's (``source.files.columns`` and ``source.files.metrics``).

Timestamps without an offset are UTC, unless ``source.files.timezone`` names the zone
they were written in: then each series is read as local time and converted, the repeated
hour of an autumn daylight-saving change told apart by its order in the file (as
``pandas`` ``ambiguous="infer"`` does). Without that setting, a duplicated hour of
conflicting values is refused with a hint that the file may hold local times.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from workbench._util import _epoch_unit, to_utc
from workbench.config import Config
from workbench.contracts import CANONICAL_METRICS, validate_long
from workbench.errors import ConflictingSamplesError, DataError, DataWarning
from workbench.settings.data import FileColumns, FilesSettings
from workbench.store.files import read_parquet

__all__ = ["FilesSource", "localize", "read_table", "to_long"]


def localize(frame: pd.DataFrame, timezone: str, path) -> pd.DataFrame:
    """``frame`` with its naive ``timestamp`` column read as local times in ``timezone``, in UTC.

    Raises
    ------
    DataError
        A timestamp that did not exist there (skipped by a spring change) or a repeated
        hour whose order cannot tell which is which.
    """
    if _epoch_unit(frame["timestamp"]) is not None:
        return frame.assign(timestamp=to_utc(frame["timestamp"]))  # epoch times are UTC whatever the zone
    stamps = pd.to_datetime(frame["timestamp"], format="mixed", errors="coerce")
    if stamps.isna().any():
        raise DataError(f"{path}: timestamp: cannot parse {int(stamps.isna().sum())} values, e.g. {frame.loc[stamps.isna(), 'timestamp'].iloc[0]!r}")
    if stamps.dt.tz is not None:
        return frame.assign(timestamp=stamps.dt.tz_convert("UTC"))
    out = []
    for _, rows in frame.assign(timestamp=stamps).groupby(["service", "metric"], sort=False):
        try:
            local = rows["timestamp"].dt.tz_localize(timezone, ambiguous="infer", nonexistent="raise")
        except ValueError as exc:  # a time skipped, or a repeated hour out of order
            raise DataError(
                f"{path}: {rows['service'].iloc[0]} {rows['metric'].iloc[0]}: cannot read its times as {timezone} local time ({exc}); "
                "write the timestamps with their UTC offset instead"
            ) from None
        out.append(rows.assign(timestamp=local.dt.tz_convert("UTC")))
    return pd.concat(out).sort_index()


def read_table(path: Path) -> pd.DataFrame:
    """A team's CSV or Parquet file as it is (no mapping yet), with clear errors.

    Raises
    ------
    DataError
        Not a ``.csv`` or ``.parquet`` file, missing, empty (0 bytes or no header), or unreadable.
    """
    if path.suffix not in (".csv", ".parquet"):
        raise DataError(f"{path}: expected a .csv or .parquet file")
    if not path.is_file():
        raise DataError(f"metrics file not found: {path}")
    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (0 bytes, or no header line); expected timestamp,service,metric,value") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "CSV" if path.suffix == ".csv" else "Parquet"
        raise DataError(f"{path}: not a readable {kind} file ({exc})") from exc


def to_long(frame: pd.DataFrame, settings: FilesSettings, path) -> pd.DataFrame:
    """A team's file in the long-form contract: its columns renamed, a wide file melted, its
    metric names mapped to the canonical ones (``source.files``); other metrics left out with a note.

    Raises
    ------
    DataError
        A configured column is missing (the message lists the file's columns).
    """
    cols = settings.columns
    needed = [cols.timestamp, cols.service] + ([cols.metric, cols.value] if settings.form == "long" else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: no column {missing} (source.files.columns, form {settings.form}); the file has {list(frame.columns)}"
        )
    names = {**{m: m for m in CANONICAL_METRICS}, **settings.metrics}
    if settings.form == "wide":
        kept = [c for c in frame.columns if c in names]
        other = [c for c in frame.columns if c not in names and c not in (cols.timestamp, cols.service)]
        frame = frame.melt(id_vars=[cols.timestamp, cols.service], value_vars=kept, var_name="metric", value_name="value")
    else:
        present = frame[cols.metric].astype(str)
        other = sorted(set(present) - set(names))
        frame = frame.rename(columns={cols.metric: "metric", cols.value: "value"})
        frame = frame[present.isin(names).to_numpy()]
    if other:
        warnings.warn(
            f"{path}: metrics {other[:10]} are not canonical and not mapped (source.files.metrics), so they are left out",
            DataWarning,
            stacklevel=3,
        )
    frame = frame.rename(columns={cols.timestamp: "timestamp", cols.service: "service"})
    return frame.assign(metric=frame["metric"].astype(str).map(names))


class FilesSource:
    """Reads a team's metrics from ``.csv`` or ``.parquet``: long form by default, or wide,
    with the column and metric names mapped as ``source.files`` says."""

    def __init__(self, config: Config) -> None:
        self.settings = config.source.files
        self.path = (config.root / self.settings.path).resolve()
        self.timezone = self.settings.timezone

    def _as_is(self) -> bool:
        """The file is already in the contract (read it through the store's fast Parquet reader)."""
        s = self.settings
        return s.form == "long" and not s.metrics and s.columns == FileColumns() and self.timezone is None

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        if self.path.suffix == ".parquet" and self._as_is():
            return read_parquet(self.path, services, start, end)
        frame = read_table(self.path)
        if not self._as_is() and len(frame):
            frame = to_long(frame, self.settings, self.path)
        if self.timezone is not None and {"timestamp", "service", "metric"} <= set(frame.columns) and len(frame):
            frame = localize(frame, self.timezone, self.path)
        try:
            frame = validate_long(frame)
        except ConflictingSamplesError as exc:
            if self.timezone is None:
                raise DataError(
                    f"{self.path}: {exc}\nIf the file holds local times across a daylight-saving change, set "
                    "source.files.timezone (e.g. Europe/Berlin) so the repeated hour is read as the two hours it was"
                ) from None
            raise
        keep = frame["service"].isin(services)
        if start is not None:
            keep &= frame["timestamp"] >= start
        if end is not None:
            keep &= frame["timestamp"] < end
        return frame[keep].reset_index(drop=True)
