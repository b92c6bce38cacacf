"""Keep credentials out of what is shown: messages, logs, reports, executed notebooks.

Credentials come from the environment (``WORKBENCH_PROMETHEUS_URL`` may carry
``user:password@``, ``WORKBENCH_POSTGRES_DSN`` a ``password=``), so any text built from a
URL, a DSN or a server's error message passes through :func:`redact` before a person or a
file sees it. Redacting is deliberately generous: a stray ``token=...`` in an error is
masked too.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "redact", "redact_tree"]

MASK = "***"

# scheme://user:password@  or  scheme://token@  (the userinfo of a URL or DSN)
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^/\s:@'\"]*)(?::(?P<pw>[^/\s@'\"]*))?@", re.IGNORECASE)
# password=..., token: ..., api_key=..., in libpq DSNs, query strings, headers and messages
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|pass|token|access_token|api[_-]?key|apikey|secret|routing_key|authorization)"
    r"\s*[=:]\s*(?:bearer\s+|basic\s+)?)(?P<quote>['\"]?)(?P<value>[^\s'\"&,;)]+)",
    re.IGNORECASE,
)


def _userinfo(match: re.Match) -> str:
    if match["pw"] is not None:  # user:password@ -> user:***@ (the user helps whoever debugs)
        return f"{match['scheme']}{match['user']}:{MASK}@"
    return f"{match['scheme']}{MASK}@"  # a lone userinfo is often a token


def redact(text: str) -> str:
    """``text`` with every credential it holds replaced by ``***``.

    Examples
    --------
    >>> redact("http://alice:S3cret@prom:9090/api")
    'http://alice:***@prom:9090/api'
    >>> redact("host=db password=hunter2 dbname=wb")
    'host=db password=*** dbname=wb'
    """
    text = _USERINFO.sub(_userinfo, str(text))
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", text)


def redact_tree(value):
    """``value`` (JSON-like: strings, dicts, lists, tuples) with every string's credentials
    masked, keys included; other values as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_tree(k): redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v) for v in value]
    return value
