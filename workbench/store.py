"""Where metrics are kept: single Parquet files, a partitioned Parquet store, PostgreSQL.

* :func:`read_parquet` / :func:`write_parquet`: one long-form file (the sample cache,
  the ``files`` source).
* :class:`ParquetStore`: the default store, one file per service and month under
  ``data/store/service=<name>/month=<YYYY-MM>/``. Writes are upserts: writing the same
  rows twice changes nothing (the file is not even rewritten).
* :class:`PostgresStore`: the shared store, table ``(service, metric, ts, value)`` with
  primary key ``(service, metric, ts)``, upserts with ``ON CONFLICT``, window aggregates
  with ``date_bin``. Plain PostgreSQL (no TimescaleDB needed).

Both stores have the same methods: ``write``, ``read``, ``latest`` and ``aggregate``.
Reads push the service and time filters down, so loading one service's fortnight does
not read everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.config import POSTGRES_DSN_ENV, Config
from workbench.frames import LONG_COLUMNS, DataError, validate_long

__all__ = ["ParquetStore", "PostgresStore", "StoreError", "open_store", "read_parquet", "write_parquet"]

KEY = ["service", "metric", "timestamp"]
#: Where aggregate windows are counted from (a Monday, midnight UTC), as ``date_bin``'s origin.
ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")


class StoreError(DataError):
    """The store cannot be read or written (missing, unreachable, corrupt)."""


def read_parquet(
    path: str | os.PathLike[str],
    services: list[str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Long-form metrics from a Parquet file, limited to ``services`` and ``[start, end)``.

    Raises
    ------
    DataError
        The file is missing or unreadable, or its rows break the long-form contract.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"metrics file not found: {path}")
    filters = []
    if services is not None:
        filters.append(("service", "in", list(services)))
    if start is not None:
        filters.append(("timestamp", ">=", start))
    if end is not None:
        filters.append(("timestamp", "<", end))
    try:
        frame = pd.read_parquet(path, filters=filters or None)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({exc})") from exc
    if frame.empty:
        return frame
    return validate_long(frame)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Validate ``frame`` and write it to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    clean = validate_long(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    clean.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "service": pd.Series([], dtype=object),
            "metric": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=float),
        }
    )


def _aggregate_frame(frame: pd.DataFrame, window: str, origin: pd.Timestamp) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["window", "service", "metric", "mean", "max", "count"])
    width = pd.Timedelta(window)
    bins = origin + ((frame["timestamp"] - origin) // width) * width
    out = (
        frame.assign(window=bins)
        .groupby(["window", "service", "metric"], sort=True)["value"]
        .agg(["mean", "max", "count"])
        .reset_index()
    )
    out["count"] = out["count"].astype("int64")
    return out


@dataclass(frozen=True)
class WriteResult:
    """What a store write did: rows new to the store and rows whose value changed."""

    added: int
    changed: int


class ParquetStore:
    """Long-form metrics as Parquet, partitioned by service and month.

    Parameters
    ----------
    path
        The store's folder; created on the first write.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

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
            tmp = path.with_name(".data.parquet.tmp")
            merged[LONG_COLUMNS].to_parquet(tmp, index=False)
            tmp.replace(path)
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
            return _empty()
        return validate_long(pd.concat(parts, ignore_index=True))

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
        return _aggregate_frame(self.read(services, start, end), window, origin)


