"""The default metric store: long-form Parquet, one file per service and month under
``data/store/service=<name>/month=<YYYY-MM>/``. Writes are upserts: writing the same rows
twice changes nothing (the file is not even rewritten). Reads push the service and time
filters down, so loading one service's fortnight does not read everything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from workbench._util import atomic_path
from workbench.contracts import LONG_COLUMNS, validate_long
from workbench.errors import StoreError
from workbench.store.base import KEY, ORIGIN, WriteResult, aggregate_frame, empty_frame

__all__ = ["ParquetStore"]


class ParquetStore:
    """Long-form metrics as Parquet, partitioned by service and month.

    Parameters
    ----------
    path
        The store's folder; created on the first write.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def from_config(cls, config) -> ParquetStore:
        """The store at ``store.parquet.path`` (relative to the project root)."""
        return cls(config.root / config.store.parquet.path)

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.path)!r})"

    def _partition(self, service: str, month: str) -> Path:
        return self.path / f"service={service}" / f"month={month}" / "data.parquet"

    def _partitions(self, service: str) -> list[tuple[str, Path]]:
        folder = self.path / f"service={service}"
        if not folder.is_dir():
            return []
        found = []
        for part in sorted(folder.glob("month=*/data.parquet")):
            found.append((part.parent.name.removeprefix("month="), part))
        return found

    def services(self) -> list[str]:
        """Services with at least one partition."""
        if not self.path.is_dir():
            return []
        return sorted(p.name.removeprefix("service=") for p in self.path.glob("service=*") if p.is_dir())

    def _read_file(self, path: Path, columns: list[str] | None = None, filters=None) -> pd.DataFrame:
        try:
            return pd.read_parquet(path, columns=columns, filters=filters)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: cannot read as Parquet ({exc}); move it aside and pull again") from exc

    def write(self, frame: pd.DataFrame) -> WriteResult:
        """Upsert long-form rows; new values win over stored ones for the same key.

        Every partition is written to a temporary file and renamed, so a crash leaves
        each partition either as it was or as it should be. A partition whose content
        would not change is not rewritten.
        """
        clean = validate_long(frame)
        # year * 100 + month: strftime over millions of rows costs seconds.
        months = clean["timestamp"].dt.year * 100 + clean["timestamp"].dt.month
        added = changed = 0
        for (service, month), rows in clean.groupby([clean["service"], months], sort=True):
            path = self._partition(service, f"{month // 100:04d}-{month % 100:02d}")
            rows = rows.reset_index(drop=True)
            if path.is_file():
                old = self._read_file(path)
                old["timestamp"] = pd.to_datetime(old["timestamp"], utc=True)
                both = old.merge(rows, on=KEY, how="outer", suffixes=("_old", ""), indicator=True)
                new_rows = int((both["_merge"] == "right_only").sum())
                differs = (both["_merge"] == "both") & (both["value_old"] != both["value"])
                if new_rows == 0 and not differs.any():
                    continue
                both["value"] = both["value"].where(both["_merge"] != "left_only", both["value_old"])
                merged = both[LONG_COLUMNS]
                added += new_rows
                changed += int(differs.sum())
            else:
                merged = rows
                added += len(rows)
            merged = merged.sort_values(["metric", "timestamp"], kind="stable").reset_index(drop=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                merged[LONG_COLUMNS].to_parquet(tmp, index=False)
        return WriteResult(added, changed)

    def read(
        self,
        services: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Long-form rows for ``services`` (default: all) in ``[start, end)``, sorted."""
        filters = []
        if start is not None:
            filters.append(("timestamp", ">=", start))
        if end is not None:
            filters.append(("timestamp", "<", end))
        lo = None if start is None else start.strftime("%Y-%m")
        hi = None if end is None else end.strftime("%Y-%m")
        parts = []
        for service in services if services is not None else self.services():
            for month, path in self._partitions(service):
                if (lo is not None and month < lo) or (hi is not None and month > hi):
                    continue
                part = self._read_file(path, filters=filters or None)
                if not part.empty:
                    parts.append(part)
        if not parts:
            return empty_frame()
        return validate_long(pd.concat(parts, ignore_index=True), check=False)  # checked when written

    def latest(self, services: list[str] | None = None) -> dict[tuple[str, str], pd.Timestamp]:
        """The newest stored timestamp per ``(service, metric)``."""
        found: dict[tuple[str, str], pd.Timestamp] = {}
        for service in services if services is not None else self.services():
            # Newest month first; a metric absent there is looked for further back.
            for _, path in reversed(self._partitions(service)):
                part = self._read_file(path, columns=["metric", "timestamp"])
                for metric, ts in part.groupby("metric")["timestamp"].max().items():
                    found.setdefault((service, metric), pd.Timestamp(ts))
        return found

    def aggregate(
        self,
        window: str,
        services: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        origin: pd.Timestamp = ORIGIN,
    ) -> pd.DataFrame:
        """Per window, service and metric: ``mean``, ``max`` and ``count`` of the samples.

        Windows start at ``origin + k * window``, as PostgreSQL's ``date_bin``.
        """
        return aggregate_frame(self.read(services, start, end), window, origin)
