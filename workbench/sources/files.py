"""Metrics from a long-form CSV or Parquet file (``source.files.path`` in the config).

Timestamps without an offset are UTC, unless ``source.files.timezone`` names the zone
they were written in: then each series is read as local time and converted, the repeated
hour of an autumn daylight-saving change told apart by its order in the file (as
``pandas`` ``ambiguous="infer"`` does). Without that setting, a duplicated hour of
conflicting values is refused with a hint that the file may hold local times.
"""

from __future__ import annotations

import pandas as pd

from workbench.config import Config
from workbench.contracts import validate_long
from workbench.errors import DataError
from workbench.store.files import read_parquet

__all__ = ["FilesSource", "localize"]


def localize(frame: pd.DataFrame, timezone: str, path) -> pd.DataFrame:
    """``frame`` with its naive ``timestamp`` column read as local times in ``timezone``, in UTC.

    Raises
    ------
    DataError
        A timestamp that did not exist there (skipped by a spring change) or a repeated
        hour whose order cannot tell which is which.
    """
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


class FilesSource:
    """Reads ``timestamp, service, metric, value`` rows from ``.csv`` or ``.parquet``."""

    def __init__(self, config: Config) -> None:
        self.path = (config.root / config.source.files.path).resolve()
        self.timezone = config.source.files.timezone

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        if self.path.suffix == ".parquet" and self.timezone is None:
            return read_parquet(self.path, services, start, end)
        if self.path.suffix not in (".csv", ".parquet"):
            raise DataError(f"{self.path}: expected a .csv or .parquet file")
        if not self.path.is_file():
            raise DataError(f"metrics file not found: {self.path}")
        try:
            frame = pd.read_csv(self.path) if self.path.suffix == ".csv" else pd.read_parquet(self.path)
        except pd.errors.EmptyDataError:
            raise DataError(f"{self.path}: the file is empty (0 bytes, or no header line); expected timestamp,service,metric,value") from None
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
            kind = "CSV" if self.path.suffix == ".csv" else "Parquet"
            raise DataError(f"{self.path}: not a readable {kind} file ({exc})") from exc
        if self.timezone is not None and {"timestamp", "service", "metric"} <= set(frame.columns) and len(frame):
            frame = localize(frame, self.timezone, self.path)
        try:
            frame = validate_long(frame)
        except DataError as exc:
            if self.timezone is None and "same service, metric and timestamp" in str(exc):
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
