"""Metrics read back from the store that ``workbench pull`` fills: ``parquet`` or ``postgres``."""

from __future__ import annotations

import pandas as pd

from workbench.config import Config
from workbench.store import open_store


class _StoreSource:
    kind = ""

    def __init__(self, config: Config) -> None:
        self.store = open_store(config, self.kind)

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        return self.store.read(services, start, end)


class ParquetStoreSource(_StoreSource):
    """The Parquet store under ``store.parquet.path`` (default ``data/store``)."""

    kind = "parquet"


class PostgresStoreSource(_StoreSource):
    """The PostgreSQL store (``store.postgres``; password from the environment)."""

    kind = "postgres"
