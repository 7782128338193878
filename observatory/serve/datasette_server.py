"""Datasette as a child process on the projections database.

A child process keeps Datasette's event loop apart from the watcher and the OCR pool,
and lets `observatory run` stop everything cleanly. Datasette opens a (mutable) file
with `mode=ro` for every query, so the web never writes, and since the projector keeps
the file in WAL mode and replay publishes with the backup API, new rows show up
without a restart and readers never meet a lock. `--immutable` would be wrong here:
Datasette would then cache counts and never look at the file again.

The one change Datasette cannot see is a new file at the same path (an admin deleted
the projections, and the pipeline or `observatory replay` made them again): it would
go on serving the deleted file. `follow()` notices and restarts it on the new one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..child_env import allowed_env
from ..project.scratch import remove_stale_scratch
from ..settings import Settings
from .config import DatasetteConfig, auth_problem, config_for
from . import runtime
from .roles import password_envs

log = logging.getLogger(__name__)


def datasette_argv(settings: Settings, host: str, port: int, config: DatasetteConfig, metadata_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "observatory.serve.child", "serve", str(settings.projections_db),
        "--host", host, "--port", str(port), "--metadata", str(metadata_path), *config.setting_flags(),
    ]


# Datasette's own variables (its cookie-signing secret, SQLite extensions to load). Observatory's
# plugin reads its configuration from the metadata, not the environment.
DATASETTE_ENV = ("DATASETTE_SECRET", "SQLITE_EXTENSIONS")


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of the Datasette child: what Python and Datasette need, and the logins' password hashes.

    An allow-list: the OpenAI key, the webhook URL and anything else of the user's shell stay
    out; the AWS_* credentials come in only when the blobs are in S3 (OBSERVATORY_BLOB_URL). The password hashes travel here, never in a file, and only when they are set.
    """
    env = allowed_env(os.environ, DATASETTE_ENV)
    if settings.blob_url:  # the pages show screenshots, read from S3 with the standard AWS_* credentials
        env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    for env_name, digest in password_envs(settings).values():
        env[env_name] = digest
    return env


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Datasette binds: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class DatasetteServer:
    """Start, wait for, and stop a Datasette child process."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 8001, *, quiet: bool = False) -> None:
        """`quiet` sends Datasette's own output (one access-log line per request) to a file, for scripts."""
        problem = auth_problem(settings, host)
        if problem:
            raise ValueError(problem)
        self.settings = settings
        self.config = config_for(settings, host)
        self.workdir: Path | None = None
        self.quiet = quiet
        self.host, self.port = host, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.serving: tuple[int, int] | None = None  # (device, inode) of the file Datasette was started on
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 30.0) -> None:
        # Checked first: the readiness probe below would take another server on the port for ours.
        if not port_is_free(self.host, self.port):
            raise RuntimeError(f"port {self.port} on {self.host} is already in use (another Observatory or another "
                               "program?); stop it, or choose another port with --port")
        remove_stale_scratch(self.settings.projections_db)
        if not self.settings.projections_db.exists():
            # Datasette needs the file; an empty projection is a valid state before the first screenshot.
            from ..project import all_projectors, open_db
            from ..project.framework import ensure_schema

            self.settings.projections_dir.mkdir(parents=True, exist_ok=True)
            db = open_db(self.settings.projections_db)
            ensure_schema(db, all_projectors())
            db.conn.close()
        self.serving = file_identity(self.settings.projections_db)
        self.workdir = Path(tempfile.mkdtemp(prefix="observatory-datasette-"))
        metadata_path = self.workdir / "metadata.json"
        metadata_path.write_text(json.dumps(self.config.metadata, indent=1), encoding="utf-8")
        argv = datasette_argv(self.settings, self.host, self.port, self.config, metadata_path)
        out = open(self.workdir / "datasette.log", "wb") if self.quiet else None  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(argv, env=child_env(self.settings), start_new_session=True, stdout=out, stderr=out,
                                     stdin=subprocess.PIPE)
        if out is not None:
            out.close()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(runtime.for_child(self.settings))  # the settings, log key included (runtime.py)
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once; the loop below reports it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                said = (self.workdir / "datasette.log").read_text(errors="replace")[-2000:] if self.quiet else ""
                raise RuntimeError(f"Datasette exited with code {self.proc.returncode} (is port {self.port} free?) {said}".rstrip())
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    log.info("Datasette is serving %s at %s", self.settings.projections_db, self.url)
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Datasette did not start listening on {self.url} within {timeout:.0f}s")

    def follow(self) -> bool:
        """Restart Datasette if the projections file was replaced since it started; True if it was.

        Called about once a second by `run` and `serve`. While the file is missing (deleted,
        not yet rebuilt) Datasette is left running rather than restarted on nothing; what it can
        still answer from the deleted file is SQLite's affair (a thread that opens the file anew fails).
        """
        now = file_identity(self.settings.projections_db)
        if now is None or now == self.serving or self.proc is None or self.proc.poll() is not None:
            return False
        log.warning("%s was replaced by a new file; restarting Datasette on it", self.settings.projections_db)
        self.stop()
        self.start()
        self.restarts += 1
        return True

    def poll(self) -> int | None:
        assert self.proc is not None
        return self.proc.poll()

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
