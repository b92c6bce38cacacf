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

__all__ = ["check_options", "open_sinks", "severity"]


def check_options(kind: str, options: dict, allowed: set[str]) -> None:
    """Refuse settings a sink does not take, naming the ones it does."""
    unknown = sorted(set(options) - allowed)
    if unknown:
        from workbench.errors import ConfigError

        raise ConfigError(f"alerting.sinks: the {kind} sink has no settings {unknown} (it takes: {', '.join(sorted(allowed))})")


def severity(action: str) -> str:
    """A receiver's severity for an alert action: ``warning`` for an investigation, else ``critical``."""
    from workbench.contracts import AlertAction

    return "warning" if action == AlertAction.INVESTIGATE else "critical"


def open_sinks(config: Config) -> dict:
    """``name -> sink`` for every entry of ``alerting.sinks``."""
    return {s.label: SINKS.load(s.kind).from_settings(s.options(), config) for s in config.alerting.sinks}
