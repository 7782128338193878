"""Render the analysts' main pages in headless Chromium, to look at them (`make screenshots`).

    python scripts/screenshots.py                  # ingest + OCR the samples once, then render
    python scripts/screenshots.py --home DIR       # render an existing Observatory home instead

The first run ingests /work/shared/samples/wos (../shared/samples/wos) into
screenshots/.home with the real pipeline (a minute or two of OCR); later runs reuse it.
PNGs go to screenshots/ (git-ignored), one per page: the home page, a table with
thumbnails, the review page, a player's page, every canned query, every dashboard and every chart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
SAMPLES = ROOT.parent / "shared" / "samples" / "wos"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("chromium not found: `make screenshots` installs it (apt-get install chromium)")


def prepare_home(home: Path) -> None:
    if (home / "projections" / "observatory.db").exists():
        return
    if not SAMPLES.is_dir():
        raise SystemExit(f"samples not found at {SAMPLES}; pass --home with an existing Observatory home")
    print(f"ingesting {SAMPLES} into {home} (OCR, once) ...", file=sys.stderr)
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OBSERVATORY_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "observatory", "ingest", str(SAMPLES), "--community", "HEI"], env=env, check=True)


def busiest_player(db: Path) -> tuple[str, str]:
    """(name, player id) of the player with the most history, so the player pages show something."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT p.display_name, p.player_id FROM players p "
            "LEFT JOIN (SELECT player_id, COUNT(*) n FROM (SELECT player_id FROM roster_snapshots UNION ALL "
            "SELECT player_id FROM bear_scores UNION ALL SELECT player_id FROM contribution_snapshots) GROUP BY player_id) h "
            "USING (player_id) ORDER BY h.n DESC, p.display_name LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return (row[0] or "", row[1]) if row else ("", "")


def pages(player: str, player_id: str = "") -> dict[str, str]:
    from observatory.serve.config import load_yml, METADATA_FILE

    meta = load_yml(ROOT / METADATA_FILE)
    p = quote(player)
    out = {"home": "/", "table-screenshots": "/observatory/screenshots", "table-bear_scores": "/observatory/bear_scores",
           "review": "/-/review"}
    if player_id:
        out["player"] = f"/-/player/{quote(player_id, safe='')}"
    for name in meta["databases"]["observatory"]["queries"]:
        out[f"query-{name}"] = f"/observatory/{name}" + (f"?player={p}" if name == "player_history" else "")
    for slug, dashboard in meta["plugins"]["datasette-dashboards"].items():
        qs = f"?player={p}" if "player" in (dashboard.get("filters") or {}) else ""
        out[f"dashboard-{slug}"] = f"/-/dashboards/{slug}{qs}"
        for chart in dashboard["charts"]:
            out[f"chart-{slug}-{chart}"] = f"/-/dashboards/{slug}/{chart}{qs}"
    return out


def render(browser: str, url: str, png: Path, size: str) -> None:
    cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage",
           f"--window-size={size}", "--virtual-time-budget=8000", f"--screenshot={png}", url]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=OUT / ".home", help="Observatory home to serve (default: samples, cached)")
    ap.add_argument("--size", default="1400,1100", help="browser window, WIDTH,HEIGHT")
    args = ap.parse_args()

    browser = chromium()
    prepare_home(args.home)
    os.environ["OBSERVATORY_HOME"] = str(args.home.resolve())
    from observatory.serve import DatasetteServer
    from observatory.settings import load_settings

    sys.path.insert(0, str(ROOT / "tests"))
    from polling import free_port

    settings = load_settings()
    server = DatasetteServer(settings, "127.0.0.1", free_port(), quiet=True)
    server.start()
    OUT.mkdir(exist_ok=True)
    try:
        for name, path in pages(*busiest_player(settings.projections_db)).items():
            png = OUT / f"{name}.png"
            # table pages list every column's description above the rows: a taller window shows both
            size = args.size if not name.startswith("table-") and name != "player" else args.size.split(",")[0] + ",2400"
            render(browser, server.url.rstrip("/") + path, png, size)
            print(f"  {png.relative_to(ROOT)}  <- {path}", file=sys.stderr)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
