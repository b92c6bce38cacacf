"""Where pulled metrics are kept, behind one interface (``write``, ``read``, ``latest``,
``aggregate``): :mod:`~workbench.store.parquet` (default, files under ``data/``) and
:mod:`~workbench.store.postgres` (shared). Stores are registered in
:data:`workbench._registry.STORES`; :func:`open_store` picks the configured one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench._registry import STORES

if TYPE_CHECKING:
    from workbench.config import Config

__all__ = ["open_store"]


def open_store(config: Config, kind: str | None = None):
    """The configured store (``store.kind``), or the registered store ``kind``.

    Raises :class:`~workbench.errors.ConfigError` for an unknown kind, listing the choices.
    """
    return STORES.load(kind or config.store.kind).from_config(config)
