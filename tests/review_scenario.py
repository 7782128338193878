"""The review pages' scenario on a real log: a hunt with a doubtful row, an older screenshot whose
name matches no one, and an unknown screen; shared by the review tests in Datasette's client and
in a real browser. `Browser` is Datasette's client with a session, logins and the review form."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from builders import sha_of, shot
from observatory.eventlog import open_log
from observatory.process.pipeline import project_now
from observatory.settings import load_settings

PASSWORD = "correct horse battery staple"
NAME = "Screenshot_20251112_173538_Whiteout Survival.jpg"
OLDER = "Screenshot_20251105_120000_Whiteout Survival.jpg"
SID = sha_of(f"HEI/{NAME}")
ROWS = [
    {"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308},
    {"rank": 2, "name": "[HEI]Stevie", "damage": 4483222355},
    {"rank": 3, "name": "[HEI]Xoxo", "damage": 7720524673, "doubtful": ["damage"],
     "doubt_reasons": {"damage": "7,720,524,673 breaks the descending order of the list"}},
]


def last_seq(home: Path) -> int:
    with open_log(load_settings(home=home), readonly=True) as store:
        return store.last_seq()


def draw_blob(home: Path, sha: str, size: tuple[int, int] = (1080, 2340)) -> None:
    """A real image where the events say the screenshot's blob is (rows of text-like bars)."""
    path = home / "events" / "blobs" / sha[:2] / f"{sha}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, (40, 60, 90))
    d = ImageDraw.Draw(img)
    for y in range(200, size[1] - 200, 180):
        d.rectangle((80, y, size[0] - 80, y + 120), fill=(230, 220, 200))
    img.save(path, "JPEG")


def seed(home: Path) -> None:
    """A hunt with a doubtful row, an older screenshot whose name matches no one, and an unknown screen."""
    with open_log(load_settings()) as store:
        store.append(shot(NAME, "bear_damage", ROWS, {"trap_id": 1}))
        store.append(shot(OLDER, "bear_damage", [{"rank": 1, "name": "[HEI]Valorim", "damage": 5000000000},
                                                 {"rank": 2, "name": "[HEI]Qwertyuiop", "damage": 4000000000}],
                          {"trap_id": 2}))
        store.append(shot("Screenshot_20251110_090000_Whiteout Survival.jpg", "unknown", []))
        project_now(load_settings(), store)
    draw_blob(home, SID)


class Browser:
    """Datasette's ASGI test client with a cookie jar, the way a browser keeps its session."""

    def __init__(self, ds: Any) -> None:
        self.ds = ds
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kw: Any) -> Any:
        async def go() -> Any:
            await self.ds.invoke_startup()
            return await self.ds.client.request(method, path, cookies=self.cookies, **kw)

        resp = asyncio.run(go())
        for name in ("ds_csrftoken", "ds_actor"):
            if name in resp.cookies:
                self.cookies[name] = resp.cookies[name]
        return resp

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def token(self, path: str) -> str:
        found = re.search(r'name="csrftoken" value="([^"]+)"', self.get(path).text)
        assert found, f"no form with a CSRF token on {path}"
        return found.group(1)

    def login(self, user: str) -> None:
        resp = self.request("POST", "/-/login", data={"username": user, "password": PASSWORD,
                                                       "csrftoken": self.token("/-/login")})
        assert resp.status_code == 302, resp.text[:300]

    def fix(self, **form: str) -> Any:
        return self.request("POST", "/-/review", data={"csrftoken": self.token("/-/review"), **form})
