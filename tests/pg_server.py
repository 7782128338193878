"""A real PostgreSQL server for tests: `initdb` into a temp folder, `pg_ctl` on a free port of 127.0.0.1.

Debian's `postgresql` package (scripts/setup.sh installs it) puts the server binaries
in /usr/lib/postgresql/<version>/bin, off PATH. initdb refuses to run as root, so as
root the server runs as the package's `postgres` user (through `runuser`), in a folder
of its own under /tmp it can enter. Trust authentication on 127.0.0.1 and a socket in
that folder only: nothing outside this machine can reach it. One server per pytest
process (so per xdist worker), stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

SUPERUSER = "observatory_admin"
OWNER = "observatory_owner"  # owns the test databases and their tables, like the admin who set the log up
APPENDER = "observatory_app"  # what the application connects as: SELECT and INSERT only


def bindir() -> Path:
    """The folder of initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else `pg_config --bindir`."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package "
                       "(scripts/setup.sh does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """`durable=False` (tests) turns fsync off; benchmarks keep PostgreSQL's defaults."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin = bindir()
        self.base = Path(tempfile.mkdtemp(prefix="observatory-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.port = 0
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root
            shutil.chown(self.base, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run([*self._as, *args], cwd=self.base, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")

    def start(self) -> "PgServer":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", *(() if self.durable else ("--no-sync",)))
        for attempt in range(3):  # the free port may be taken between asking and binding
            self.port = free_port()
            opts = f"-h 127.0.0.1 -p {self.port} -k {self.base}" + ("" if self.durable else " -c fsync=off -c full_page_writes=off")
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"),
                          "-o", opts, "-w", "-t", "60", "start")
                break
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError(f"PostgreSQL did not start: {self.log_tail()}") from None
        self._wait_ready(deadline=time.monotonic() + 30)
        with psycopg.connect(self.url(SUPERUSER, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN")
            conn.execute(f"CREATE ROLE {APPENDER} LOGIN")
        return self

    def _wait_ready(self, deadline: float) -> None:
        while True:
            try:
                psycopg.connect(self.url(SUPERUSER, "postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL not accepting connections: {self.log_tail()}") from None
                time.sleep(0.05)

    def log_tail(self) -> str:
        try:
            return (self.base / "server.log").read_text()[-2000:]
        except OSError:
            return "(no server log)"

    def url(self, user: str, database: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh database owned by OWNER; its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(SUPERUSER, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {OWNER}")
        return name

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
