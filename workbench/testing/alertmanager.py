"""A throwaway Alertmanager (Debian's ``prometheus-alertmanager``) on 127.0.0.1 routing every
alert to a local webhook receiver that records what Alertmanager notifies::

    with WebhookReceiver() as hook, LocalAlertmanager(hook.url, group_wait="1s") as am:
        ...  # am.url; hook.notifications
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.errors import ServerError
from workbench.testing.process import HTTPReceiver, ServerProcess, free_port, wait_http

__all__ = ["LocalAlertmanager", "WebhookReceiver", "alertmanager_bin"]


def alertmanager_bin() -> str | None:
    """Debian names the binary ``prometheus-alertmanager``; upstream ``alertmanager``."""
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


class WebhookReceiver(HTTPReceiver):
    """Records every notification POSTed to it (Alertmanager's webhook format), in order."""

    def __init__(self) -> None:
        super().__init__()
        self.notifications: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, body: bytes) -> tuple[int, dict | None]:
        self.notifications.append(json.loads(body))
        return 200, None

    def alerts(self, status: str | None = None) -> list[dict]:
        """Every alert in every notification so far (optionally only ``firing`` or ``resolved``)."""
        with self._lock:
            out = [a for n in self.notifications for a in n.get("alerts", [])]
        return [a for a in out if status is None or a["status"] == status]


class LocalAlertmanager(ServerProcess):
    """Alertmanager in a temporary folder, every alert routed to ``webhook``.

    Parameters
    ----------
    webhook
        The receiver's URL.
    group_wait, group_interval, repeat_interval
        Alertmanager's grouping timers (short ones make tests fast). Alerts are grouped by
        ``service`` and ``episode``.
    """

    def __init__(self, webhook: str, group_wait: str = "1s", group_interval: str = "2s", repeat_interval: str = "1h") -> None:
        self.webhook = webhook
        self.group_wait, self.group_interval, self.repeat_interval = group_wait, group_interval, repeat_interval
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalAlertmanager:
        binary = alertmanager_bin()
        if binary is None:
            raise ServerError("alertmanager not found: install Debian's 'prometheus-alertmanager' package")
        self.folder = Path(tempfile.mkdtemp(prefix="wb-alertmanager-"))
        config = self.folder / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: hook\n"
            "  group_by: [service, episode]\n"
            f"  group_wait: {self.group_wait}\n"
            f"  group_interval: {self.group_interval}\n"
            f"  repeat_interval: {self.repeat_interval}\n"
            "receivers:\n"
            "  - name: hook\n"
            "    webhook_configs:\n"
            f"      - url: {self.webhook}\n"
            "        send_resolved: true\n"
        )
        self.port = free_port()
        log = self.folder / "alertmanager.log"
        command = [
            binary,
            f"--config.file={config}",
            f"--storage.path={self.folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            # A single instance: no gossip port to collide with other tests.
            "--cluster.listen-address=",
        ]
        self.process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"{self.url}/-/ready", 30, self.process, log)
        return self
