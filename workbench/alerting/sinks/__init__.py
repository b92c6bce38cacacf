"""Alert sinks, registered by name in :data:`workbench._registry.SINKS`: ``file`` (default,
JSON lines under ``data/alerts/``). Each takes an outbox row (``id``, ``event``,
``episode``, ``payload``) in ``send`` and raises :class:`workbench.errors.DeliveryError`
when it cannot deliver it, saying whether a retry may help.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench._registry import SINKS

if TYPE_CHECKING:
    from workbench.config import Config

__all__ = ["open_sinks"]


def open_sinks(config: Config) -> dict:
    """``name -> sink`` for every entry of ``alerting.sinks``."""
    return {s.label: SINKS.load(s.kind).from_settings(s.options(), config) for s in config.alerting.sinks}