class PostgresStore:
    """Long-form metrics in one PostgreSQL table (psycopg 3).

    Parameters
    ----------
    dsn
        A libpq connection string. Keep passwords out of it and in ``PGPASSWORD``,
        ``~/.pgpass`` or ``$WORKBENCH_POSTGRES_DSN`` (see :func:`open_store`).
    table
        The table name; created on first use.
    """

    def __init__(self, dsn: str, table: str = "workbench_metrics", connect_timeout: int = 10) -> None:
        self.dsn = dsn
        self.table = table
        self.connect_timeout = connect_timeout
        self._ready = False

    def __repr__(self) -> str:
        return f"PostgresStore(table={self.table!r})"  # the DSN may hold a password

    def _connect(self):
        import psycopg

        try:
            conn = psycopg.connect(self.dsn, connect_timeout=self.connect_timeout, autocommit=False)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to the PostgreSQL store: {str(exc).strip()}") from exc
        if not self._ready:
            with conn.cursor() as cur:
                cur.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {t} ("
                    " service text NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL,"
                    " value double precision NOT NULL, PRIMARY KEY (service, metric, ts))"
                ))
            conn.commit()
            self._ready = True
        return conn

    def _sql(self, text: str):
        from psycopg import sql

        return sql.SQL(text).format(t=sql.Identifier(self.table))

    def write(self, frame: pd.DataFrame) -> WriteResult:
        """Upsert long-form rows in one transaction; unchanged rows are not touched."""
        import psycopg

        clean = validate_long(frame)
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("CREATE TEMP TABLE incoming (service text, metric text, ts timestamptz, value double precision) ON COMMIT DROP")
                with cur.copy("COPY incoming (service, metric, ts, value) FROM STDIN") as copy:
                    for row in zip(clean["service"], clean["metric"], clean["timestamp"].dt.to_pydatetime(), clean["value"].to_numpy()):
                        copy.write_row(row)
                cur.execute(self._sql(
                    "SELECT count(*) FILTER (WHERE m.ts IS NULL), count(*) FILTER (WHERE m.value <> i.value)"
                    " FROM incoming i LEFT JOIN {t} m USING (service, metric, ts)"
                ))
                added, changed = cur.fetchone()
                cur.execute(self._sql(
                    "INSERT INTO {t} AS m (service, metric, ts, value) SELECT service, metric, ts, value FROM incoming"
                    " ON CONFLICT (service, metric, ts) DO UPDATE SET value = EXCLUDED.value"
                    " WHERE m.value IS DISTINCT FROM EXCLUDED.value"
                ))
        except psycopg.Error as exc:
            raise StoreError(f"writing to the PostgreSQL store failed, nothing was written: {str(exc).strip()}") from exc
        finally:
            conn.close()
        return WriteResult(int(added), int(changed))

    @staticmethod
    def _where(services, start, end) -> tuple[str, list]:
        clauses, args = [], []
        if services is not None:
            clauses.append("service = ANY(%s)")
            args.append(list(services))
        if start is not None:
            clauses.append("ts >= %s")
            args.append(start.to_pydatetime())
        if end is not None:
            clauses.append("ts < %s")
            args.append(end.to_pydatetime())
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _query(self, text: str, args: list) -> list[tuple]:
        import psycopg

        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(self._sql(text), args)
                return cur.fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"reading the PostgreSQL store failed: {str(exc).strip()}") from exc
        finally:
            conn.close()

    def read(
        self,
        services: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Long-form rows for ``services`` (default: all) in ``[start, end)``, sorted."""
        where, args = self._where(services, start, end)
        rows = self._query("SELECT ts, service, metric, value FROM {t}" + where + " ORDER BY service, metric, ts", args)
        if not rows:
            return _empty()
        frame = pd.DataFrame(rows, columns=LONG_COLUMNS)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return validate_long(frame)

    def latest(self, services: list[str] | None = None) -> dict[tuple[str, str], pd.Timestamp]:
        """The newest stored timestamp per ``(service, metric)``."""
        where, args = self._where(services, None, None)
        rows = self._query("SELECT service, metric, max(ts) FROM {t}" + where + " GROUP BY service, metric", args)
        return {(s, m): pd.Timestamp(ts).tz_convert("UTC") for s, m, ts in rows}

    def aggregate(
        self,
        window: str,
        services: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        origin: pd.Timestamp = ORIGIN,
    ) -> pd.DataFrame:
        """Per window, service and metric: ``mean``, ``max`` and ``count``, computed in SQL.

        Uses ``date_bin(window, ts, origin)``, PostgreSQL 14 and newer.
        """
        where, args = self._where(services, start, end)
        seconds = pd.Timedelta(window).total_seconds()
        rows = self._query(
            "SELECT date_bin(make_interval(secs => %s), ts, %s) AS bucket, service, metric,"
            " avg(value), max(value), count(*) FROM {t}" + where + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            [seconds, origin.to_pydatetime(), *args],
        )
        frame = pd.DataFrame(rows, columns=["window", "service", "metric", "mean", "max", "count"])
        if not frame.empty:
            frame["window"] = pd.to_datetime(frame["window"], utc=True)
            frame["count"] = frame["count"].astype("int64")
            frame[["mean", "max"]] = frame[["mean", "max"]].astype(float)
        return frame


def open_store(config: Config, kind: str | None = None) -> ParquetStore | PostgresStore:
    """The configured store (``store.kind``), or ``kind`` (``parquet`` or ``postgres``).

    The PostgreSQL connection string is ``$WORKBENCH_POSTGRES_DSN`` when set (it may
    carry a password), else ``store.postgres.dsn`` from the config (which may not).
    """
    kind = kind or config.store.kind
    if kind == "parquet":
        return ParquetStore(config.root / config.store.parquet.path)
    if kind == "postgres":
        dsn = os.environ.get(POSTGRES_DSN_ENV) or config.store.postgres.dsn
        return PostgresStore(dsn, config.store.postgres.table)
    raise StoreError(f"unknown store {kind!r}; expected parquet or postgres")

