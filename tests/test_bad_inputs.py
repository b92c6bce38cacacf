"""Bad input and faults, one row each: the input, what the user sees, what is kept.

Every row runs the real CLI (in process) on its own copy of a small project and checks
the exit status, the words of the message, that no secret is shown, and that the
project's files are as they were (labels, config, metrics, models: nothing lost, nothing
half-written). Process-level faults have their own tests, named here so the list is whole:

- a report run killed or interrupted: ``tests/report/test_runner.py`` (run states, SIGTERM/SIGINT);
- two report runs at once, two retrains at once: ``tests/report``, ``tests/workflows/test_retrain.py``;
- a hundred random SIGKILLs per writer: ``tests/test_util.py``, ``tests/labels/test_log.py``;
- two people labelling at once, undo across sessions: ``tests/labels/test_log.py``;
- a tampered or truncated model, a missing version, a damaged champion:
  ``tests/lifecycle/test_versions.py``, ``tests/workflows/test_score.py``, ``tests/workflows/test_retrain.py``;
- Prometheus down, slow, answering 5xx or a login page: ``tests/sources/test_prometheus.py``.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import make_project

from workbench.cli import main
from workbench.config import load_config
from workbench.sources.sample import ensure_sample, generate

SERVICE = "payments"
SECRET = "S3cretPW"


@dataclass
class Case:
    """One row of the table."""

    id: str
    input: str  # what is wrong, in words
    argv: list[str]
    status: int  # the exit status the user gets
    says: list[str]  # words the output must hold (stdout and stderr together)
    setup: object = None  # f(project folder, monkeypatch) that makes the input bad
    kept: str = "every project file unchanged"


# -- the project ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A 21-day one-service sample project, plus its metrics as a long-form CSV for the files source."""
    path = make_project(tmp_path_factory.mktemp("bad") / "wb", days=21, services=[SERVICE])
    config = load_config(path)
    ensure_sample(config)
    metrics = generate(config.source.sample, [SERVICE]).metrics
    metrics.to_csv(path.parent / "data" / "metrics.csv", index=False)
    return path.parent


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file in the project but the sample cache and caches."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not {"sample", ".cache", "reports"} & set(rel.parts):
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def set_config(folder: Path, **changes) -> None:
    path = folder / "workbench.yaml"
    settings = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = settings
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path.write_text(yaml.safe_dump(settings, sort_keys=False))


def edit_text(relative: str, change):
    def setup(folder: Path, monkeypatch) -> None:
        path = folder / relative
        path.write_text(change(path.read_text()))

    return setup


def files_source(change=None):
    """Use the files source, after ``change(frame) -> frame`` on the metrics CSV."""

    def setup(folder: Path, monkeypatch) -> None:
        set_config(folder, **{"source.kind": "files", "source.files.path": "data/metrics.csv"})
        if change is not None:
            path = folder / "data" / "metrics.csv"
            frame = change(pd.read_csv(path))
            if isinstance(frame, bytes):
                path.write_bytes(frame)
            else:
                frame.to_csv(path, index=False)

    return setup


