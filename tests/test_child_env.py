"""Child processes get only the environment they need: Datasette and the OCR workers never see a secret.

The secrets are in the environment `observatory` itself is started with, as a user's shell
would pass them; each child's environment is read from /proc/<pid>/environ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from observatory.child_env import RUNTIME, allowed_env, secret_names
from polling import children_of, free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
SECRETS = {
    "OPENAI_API_KEY": "sk-plain-secret-0123456789",
    "OBSERVATORY_OPENAI_API_KEY": "sk-observatory-secret-0123456789",
    "OBSERVATORY_ALERT_WEBHOOK_URL": "https://discord.example/api/webhooks/1/webhook-secret-token",
    "SOME_OTHER_TOKEN": "unrelated-secret-of-the-shell",
}


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(e.split("=", 1) for e in raw.decode(errors="replace").split("\0") if "=" in e)


def cmdline_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def start(home: Path, *args: str, **extra: str) -> subprocess.Popen:
    env = {**os.environ, **SECRETS, **extra, "OBSERVATORY_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "observatory", *args], env=env, cwd=home,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def assert_no_secret(env: dict[str, str], who: str) -> None:
    leaked = sorted(k for k, v in env.items() if k in SECRETS or any(s in v for s in SECRETS.values()))
    assert leaked == [], f"{who} got {leaked}"


@pytest.mark.slow
def test_datasette_gets_no_secret_but_its_password_hash_and_what_python_needs(home):
    from datasette_auth_passwords.utils import hash_password

    password_hash = hash_password("correct horse")
    proc = start(home, "serve", "--port", str(free_port()), OBSERVATORY_WEB_PASSWORD_HASH=password_hash,
                 DATASETTE_SECRET="cookie-signing", LC_ALL="C.UTF-8")
    try:
        def datasette() -> list[int]:
            # a child is first a fork of `serve` (its command line and environment still the parent's) until it
            # execs: wait for the exec'd Datasette child, not merely for a child
            return [c for c in children_of(proc.pid) if "observatory.serve.child" in cmdline_of(c)] or (
                [] if proc.poll() is None else [-1])

        (child,) = wait_for(datasette, 30, what="the Datasette child", tolerate=(FileNotFoundError, ProcessLookupError))
        assert proc.poll() is None and child > 0
        env = environ_of(child)
    finally:
        stop(proc)
    assert_no_secret(env, "Datasette")
    assert env["OBSERVATORY_WEB_PASSWORD_HASH"] == password_hash  # the login needs it, from the environment only
    assert env["DATASETTE_SECRET"] == "cookie-signing"
    assert env["PATH"] == os.environ["PATH"] and env["LC_ALL"] == "C.UTF-8" and env["PYTHONPATH"] == str(REPO)
    assert "OBSERVATORY_HOME" not in env  # Datasette is told what to serve on its command line


@pytest.mark.slow
def test_ocr_workers_get_no_secret_and_still_read_screenshots(home):
    port = free_port()
    proc = start(home, "run", "--port", str(port), OBSERVATORY_WORKERS="1", OBSERVATORY_STABILITY_SECONDS="0.2")
    try:
        wait_for(lambda: children_of(proc.pid) or proc.poll() is not None, 60, what="observatory run to start")
        assert proc.poll() is None
        demo = subprocess.run([sys.executable, "-m", "observatory", "demo", "--count", "1"], cwd=home,
                              env={**os.environ, "OBSERVATORY_HOME": str(home), "PYTHONPATH": str(REPO)},
                              capture_output=True, text=True)
        assert demo.returncode == 0, demo.stderr

        def workers() -> list[int]:
            assert proc.poll() is None, proc.stderr.read()[-3000:]
            return [p for p in children_of(proc.pid) if "observatory.serve.child" not in cmdline_of(p)]

        (worker,) = wait_for(workers, 120, interval=0.1, what="an OCR worker process")
        status = wait_for(lambda: "extracted" in (s := subprocess.run(
            [sys.executable, "-m", "observatory", "status"], cwd=home, capture_output=True, text=True,
            env={**os.environ, "OBSERVATORY_HOME": str(home), "PYTHONPATH": str(REPO)})).stdout and s.stdout,
            180, interval=0.5, what="the screenshot to be extracted")
        # read once it has worked: a pool worker runs its initializer before its first task, and
        # reading it the moment it is forked raced that initializer (seen failing under load)
        assert worker in workers()
        env = environ_of(worker)
    finally:
        stop(proc)
    assert_no_secret(env, "the OCR worker")
    assert env["OBSERVATORY_HOME"] == str(home) and env["PATH"] == os.environ["PATH"]
    assert "extracted" in status


names = st.text(alphabet=st.sampled_from("ABCXYZ_"), min_size=1, max_size=8)


@given(secrets=st.lists(st.sampled_from(sorted(secret_names())), max_size=5),
       runtime=st.lists(st.sampled_from(sorted(RUNTIME)), max_size=5), others=st.lists(names, max_size=5),
       lower=st.booleans())
def test_an_allowed_environment_never_holds_a_secret_whatever_its_case(secrets, runtime, others, lower):
    environ = {**{n: "v" for n in runtime + others}, **{(s.lower() if lower else s): "secret" for s in secrets}}
    kept = allowed_env(environ, prefixes=("OBSERVATORY_",))
    assert "secret" not in kept.values()
    assert set(runtime) <= set(kept)
    assert not set(others) - set(runtime) & set(kept)


def test_every_secret_setting_is_a_secret_name():
    assert {"OPENAI_API_KEY", "OBSERVATORY_OPENAI_API_KEY", "OBSERVATORY_ALERT_WEBHOOK_URL",
            "OBSERVATORY_WEB_PASSWORD_HASH"} <= secret_names()
