"""Real CLI runs that a test can SIGKILL at any moment, without paying the imports each time
(see ``workflows/crash_scorer.py`` for the protocol)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

CRASH_SCORER = Path(__file__).parent / "workflows" / "crash_scorer.py"


class Zygote:
    """``crash_scorer.py``: forks one real CLI run per request; each can be SIGKILLed by pid."""

    def __init__(self, cwd: Path, env: dict | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, str(CRASH_SCORER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=cwd, bufsize=0, env=env)
        self.buffer = b""
        assert self.line(120) == "ready"

    def line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.proc.stdout], [], [], left)
            if readable:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"crash_scorer.py ended (status {self.proc.wait()})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def run(self, argv: list[str], kill_after: float | None = None) -> tuple[int, float]:
        """Run ``workbench <argv>``; SIGKILL it after ``kill_after`` seconds; returns (status, seconds)."""
        self.proc.stdin.write((json.dumps(argv) + "\n").encode())
        self.proc.stdin.flush()
        reply = self.line(60)
        assert reply and reply.startswith("pid "), reply
        pid = int(reply.split()[1])
        started = time.monotonic()
        done = self.line(kill_after if kill_after is not None else 300)
        if done is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended at that very moment
                pass
            done = self.line(60)
        assert done and done.startswith("exit "), done
        return int(done.split()[1]), time.monotonic() - started

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
