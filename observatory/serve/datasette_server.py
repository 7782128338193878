"""Datasette as a child process on the projections database.

A child process keeps Datasette's event loop apart from the watcher and the OCR pool,
and lets `observatory run` stop everything cleanly. Datasette opens the file with
`mode=ro`, so the web never writes; the projector keeps the file in WAL mode, so new
rows show up without a restart.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..settings import Settings

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def find_metadata(settings: Settings) -> Path | None:
    """`datasette-metadata.yml` from OBSERVATORY_HOME, else from the source checkout."""
    for folder in (settings.home, SOURCE_ROOT):
        candidate = folder / "datasette-metadata.yml"
        if candidate.is_file():
            return candidate
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def datasette_argv(settings: Settings, host: str, port: int) -> list[str]:
    argv = [sys.executable, "-m", "datasette", "serve", str(settings.projections_db), "--host", host, "--port", str(port)]
    metadata = find_metadata(settings)
    if metadata is not None:
        argv += ["--metadata", str(metadata)]
    return argv


class DatasetteServer:
    """Start, wait for, and stop a Datasette child process."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 8001) -> None:
        if not is_loopback(host):
            raise ValueError(
                f"refusing to serve on {host}: binding beyond localhost needs authentication, which is not configured"
            )
        self.settings = settings
        self.host, self.port = host, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 30.0) -> None:
        if not self.settings.projections_db.exists():
            # Datasette needs the file; an empty projection is a valid state before the first screenshot.
            from ..project import all_projectors, open_db
            from ..project.framework import ensure_schema

            self.settings.projections_dir.mkdir(parents=True, exist_ok=True)
            db = open_db(self.settings.projections_db)
            ensure_schema(db, all_projectors())
            db.conn.close()
        self.proc = subprocess.Popen(datasette_argv(self.settings, self.host, self.port), start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Datasette exited with code {self.proc.returncode} (is port {self.port} free?)")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    log.info("Datasette is serving %s at %s", self.settings.projections_db, self.url)
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Datasette did not start listening on {self.url} within {timeout:.0f}s")

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
