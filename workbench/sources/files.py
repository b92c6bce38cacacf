"""Metrics from a long-form CSV or Parquet file (``source.files.path`` in the config)."""

from __future__ import annotations

import pandas as pd

from workbench.config import Config
from workbench.contracts import validate_long
from workbench.errors import DataError
from workbench.store.files import read_parquet


class FilesSource:
    """Reads ``timestamp, service, metric, value`` rows from ``.csv`` or ``.parquet``."""

    def __init__(self, config: Config) -> None:
        self.path = (config.root / config.source.files.path).resolve()

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        if self.path.suffix == ".parquet":
            return read_parquet(self.path, services, start, end)
        if self.path.suffix != ".csv":
            raise DataError(f"{self.path}: expected a .csv or .parquet file")
        if not self.path.is_file():
            raise DataError(f"metrics file not found: {self.path}")
        try:
            frame = pd.read_csv(self.path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.path}: not a readable CSV ({exc})") from exc
        frame = validate_long(frame)
        keep = frame["service"].isin(services)
        if start is not None:
            keep &= frame["timestamp"] >= start
        if end is not None:
            keep &= frame["timestamp"] < end
        return frame[keep].reset_index(drop=True)
