"""A throwaway Prometheus (Debian's ``prometheus``) on 127.0.0.1, backfilled from long-form
metrics with ``promtool tsdb create-blocks-from openmetrics``, stopped (and its folder
removed) on exit::

    with LocalPrometheus(openmetrics="metrics.om") as prom:
        ...  # prom.url
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from workbench.contracts import validate_long
from workbench.errors import ServerError
from workbench.testing.process import ServerProcess, free_port, wait_http, wait_port

__all__ = ["LocalPrometheus", "METRIC_PREFIX", "write_openmetrics"]

METRIC_PREFIX = "workbench_"


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


class LocalPrometheus(ServerProcess):
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
            wait_http(f"{self.url}/-/ready", 30, self.process, log)
        else:
            # Behind TLS or basic auth the ready endpoint needs credentials; an open port will do.
            self.scheme = "https" if "tls_server_config" in Path(self.web_config).read_text() else "http"
            wait_port(self.port, 30, self.process, log)
        return self
