"""End to end: `observatory run` as a user starts it, a real screenshot dropped in, rows in Datasette."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request

import pytest

from polling import alive, children_of, free_port, wait_for

BEAR = "Screenshot_20251112_173538_Whiteout Survival.jpg"


def rows(url: str) -> list[dict]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


@pytest.mark.slow
def test_drop_a_screenshot_and_see_its_rows_in_datasette(home, samples_dir):
    port = free_port()
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_STABILITY_SECONDS": "0.5", "OBSERVATORY_WORKERS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "observatory", "run", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/observatory"

        def answering() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"observatory run exited with {proc.returncode}: {proc.stderr.read()[-3000:]}")
            return rows(f"{base}/screenshots.json?_shape=array") == []

        wait_for(answering, 60, interval=0.2, what="Datasette to answer", tolerate=(OSError, ValueError))
        kids = children_of(proc.pid)
        assert kids, "Datasette should run as a child process"

        (home / "watch_dir" / "HEI").mkdir(parents=True, exist_ok=True)
        shutil.copy(samples_dir / BEAR, home / "watch_dir" / "HEI" / BEAR)

        shot = wait_for(
            lambda: [r for r in rows(f"{base}/screenshots.json?_shape=array") if r["status"] == "extracted"],
            120, interval=0.2, what="the screenshot to be extracted", tolerate=(Exception,),
        )[0]
        assert shot["community"] == "HEI" and shot["kind"] == "bear_damage"
        extracted = rows(f"{base}/extracted_rows.json?_shape=array&screenshot_id={shot['id']}")
        assert len(extracted) >= 3
        assert all(json.loads(r["data"])["damage"] > 0 for r in extracted)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err[-2000:]
    assert "Drop screenshots into" in err and f"http://127.0.0.1:{port}/" in err
    for pid in kids:
        assert not alive(pid)
