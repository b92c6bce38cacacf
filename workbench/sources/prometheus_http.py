"""The HTTP side of the Prometheus source: chunked, parallel, retried range queries.

A pull is split into queries of at most ``max_points`` evaluation steps (Prometheus
refuses more than 11,000 points per series in one query), run ``parallel`` at a time,
and merged without the points shared by neighbouring chunks. Timeouts, refused
connections and HTTP 5xx/429 are retried with exponential backoff; a 4xx is a clear
error that shows the query. Everything is fetched before anything is returned, so a
server that fails mid-pull leaves nothing half-written downstream.

Credentials come from the environment only (``config.PROMETHEUS_ENV``): a bearer token,
or a user and password for basic auth, and a CA bundle for a private certificate.

Range queries are used, never instant ones: an instant query on backfilled data finds
nothing (the 5-minute staleness window), and a range query evaluates at ``start + k * step``.
Starts are aligned to a multiple of the step so that chunks and incremental pulls land
on the same grid.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from workbench._secrets import redact
from workbench.contracts import validate_long
from workbench.errors import ConfigError, SourceError
from workbench.settings import PROMETHEUS_ENV, PrometheusSettings
from workbench.sources.promql import no_series_message, render_query

__all__ = ["NoSeriesError", "PrometheusClient", "PrometheusError", "QueryRejected", "Task"]

RETRY_STATUS = (429, 500, 502, 503, 504)


class PrometheusError(SourceError):
    """Prometheus refused a query, answered with an error, or could not be reached."""


class QueryRejected(PrometheusError):
    """Prometheus rejected the query itself (HTTP 400 or 422: a parse or evaluation error).

    ``reason`` is the server's message, credentials masked.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class NoSeriesError(PrometheusError):
    """A query returned no series over the whole range for a series the store does not hold.

    Most often the label that names services is not the configured one
    (``source.prometheus.service_label``), or the metric is not scraped at all.
    """


@dataclass(frozen=True)
class Task:
    """One series to pull: ``metric`` of ``service`` over ``[start, end)``.

    ``stored`` says the store already holds some of the series: an empty answer then
    means that its newest minutes are not in Prometheus yet, not that the query is wrong.
    """

    service: str
    metric: str
    start: pd.Timestamp
    end: pd.Timestamp
    stored: bool = False


