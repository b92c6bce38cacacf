"""What the verbs share: loading the config, parsing ``--param``, showing paths."""

from __future__ import annotations

import os
from pathlib import Path

from workbench.errors import ParameterError

__all__ = ["add_at", "add_json", "add_services", "add_source", "load_config", "parse_params", "shown"]


def load_config(path: str | None):
    """The validated config at ``path`` (default: the project's)."""
    from workbench.config import load_config as load

    return load(path)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``--param key=value`` pairs as a dict."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param takes key=value, got {pair!r}")
        params[name.strip()] = value
    return params


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it can be, for messages."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


# The options many verbs share, worded once.


def add_services(parser, what: str = "services") -> None:
    parser.add_argument("--services", nargs="+", help=f"{what} (default: all)")


def add_source(parser) -> None:
    from workbench._registry import SOURCES

    parser.add_argument("--source", choices=SOURCES.names(), help="metric source (default: the configured one)")


def add_json(parser, what: str = "print JSON") -> None:
    parser.add_argument("--json", action="store_true", help=what)


def add_at(parser) -> None:
    parser.add_argument("--at", help="act as if it were this time (ISO, UTC if no zone); default now")
