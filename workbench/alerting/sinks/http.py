"""One HTTP POST for a sink, with failures sorted the way the outbox needs them.

Timeouts, refused connections, HTTP 429 and 5xx are retryable; a timeout may also have
reached the receiver (so a trigger is never held back as a late page); any other 4xx is
final (a dead letter with the receiver's reason).
"""

from __future__ import annotations

import requests

from workbench.errors import DeliveryError

__all__ = ["post_json"]


def post_json(session: requests.Session, url: str, body, timeout: float, what: str) -> requests.Response:
    """POST ``body`` as JSON to ``url``; raise :class:`DeliveryError` naming ``what`` on failure."""
    try:
        response = session.post(url, json=body, timeout=timeout)
    except requests.Timeout as exc:
        raise DeliveryError(f"{what} timed out after {timeout:g} s", retry=True, reached=True) from exc
    except requests.RequestException as exc:
        # The exception's text can hold the URL; the type says enough and leaks nothing.
        raise DeliveryError(f"{what} could not be reached ({type(exc).__name__})", retry=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"{what} answered HTTP {response.status_code}: {response.text[:300]}", retry=True)
    if response.status_code >= 400:
        raise DeliveryError(f"{what} refused the event with HTTP {response.status_code}: {response.text[:300]}", retry=False)
    return response
