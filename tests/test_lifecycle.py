"""A child told its parent's pid exits at once when that parent died before the child started watching."""

from __future__ import annotations

import subprocess
import sys
import time

WAIT_FOREVER = "from observatory.lifecycle import die_with_parent; import time; die_with_parent(0.05, parent={}); time.sleep(60)"


def test_a_child_whose_parent_is_already_gone_exits_at_once() -> None:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", WAIT_FOREVER.format(1)], timeout=30)  # pid 1 is not our parent
    assert done.returncode == 0
    assert time.monotonic() - t0 < 20