def _credentials(env: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, str] | None, str | bool]:
    token, user, password = (env.get(PROMETHEUS_ENV[k], "") for k in ("token", "user", "password"))
    if token and (user or password):
        raise ConfigError(f"set either {PROMETHEUS_ENV['token']} or {PROMETHEUS_ENV['user']}/{PROMETHEUS_ENV['password']}, not both")
    if bool(user) != bool(password):
        raise ConfigError(f"basic auth needs both {PROMETHEUS_ENV['user']} and {PROMETHEUS_ENV['password']}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    auth = (user, password) if user else None
    ca = env.get(PROMETHEUS_ENV["ca"], "")
    if ca and not os.path.isfile(ca):
        raise ConfigError(f"{PROMETHEUS_ENV['ca']} names no file: {ca}")
    return headers, auth, ca or True


def _server_message(body: bytes | str) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    try:
        return str(json.loads(text).get("error", text))
    except (ValueError, AttributeError):
        return text.strip()[:300]


def _snippet(text: str | None, limit: int = 120) -> str:
    """The start of a body, one line, tags and credentials removed: enough to recognise a login page."""
    flat = re.sub(r"<[^>]*>", " ", text or "")
    flat = " ".join(flat.split())
    return repr(redact(flat[:limit] + ("..." if len(flat) > limit else ""))) if flat else "an empty body"


class PrometheusClient:
    """Chunked, parallel, retried range queries against one Prometheus.

    Parameters
    ----------
    settings
        ``source.prometheus`` from the config.
    env
        Where credentials and the optional URL override are read; default ``os.environ``.
    """

    def __init__(self, settings: PrometheusSettings, env: Mapping[str, str] | None = None) -> None:
        from prometheus_api_client import PrometheusConnect

        env = os.environ if env is None else env
        self.settings = settings
        self.url = (env.get(PROMETHEUS_ENV["url"]) or settings.url).rstrip("/")
        #: The URL as messages show it: credentials in it (user:password@) are masked.
        self.shown_url = redact(self.url)
        self.step = pd.Timedelta(settings.step)
        self.timeout = pd.Timedelta(settings.timeout).total_seconds()
        headers, auth, verify = _credentials(env)
        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=settings.backoff,
            status_forcelist=RETRY_STATUS,
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        session = requests.Session()
        session.verify = verify
        # Mounted on a longer prefix than the client's own adapter, so this one (with a
        # pool as large as the parallelism) serves the query API.
        session.mount(f"{self.url}/api/", HTTPAdapter(max_retries=retry, pool_maxsize=settings.parallel))
        self._prom = PrometheusConnect(url=self.url, headers=headers or None, auth=auth, session=session, retry=retry, timeout=self.timeout)

    def close(self) -> None:
        self._prom.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one query ------------------------------------------------------------------
    def chunks(self, start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Evaluation ranges covering ``[start, end)`` on the step grid, at most ``max_points`` each.

        Neighbouring chunks share their edge point (Prometheus includes both ends); the
        merge drops the repeat.
        """
        step_ns = self.step.value
        first = math.ceil(start.value / step_ns) * step_ns
        last = (math.ceil(end.value / step_ns) - 1) * step_ns  # the last grid point before end
        if last < first:
            return []
        span = (self.settings.max_points - 1) * step_ns
        out, lo = [], first
        while True:
            hi = min(lo + span, last)
            out.append((pd.Timestamp(lo, tz="UTC"), pd.Timestamp(hi, tz="UTC")))
            if hi >= last:
                return out
            lo = hi

    def _call(self, what: str, query: str, request: Callable[[], object]) -> object:
        """``request()`` with its failures turned into :class:`PrometheusError` (credentials masked)."""
        from prometheus_api_client import PrometheusApiClientException

        label = f" ({what})" if what else ""
        try:
            return request()
        except PrometheusApiClientException as exc:
            match = re.match(r"HTTP Status Code (\d+) \((.*)\)$", str(exc), re.S)
            code = int(match.group(1)) if match else 0
            body = match.group(2) if match else str(exc)
            try:
                body = redact(_server_message(ast.literal_eval(body)))
            except (ValueError, SyntaxError):
                body = redact(body[:300])
            if 400 <= code < 500 and code != 429:
                message = f"Prometheus at {self.shown_url} rejected the query{label} with HTTP {code}: {body}\n  query: {query}"
                raise (QueryRejected(message, body) if code in (400, 422) else PrometheusError(message)) from None
            raise PrometheusError(
                f"Prometheus at {self.shown_url} answered HTTP {code} after {self.settings.retries + 1} tries{label}: {body}"
            ) from None
        except requests.exceptions.JSONDecodeError as exc:
            # Reached, and it answered, but not as Prometheus does (an SSO login page, a proxy's
            # error page, a cut-off body): retrying will not help, and "unreachable" would mislead.
            raise PrometheusError(
                f"{self.shown_url} answered{label}, but not with Prometheus JSON ({_snippet(exc.doc)}): is the URL a "
                "Prometheus server, or a login page or proxy in front of it?"
            ) from None
        except requests.exceptions.RequestException as exc:
            reason = "timed out" if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower() else "could not be reached"
            raise PrometheusError(
                f"Prometheus at {self.shown_url} {reason} after {self.settings.retries + 1} tries{label}: {type(exc).__name__}"
            ) from None

    def matrix(self, query: str, start: pd.Timestamp, end: pd.Timestamp, what: str = "") -> list[dict]:
        """Every series ``query`` gives from ``start`` to ``end`` (both included) at the step.

        Each is Prometheus' ``{"metric": labels, "values": [[epoch seconds, "value"], ...]}``.

        Raises
        ------
        QueryRejected
            HTTP 400 or 422, with the query and the server's message.
        PrometheusError
            Any other 4xx, 5xx after the retries, a timeout or refused connection after
            the retries, or an answer that is not a Prometheus matrix.
        """
        result = self._call(
            what,
            query,
            lambda: self._prom.custom_query_range(
                query,
                start_time=start.to_pydatetime(),
                end_time=end.to_pydatetime(),
                step=f"{self.step.total_seconds():g}",
                params={"timeout": f"{round(self.timeout * 1000)}ms"},  # Prometheus durations take no fractions
            ),
        )
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            label = f" ({what})" if what else ""
            raise PrometheusError(f"{self.shown_url} answered{label} with JSON that is not a Prometheus matrix: {_snippet(str(result))}")
        return result

    def query_range(self, query: str, start: pd.Timestamp, end: pd.Timestamp, what: str = "") -> tuple[np.ndarray, np.ndarray]:
        """Epoch seconds and values of the single series :meth:`matrix` gives (empty arrays if none).

        Raises
        ------
        PrometheusError
            As :meth:`matrix`, or the query gives more than one series.
        """
        result = self.matrix(query, start, end, what)
        if len(result) > 1:
            labels = [r.get("metric", {}) for r in result[:3]]
            label = f" ({what})" if what else ""
            raise PrometheusError(
                f"the query{label} returned {len(result)} series, e.g. {labels}; a metric's query must return one "
                f"series per service (aggregate with sum or avg)\n  query: {query}"
            )
        values = result[0].get("values", []) if result else []
        if not values:
            return np.empty(0), np.empty(0)
        # Values arrive as strings ("NaN" and "+Inf" included); float() parses them all.
        n = len(values)
        return np.fromiter((p[0] for p in values), float, n), np.fromiter((float(p[1]) for p in values), float, n)

    def label_values(self, label: str) -> list[str]:
        """The values ``label`` takes in Prometheus (``/api/v1/label/<label>/values``), sorted."""
        values = self._call(f"values of {label}", f"/api/v1/label/{label}/values", lambda: self._prom.get_label_values(label))
        if not isinstance(values, list):
            raise PrometheusError(f"{self.shown_url} answered the values of {label} with JSON that is not a list: {_snippet(str(values))}")
        return sorted(str(v) for v in values)

    # -- many series ----------------------------------------------------------------
    def fetch(
        self,
        tasks: list[Task],
        queries: Mapping[str, str] | None = None,
        progress: bool = False,
        on_chunk: Callable[[int, int], None] | None = None,
    ) -> pd.DataFrame:
        """Pull every task's series, in parallel chunks, and return validated long form.

        Parameters
        ----------
        tasks
            The series and ranges to pull.
        queries
            PromQL templates per metric; default the configured ones.
        progress
            Show a progress bar (tqdm) on standard error.
        on_chunk
            Called as ``on_chunk(done, total)`` after each finished query.

        Raises
        ------
        NoSeriesError
            A task not ``stored`` got no series over its whole range; everything else
            was fetched first, so the error lists every such series.
        PrometheusError
            The first query that failed; queries not yet started are cancelled and
            nothing is returned.
        """
        from tqdm.auto import tqdm

        queries = queries or self.settings.templates
        label = self.settings.service_label
        jobs, rendered = [], {}
        for task in tasks:
            if task.metric not in queries:
                raise ConfigError(f"no PromQL query configured for {task.metric}; add source.prometheus.queries.{task.metric}")
            query = render_query(queries[task.metric], task.service, label)
            rendered[task] = (queries[task.metric], query)
            for lo, hi in self.chunks(task.start, task.end):
                jobs.append((task, query, lo, hi))
        results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        bar = tqdm(total=len(jobs), unit="query", desc="prometheus", disable=not progress, leave=False)
        # At most `parallel` queries in flight: a failure stops the pull within a few
        # queries, and nothing waits in a queue to hit a server that is gone.
        waiting = iter(enumerate(jobs))
        with ThreadPoolExecutor(max_workers=self.settings.parallel) as pool:
            running: dict = {}

            def submit_next() -> None:
                nxt = next(waiting, None)
                if nxt is not None:
                    i, (task, query, lo, hi) = nxt
                    running[pool.submit(self.query_range, query, lo, hi, f"{task.metric} of {task.service}")] = i

            for _ in range(self.settings.parallel):
                submit_next()
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_EXCEPTION)
                    for future in done:
                        results[running.pop(future)] = future.result()  # raises the first failure
                        bar.update(1)
                        if on_chunk is not None:
                            on_chunk(len(results), len(jobs))
                        submit_next()
            except BaseException:
                for future in running:
                    future.cancel()
                raise
            finally:
                bar.close()
        frame, empty = _assemble(jobs, results)
        missing = [(t.service, t.metric, *rendered[t]) for t in empty if not t.stored]
        if missing:
            raise NoSeriesError(no_series_message(missing, empty[0].start, empty[0].end, label, self.shown_url))
        return frame


def _assemble(jobs: list, results: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[pd.DataFrame, list[Task]]:
    """The long-form frame of every task's pieces, and the tasks that got nothing at all."""
    parts = {}
    for i, (task, _, _, _) in enumerate(jobs):
        parts.setdefault(task, []).append(results[i])
    frames, empty = [], []
    for task, pieces in parts.items():
        ts = np.concatenate([p[0] for p in pieces])
        values = np.concatenate([p[1] for p in pieces])
        if ts.size == 0:
            empty.append(task)
            continue
        # Chunk edges are evaluated twice; keep one of each timestamp.
        ts, first = np.unique(ts, return_index=True)
        stamps = pd.to_datetime(np.round(ts * 1000).astype("int64"), unit="ms", utc=True)
        keep = (stamps >= task.start) & (stamps < task.end)
        frames.append(pd.DataFrame({"timestamp": stamps[keep], "service": task.service, "metric": task.metric, "value": values[first][keep]}))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["timestamp", "service", "metric", "value"]), empty
    return validate_long(pd.concat(frames, ignore_index=True)), empty
