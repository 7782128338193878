"""Where tests find the repository and the shared sample screenshots (read in place, never copied in)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "wos"
BEAR = "Screenshot_20251112_173538_Whiteout Survival.jpg"  # a bear-hunt damage ranking among the samples
