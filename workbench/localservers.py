"""Throwaway Prometheus and PostgreSQL servers on 127.0.0.1, for tests, benchmarks and trying things.

Both run from Debian's packages (``prometheus``, ``postgresql``) in a temporary folder,
on a free port, and are stopped (and the folder removed) on exit::

    with LocalPrometheus(openmetrics="metrics.om") as prom:
        ...  # prom.url
    with LocalPostgres() as pg:
        ...  # pg.dsn

:func:`write_openmetrics` turns long-form metrics into an OpenMetrics file that
``promtool tsdb create-blocks-from openmetrics`` backfills.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd

from workbench.frames import validate_long

__all__ = ["LocalPostgres", "LocalPrometheus", "ServerError", "free_port", "postgres_bin", "write_openmetrics"]

METRIC_PREFIX = "workbench_"


class ServerError(RuntimeError):
    """A local server could not be set up, started or reached."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_openmetrics(frame: pd.DataFrame, path: str | os.PathLike[str], prefix: str = METRIC_PREFIX) -> Path:
    """Write long-form metrics as OpenMetrics gauges ``<prefix><metric>{service="..."}``.

    Values are written with ``repr`` so that they read back bit for bit.
    """
    clean = validate_long(frame)
    path = Path(path)
    millis = (clean["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1ms")
    with path.open("w") as out:
        for metric, rows in clean.groupby("metric", sort=True):
            name = prefix + metric
            out.write(f"# TYPE {name} gauge\n")
            lines = [
                f'{name}{{service="{service}"}} {value!r} {ms // 1000}.{ms % 1000:03d}\n'
                for service, value, ms in zip(rows["service"].tolist(), rows["value"].tolist(), millis[rows.index].tolist())
            ]
            out.writelines(lines)
        out.write("# EOF\n")
    return path


def _wait_http(url: str, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise ServerError(f"{url} not ready after {seconds} s:\n{log.read_text()[-2000:]}")


def _wait_port(port: int, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerError(f"port {port} not open after {seconds} s:\n{log.read_text()[-2000:]}")


class LocalPrometheus:
    """A Prometheus on 127.0.0.1 with its own TSDB, optionally backfilled.

    Parameters
    ----------
    openmetrics
        A file to backfill with ``promtool tsdb create-blocks-from openmetrics``.
    lookback_delta
        Prometheus' ``--query.lookback-delta``. A range query fills a missing sample with
        the previous one for this long (default 5m); below the step, a query returns
        exactly the stored samples, which is what exact comparisons need.
    web_config
        A ``--web.config.file`` (TLS, basic auth).
    """

    def __init__(self, openmetrics: str | os.PathLike[str] | None = None, lookback_delta: str | None = None, web_config: str | os.PathLike[str] | None = None) -> None:
        self.openmetrics = openmetrics
        self.lookback_delta = lookback_delta
        self.web_config = web_config
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        self.scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> LocalPrometheus:
        for tool in ("prometheus", "promtool"):
            if shutil.which(tool) is None:
                raise ServerError(f"{tool} not found: install Debian's 'prometheus' package")
        self.folder = Path(tempfile.mkdtemp(prefix="wb-prometheus-"))
        tsdb = self.folder / "tsdb"
        if self.openmetrics is not None:
            # One large block: the default 2-hour blocks make backfill ~100x slower.
            run = subprocess.run(
                ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=8760h", str(self.openmetrics), str(tsdb)],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise ServerError(f"promtool backfill failed: {run.stderr.strip()[-2000:]}")
        config = self.folder / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        self.port = free_port()
        command = [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            # Backfilled blocks older than the retention are deleted at start.
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        if self.lookback_delta:
            command.append(f"--query.lookback-delta={self.lookback_delta}")
        if self.web_config:
            command.append(f"--web.config.file={self.web_config}")
        log = self.folder / "prometheus.log"
        self.process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        if self.web_config is None:
            _wait_http(f"{self.url}/-/ready", 30, self.process, log)
        else:
            # Behind TLS or basic auth the ready endpoint needs credentials; an open port will do.
            self.scheme = "https" if "tls_server_config" in Path(self.web_config).read_text() else "http"
            _wait_port(self.port, 30, self.process, log)
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> LocalPrometheus:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def postgres_bin() -> Path | None:
    """The folder with Debian's ``initdb`` and ``pg_ctl`` (newest version), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


class LocalPostgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with a ``workbench`` database.

    ``initdb`` refuses to run as root, so as root the cluster belongs to the
    ``postgres`` user (created by Debian's package) and its folder lives directly
    under the system temporary folder where that user can reach it.
    """

    def __init__(self, database: str = "workbench") -> None:
        self.database = database
        self.port = 0
        self.folder: Path | None = None
        self.user = "postgres" if os.geteuid() == 0 else (os.environ.get("USER") or "postgres")

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={self.database} user={self.user}"

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, capture_output=True, text=True, **kwargs)

    def start(self) -> LocalPostgres:
        bindir = postgres_bin()
        if bindir is None:
            raise ServerError("pg_ctl not found: install Debian's 'postgresql' package")
        self.folder = Path(tempfile.mkdtemp(prefix="wb-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data, log = self.folder / "data", self.folder / "server.log"
        run = self._run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-sync"])
        if run.returncode != 0:
            raise ServerError(f"initdb failed: {run.stderr.strip()[-2000:]}")
        self.port = free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        run = self._run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start"])
        if run.returncode != 0:
            raise ServerError(f"pg_ctl start failed: {run.stderr.strip()}\n{log.read_text()[-2000:] if log.exists() else ''}")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} dbname=postgres user={self.user}", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) and remove its folder."""
        if self.folder is None:
            return
        bindir = postgres_bin()
        if bindir is not None and (self.folder / "data" / "postmaster.pid").exists():
            self._run([str(bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
