"""Credentials are masked in anything shown (:mod:`workbench._secrets`)."""

import pytest

from workbench._secrets import redact


@pytest.mark.parametrize(
    "text, secret, kept",
    [
        ("could not reach http://alice:S3cretPW@prom.internal:9090/api/v1", "S3cretPW", "http://alice:***@prom.internal:9090"),
        ("https://ghp_abcdef123@git.example/x", "ghp_abcdef123", "https://***@git.example/x"),
        ("postgresql://wb:hunter2@db:5432/wb", "hunter2", "postgresql://wb:***@db:5432/wb"),
        ("host=db port=5432 password=hunter2 dbname=wb", "hunter2", "host=db port=5432 password=*** dbname=wb"),
        ("host=db password='hunter 2' dbname=wb", "hunter", "password='***"),
        ("GET /q?query=up&token=abc123xyz&x=1", "abc123xyz", "token=***&x=1"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi", "Authorization: Bearer ***"),
        ("(got 'http://bob:Hunter2pw@prom:9090')", "Hunter2pw", "http://bob:***@prom:9090"),
        ("api_key = k-123", "k-123", "api_key = ***"),
    ],
)
def test_redact_masks_the_secret_and_keeps_the_rest(text, secret, kept):
    out = redact(text)
    assert secret not in out and kept in out


@pytest.mark.parametrize("text", ["http://prom:9090/api/v1/query_range", "checkout p99 latency 412 ms", "a/b@c", "user@example.com wrote"])
def test_redact_leaves_text_without_credentials_alone(text):
    assert redact(text) == text


def test_redact_tree_masks_every_string_keys_included():
    from workbench._secrets import redact_tree

    url = "https://bob:hunter2@prom.example/api"
    tree = {"source": url, url: [1, (url, None)], "n": 3}
    masked = redact_tree(tree)
    assert "hunter2" not in repr(masked)
    assert masked["n"] == 3 and masked[redact(url)][0] == 1 and masked[redact(url)][1][1] is None
