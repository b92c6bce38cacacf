"""LLM wording against a local stand-in for an OpenAI-compatible chat-completions endpoint.

The stand-in (``http.server`` on 127.0.0.1, in a thread) implements ``POST
/v1/chat/completions`` with OpenAI's documented request and response shape; each test
sets what it answers (text, status, delay) and reads back what it was sent.
"""

import json
import logging
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.runbooks.llm import (
    ENV_BASE_URL,
    ENV_CREDENTIAL,
    ENV_MODEL,
    ENV_TIMEOUT,
    LLMSettings,
    keep_cited,
    prompt,
    word,
)
from workbench.runbooks.signature import signature
from workbench.runbooks.similar import Match, Retrieval
from workbench.runbooks.suggest import suggest_steps

# A fresh made-up key per run: the tests check it never leaks, and no key sits in the code.
KEY = "sk-test-" + secrets.token_hex(12)


class StandIn:
    """What the stand-in answers next, and what it was sent."""

    def __init__(self) -> None:
        self.content: str | None = "Kill the runaway batch job [INC-0007]."
        self.status = 200
        self.delay = 0.0
        self.raw: bytes | None = None  # a body that is not a chat completion
        self.requests: list[dict] = []


def _handler(state: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            time.sleep(state.delay)
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            elif state.status != 200:
                # Real endpoints sometimes repeat what they were sent in an error: the key must not leak through it.
                self._send(state.status, {"error": {"message": f"upstream failed for {self.headers.get('Authorization')}", "type": "server_error"}})
            elif state.raw is not None:
                self._send_bytes(200, state.raw)
            else:
                self._send(200, {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 1764300000,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": state.content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })

        def _send(self, status, payload):
            self._send_bytes(status, json.dumps(payload).encode())

        def _send_bytes(self, status, data):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

    return Handler


@pytest.fixture()
def server():
    state = StandIn()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()
    httpd.server_close()


def settings(state, timeout: float = 5.0) -> LLMSettings:
    return LLMSettings.from_env({ENV_BASE_URL: state.url, ENV_MODEL: "stand-in-1", ENV_CREDENTIAL: KEY, ENV_TIMEOUT: str(timeout)})


def m(incident_id, similarity, resolution):
    return Match(incident_id, "checkout", similarity, "night_cpu_saturation: runaway batch job", resolution, "night_cpu_saturation")


MATCHES = (m("INC-0007", 0.95, "batch job killed"), m("INC-0011", 0.9, "batch job killed; job rescheduled with limits"))
RETRIEVAL = Retrieval("EP-1", "checkout", MATCHES, MATCHES, 0.8, False, "the closest past incident is INC-0007")
STEPS = suggest_steps(RETRIEVAL)
Z = pd.DataFrame({"cpu_usage": [0.0, 12.0, 14.0, 0.0], "request_rate": 0.0}, index=pd.date_range("2026-10-05T02:00Z", periods=4, freq="15min"))
EPISODE = signature(Z, "checkout", Z.index[1], Z.index[3], id="EP-1")


def every_text(wording, caplog) -> str:
    return json.dumps(wording.as_dict(), default=str) + repr(wording) + caplog.text


def test_the_happy_path_words_the_steps_with_checked_citations(server, caplog):
    server.content = "Kill the runaway batch job [INC-0007, INC-0011].\nThen reschedule it with CPU limits [INC-0011]."
    with caplog.at_level(logging.DEBUG):
        wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert (wording.source, wording.reason, wording.dropped) == ("llm", "", 0)
    assert wording.text == server.content and wording.cited == ("INC-0007", "INC-0011")
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "stand-in-1" and [msg["role"] for msg in sent["body"]["messages"]] == ["system", "user"]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in every_text(wording, caplog)


def test_the_prompt_holds_the_episode_and_the_retrieved_incidents_only():
    messages = prompt(EPISODE, RETRIEVAL, STEPS)
    text = json.dumps(messages)
    assert "checkout" in text and "cpu usage up" in text and "02:15" in text
    assert "INC-0007" in text and "INC-0011" in text and "job rescheduled with limits" in text
    assert "Cite only these ids: INC-0007, INC-0011" in messages[0]["content"]
    assert KEY not in text


def test_a_sentence_citing_an_incident_not_retrieved_is_dropped_and_counted(server, caplog):
    server.content = "Kill the batch job [INC-0007]. Restart the database [INC-0099]. Check the cron schedule."
    with caplog.at_level(logging.WARNING):
        wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert wording.source == "llm" and wording.dropped == 1
    assert wording.text == "Kill the batch job [INC-0007]. Check the cron schedule."
    assert "INC-0099" not in wording.text and wording.cited == ("INC-0007",)
    assert "1 sentence(s) dropped" in caplog.text


def test_an_answer_with_nothing_left_falls_back_to_the_retrieved_steps(server):
    server.content = "Restart the database [INC-0099]. Fail over [INC-0100, INC-0007]."
    wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert wording.source == "retrieved" and wording.dropped == 2
    assert "nothing was left" in wording.reason
    assert wording.text == "1. batch job killed [INC-0007, INC-0011]\n2. job rescheduled with limits [INC-0011]"


def test_a_slow_server_times_out_and_falls_back(server, caplog):
    server.delay = 1.0
    started = time.perf_counter()
    wording = word(EPISODE, RETRIEVAL, STEPS, settings(server, timeout=0.2))
    assert time.perf_counter() - started < 0.9
    assert wording.source == "retrieved" and wording.reason == "the LLM endpoint did not answer within 0.2 s"
    assert wording.steps == tuple(STEPS) and "did not answer" in caplog.text


def test_a_server_error_falls_back_without_leaking_the_key(server, caplog):
    server.status = 500
    wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert wording.source == "retrieved" and wording.reason.startswith("the LLM endpoint answered HTTP 500")
    assert KEY not in every_text(wording, caplog)


@pytest.mark.parametrize("raw", [b"<html>gateway</html>", b'{"choices": []}', b'{"choices": [{"message": {"content": null}}]}'])
def test_an_answer_that_is_not_a_chat_completion_falls_back(server, raw):
    server.raw = raw
    wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert wording.source == "retrieved" and wording.reason == "the LLM endpoint's answer was not a chat completion"


def test_an_empty_answer_falls_back(server):
    server.content = "  "
    assert word(EPISODE, RETRIEVAL, STEPS, settings(server)).reason == "the LLM's answer was empty"


def test_an_unreachable_endpoint_falls_back(server):
    unreachable = LLMSettings("http://127.0.0.1:9/v1", "stand-in-1", KEY, 2.0)
    wording = word(EPISODE, RETRIEVAL, STEPS, unreachable)
    assert wording.source == "retrieved" and wording.reason.startswith("the LLM endpoint could not be reached")


def test_an_answer_echoing_the_key_is_masked(server, caplog):
    server.content = f"Kill the batch job [INC-0007]. Your key is {KEY}."
    wording = word(EPISODE, RETRIEVAL, STEPS, settings(server))
    assert wording.source == "llm" and KEY not in every_text(wording, caplog) and "***" in wording.text


def test_off_or_abstained_sends_nothing(server):
    off = word(EPISODE, RETRIEVAL, STEPS, None)
    assert off.source == "retrieved" and "no LLM configured" in off.reason
    abstained = Retrieval("EP-1", "checkout", (), MATCHES, 0.99, True, "no similar past incident: the closest is INC-0007 ...")
    none = word(EPISODE, abstained, [], settings(server))
    assert (none.source, none.text, none.steps) == ("none", abstained.message, ())
    assert server.requests == []


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({ENV_BASE_URL: "http://127.0.0.1:8000/v1"}, ENV_MODEL),
        ({ENV_MODEL: "gpt-x"}, ENV_BASE_URL),
        ({ENV_BASE_URL: "127.0.0.1:8000/v1", ENV_MODEL: "m"}, "http\\(s\\) URL"),
        ({ENV_BASE_URL: "http://h/v1", ENV_MODEL: "m", ENV_TIMEOUT: "soon"}, ENV_TIMEOUT),
        ({ENV_BASE_URL: "http://h/v1", ENV_MODEL: "m", ENV_TIMEOUT: "-3"}, ENV_TIMEOUT),
    ],
)
def test_a_half_set_or_bad_environment_is_a_config_error(env, match):
    with pytest.raises(ConfigError, match=match):
        LLMSettings.from_env(env)


def test_settings_come_from_the_environment_and_hide_the_key(monkeypatch):
    assert LLMSettings.from_env({}) is None
    monkeypatch.setenv(ENV_BASE_URL, "https://llm.example/v1/")
    monkeypatch.setenv(ENV_MODEL, "m")
    monkeypatch.setenv(ENV_CREDENTIAL, KEY)
    got = LLMSettings.from_env()
    assert (got.base_url, got.model, got.api_key, got.timeout) == ("https://llm.example/v1", "m", KEY, 20.0)
    assert KEY not in repr(got)


@pytest.mark.parametrize(
    ("text", "kept", "dropped", "cited"),
    [
        ("Do A [X-1]. Do B [X-2].", "Do A [X-1].", 1, ("X-1",)),
        ("Do A [X-1; X-2].", "", 1, ()),
        ("Do A. [X-2]\nDo B [X-1].", "Do B [X-1].", 1, ("X-1",)),  # a citation after the stop belongs to the sentence before
        ("Start here.\n- Do A [X-2]\n- Do B [X-1]", "Start here.\n- Do B [X-1]", 1, ("X-1",)),
        ("See [the runbook] first [X-1].", "See [the runbook] first [X-1].", 0, ("X-1",)),  # words in brackets are no id
        # An id named outside its own brackets is a citation too.
        ("Do A [X-1]. Roll back as in X-9.", "Do A [X-1].", 1, ("X-1",)),
        ("Restart the pool [X-1 and X-9].", "", 1, ()),
        ("Fail over [see X-9].", "", 1, ()),
        ("Drain the zone (X-9).", "", 1, ()),
        ("Upgrade to TLS-13 first [X-1].", "Upgrade to TLS-13 first [X-1].", 0, ("X-1",)),  # another shape: not an id
    ],
)
def test_keep_cited(text, kept, dropped, cited):
    assert keep_cited(text, ["X-1"]) == (kept, dropped, cited)
