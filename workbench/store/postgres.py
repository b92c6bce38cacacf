"""The shared metric store: one PostgreSQL table ``(service, metric, ts, value)`` with
primary key ``(service, metric, ts)``, upserts with ``ON CONFLICT``, window aggregates
with ``date_bin``. Plain PostgreSQL 14+ (no TimescaleDB needed); psycopg 3.
"""

from __future__ import annotations

import pandas as pd

from workbench.contracts import LONG_COLUMNS, validate_long
from workbench.errors import StoreError
from workbench.settings import postgres_dsn
from workbench.store.base import ORIGIN, WriteResult, empty_frame

__all__ = ["PostgresStore"]


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

    @classmethod
    def from_config(cls, config) -> PostgresStore:
        """The store at ``$WORKBENCH_POSTGRES_DSN`` when set (it may carry a password),
        else ``store.postgres.dsn`` from the config (which may not)."""
        return cls(postgres_dsn(config.store.postgres), config.store.postgres.table)

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
            return empty_frame()
        frame = pd.DataFrame(rows, columns=LONG_COLUMNS)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return validate_long(frame, check=False)  # checked when written

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