def metric(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame["metric"] == name


def impossible(frame):
    frame = frame.copy()
    rows = frame.index[metric(frame, "latency_p95")][:3]
    frame.loc[rows, "value"] = -250.0
    frame.loc[frame.index[metric(frame, "error_rate")][:2], "value"] = 150.0
    frame.loc[frame.index[metric(frame, "cpu_usage")][:5], "value"] = np.inf
    return frame


def counter(frame):
    frame = frame.copy()
    rate = metric(frame, "request_rate")
    frame.loc[rate, "value"] = frame.loc[rate, "value"].cumsum() * 60
    return frame


def epoch_seconds(frame):
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.assign(timestamp=(stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s"))


def local_time_across_dst(frame):
    # The sample's first day written as Berlin local time, spanning the change of 2026-10-25.
    frame = frame[metric(frame, "cpu_usage")].head(24 * 60).copy()
    local = pd.date_range("2026-10-24 12:00", periods=len(frame), freq="1min", tz="Europe/Berlin")
    return frame.assign(timestamp=local.tz_localize(None).astype(str))


def prometheus_login_page(folder: Path, monkeypatch) -> None:
    class Login(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            body = b"<html><title>Sign in - Acme SSO</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Login)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(server, "_keep", server, raising=False)
    monkeypatch.setenv("WORKBENCH_PROMETHEUS_URL", f"http://alice:{SECRET}@127.0.0.1:{server.server_address[1]}")
    set_config(folder, **{"source.prometheus.retries": 0})


def unreachable_prometheus_with_credentials(folder: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_PROMETHEUS_URL", f"http://alice:{SECRET}@127.0.0.1:9")
    set_config(folder, **{"source.prometheus.retries": 0})


def bad_nab_file(folder: Path, monkeypatch) -> None:
    (folder / "nab.csv").write_text("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,n/a\n")


def damaged_old_version(folder: Path, monkeypatch) -> None:
    assert main(["--config", str(folder / "workbench.yaml"), "train", "--services", SERVICE]) == 0
    assert main(["--config", str(folder / "workbench.yaml"), "train", "--services", SERVICE]) == 0
    versions = sorted(p for p in (folder / "models" / SERVICE).iterdir() if p.is_dir() and not p.name.startswith("."))
    (versions[0] / "metadata.json").write_text('{"version": ')


LOG = "data/sample-labels/incidents.csv"
CASES = [
    Case("missing-events", "the events calendar is missing", ["evaluate"], 2, ["events calendar file not found"],
         lambda f, m: (f / "data" / "sample-labels" / "events.csv").unlink(), "incidents.csv untouched (never rewritten from the sample)"),
    Case("truncated-log", "the incident log cut in the middle of a row", ["evaluate"], 2, ["cut short"],
         edit_text(LOG, lambda t: t[: len(t) // 2][: t[: len(t) // 2].rindex(",") + 1])),
    Case("log-cut-in-last-field", "the incident log cut inside its last field", ["evaluate"], 2, ["does not end with a line break"],
         edit_text(LOG, lambda t: t[:-4])),
    Case("zero-byte-log", "a 0-byte incident log", ["evaluate"], 2, ["the file is empty"], edit_text(LOG, lambda t: "")),
    Case("empty-end", "an incident with an empty end", ["evaluate"], 2, ["end is empty on lines [2]"],
         edit_text(LOG, lambda t: t.replace(t.splitlines()[1], ",".join(v if k != 3 else "" for k, v in enumerate(t.splitlines()[1].split(",")))))),
    Case("overlap", "two incidents of one service overlapping (hand-edited)", ["evaluate"], 2, ["counted twice"],
         edit_text(LOG, lambda t: t + ",".join(["DUP-1", *t.splitlines()[1].split(",")[1:]]) + "\n")),
    Case("typo-service", "an incident of a service that is not configured", ["evaluate", "--json"], 0,
         ["warning:", "TYPO-1 ('paymnets')", "left out"],
         edit_text(LOG, lambda t: t + "TYPO-1,paymnets,2026-09-10T10:00:00Z,2026-09-10T11:00:00Z,major,x,y,z\n")),
    Case("naive-time", "an incident time without a UTC offset", ["evaluate", "--json"], 0, ["taken as UTC"],
         edit_text(LOG, lambda t: t + "LOCAL-1,payments,2026-09-12 10:00,2026-09-12 11:00,minor,x,y,z\n")),
    Case("duplicate-yaml-key", "a key given twice in workbench.yaml", ["evaluate"], 2, ["duplicate key 'window'"],
         edit_text("workbench.yaml", lambda t: t + "window: 5min\n")),
    Case("password-in-yaml", "a password in the YAML's Prometheus URL", ["evaluate"], 2, ["credentials do not belong in workbench.yaml", "bob:***@"],
         lambda f, m: set_config(f, **{"source.prometheus.url": f"http://bob:{SECRET}@prom:9090"})),
    Case("impossible-values", "negative latency, error rate 150 %, +inf CPU in a metrics file", ["evaluate", "--json"], 0,
         ["impossible values were left out as gaps", "payments latency_p95: 3 negative", "payments error_rate: 2 above 100 %",
          "payments cpu_usage: 5 infinite"], files_source(impossible)),
    Case("raw-counter", "a cumulative counter given as request_rate", ["evaluate"], 2,
         ["payments request_rate rises", "cumulative counter", "rate(http_requests_total[5m])"], files_source(counter)),
    Case("zero-byte-metrics", "a 0-byte metrics CSV", ["evaluate"], 2, ["the file is empty"], files_source(lambda f: b"")),
    Case("epoch-seconds", "timestamps as Unix epoch seconds", ["evaluate", "--json"], 0, ['"hybrid"'], files_source(epoch_seconds),
         "the metrics read at their dates (not 1970)"),
    Case("local-time-dst", "a local-time file across a daylight-saving change", ["evaluate"], 2, ["set source.files.timezone"],
         files_source(local_time_across_dst)),
    Case("nab-not-a-number", "a NAB file with a non-numeric value", ["nab", "detect", "nab.csv", "nab-out.csv"], 2,
         ["not a finite number", "line 3 ('n/a')"], bad_nab_file, "no output file written"),
    Case("prometheus-login-page", "Prometheus behind an SSO proxy answering 200 with HTML", ["evaluate", "--source", "prometheus"], 1,
         ["not with Prometheus JSON", "Sign in - Acme SSO", "alice:***@"], prometheus_login_page),
    Case("credentials-in-env-url", "WORKBENCH_PROMETHEUS_URL with user:password, server down", ["evaluate", "--source", "prometheus"], 1,
         ["could not be reached", "alice:***@"], unreachable_prometheus_with_credentials),
    Case("version-outside-models", "a version name that climbs out of models/", ["models", "promote", "../../..", "--service", SERVICE,
         "--reason", "x"], 2, ["../../.."]),
    Case("damaged-old-version", "an old version's metadata.json corrupt", ["models", "list"], 0,
         ["unreadable model metadata", "left out"], damaged_old_version, "the healthy version still listed and loadable"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_gets_a_clear_answer_and_loses_nothing(base, tmp_path, monkeypatch, capsys, case):
    folder = tmp_path / "wb"
    shutil.copytree(base, folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
    monkeypatch.delenv("WORKBENCH_PROMETHEUS_URL", raising=False)
    if case.setup is not None:
        case.setup(folder, monkeypatch)
    before = snapshot(folder)
    capsys.readouterr()
    status = main(["--config", str(folder / "workbench.yaml"), *case.argv])
    out, err = capsys.readouterr()
    shown = out + err
    assert status == case.status, shown[-2000:]
    for words in case.says:
        assert words in shown, f"{case.id}: {words!r} not in the output:\n{shown[-2000:]}"
    assert SECRET not in shown and "Traceback" not in shown
    after = snapshot(folder)
    assert after == before, f"{case.id}: files changed: {sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k))}"
    if case.id == "damaged-old-version":
        assert len(load_config(folder / "workbench.yaml").services) == 1 and "payments" in out


def test_the_table_covers_each_case_once():
    assert len({c.id for c in CASES}) == len(CASES) >= 20
