"""A throwaway PostgreSQL cluster (Debian's ``postgresql``: ``initdb``/``pg_ctl``, as the
``postgres`` user when run as root) on 127.0.0.1, stopped and removed on exit::

    with LocalPostgres() as pg:
        ...  # pg.dsn
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.errors import ServerError
from workbench.testing.process import ServerProcess, free_port

__all__ = ["LocalPostgres", "postgres_bin"]


def postgres_bin() -> Path | None:
    """The folder with Debian's ``initdb`` and ``pg_ctl`` (newest version), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


class LocalPostgres(ServerProcess):
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
