"""Replay benchmark: how fast, and in how much memory, does a full rebuild run, and how fast are
the analysts' queries on the result?

    python benchmarks/replay.py                 # 1,000,000 events (temporary log)
    python benchmarks/replay.py --quick         # 100,000 events
    python benchmarks/replay.py --keep          # keep/reuse logs under benchmarks/.data/
    python benchmarks/replay.py --keep DIR --events 500000

What it does, all measured in this run:
1. generates a realistic log through `EventStore.append`, in batches (progress on stderr):
   eight communities, each with a roster of 100-150 players that drifts slowly (joins, leaves,
   in-game renames), living day by day: a bear hunt per day (traps alternate, so each trap
   every second day) shot as 3-5 overlapping scroll positions that share identical
   (name, damage) readings, sometimes by two officers, plus the battle mail; daily and weekly
   contribution rankings; roster pages; alliance power; championship lanes; foundry sign-ups
   and result mails. Names come back with OCR slips (a dropped or look-alike character, the
   tag there or not), row confidences now and then low, a digit misread. 1% of all events
   are admins' CorrectionApplied (set_value, delete_row, add_row, note, merge_players,
   link_alias, retract, set_event_time, rename_player, revert) about screenshots, hunts and
   player ids that exist. Prefixes of 1/4 and 1/2 of the log are cut from it (same events);
2. times `rebuild()` with `all_projectors()` for each size, every one in a fresh child
   process (`--child replay`) so that peak RSS (ru_maxrss) is the replay's own, with rebuild()'s
   default worker processes (their CPU and peak RSS reported beside), and the largest once more
   in one process (workers=0): the two-core speed-up, and the time split into reading the log,
   each projector's `apply` (the facts), the domain's derivation (reading and folding each
   community from the log, `derive`, writing its tables) and the rest;
3. times a raw `executemany` of exactly the rows the replay produced (every table, read back
   from the replayed file) into a fresh file with the same schema, indexes and pragmas
   (`--child baseline`, rows prebuilt in memory before the clock starts): the cost of writing
   the output alone, with no log decoding and no derivation;
4. times the five analyst queries of `benchmarks/queries.py` on the largest replayed file;
5. times appends: single `append_one` calls (one fsync'd commit each) and batches;
6. times one new screenshot dropped into the 10,000-event history and into the largest one (projection only:
   catch-up after its ingest, then after its extraction; `--child newshot`): the first after a start apart
   (it derives the community in full and keeps the derivation, project/domain/state.py), then the median of
   the next ones; then a retroactive merge of the two most seen players there, and a merge of a player
   seen 2-5 times into the most seen;
7. checks that incremental catch-up with odd batch sizes gives the same tables (facts and
   domain) as a replay;
8. prints a table of the figures and one SUMMARY line (key=value) that other tools can read.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".data"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def vmhwm_mb() -> float:
    """Peak RSS of this process image only (/proc VmHWM: not inherited across fork/exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---------------------------------------------------------------------------------------------
# generation: communities living day by day
# ---------------------------------------------------------------------------------------------

GENERATOR = "domain-v1"  # part of the cached logs' names: bump it whenever the generated log changes
# (community folder, alliance tag, alliance name); hunts of different communities at different hours
COMMUNITIES = (("HEI", "HEI", "HellImperium"), ("KIL", "KIL", "ShadowWarriors"), ("north-alliance", "NTH", "NorthStar"),
               ("BTS", "BTS", "BurnTheStage"), ("K-1042", "K42", "Kingdom1042"), ("raid-team-b", "RTB", "RaidTeamB"),
               ("lounge", "LNG", "LoungeLizards"), ("frost-legion", "FRL", "FrostLegion"))
OTHER_ALLIANCES = (("WLF", "WolfPack"), ("ICE", "IceBreakers"), ("DRG", "DragonLords"), ("SUN", "SunRisers"),
                   ("OAK", "OakGuard"), ("RED", "RedTide"), ("FOX", "SilverFox"))
SYLLABLES = ("va", "lor", "in", "ste", "vie", "jack", "max", "ra", "zen", "ko", "mi", "shi", "ta", "ro", "bel", "dor",
             "ka", "li", "na", "mo", "rex", "tor", "fin", "ga", "el", "ar", "is", "ul", "quin", "sa", "ve", "dra",
             "ny", "lux", "or", "pe", "ti", "bo", "cu", "xe", "wra", "th", "bour", "ne", "jas", "on")
DECOR = ("ツ", "࿐", "々", "必須", "★")
LOOKALIKE = {"l": "I", "I": "l", "i": "l", "O": "0", "o": "0", "e": "c", "a": "o", "n": "m", "S": "5", "B": "8",
             "r": "n", "u": "v", "v": "u", "t": "f"}
TIERS = ("R5", "R4", "R3", "R2", "R1")
SECTIONS = {"R5": "R5", "R4": "R4 Vanguards", "R3": "R3 RoughNecks", "R2": "R2 Fresh Meat", "R1": "R1 Dungeon"}
START = datetime(2019, 1, 7, tzinfo=timezone.utc)  # a Monday
ENGINE, ENGINE_VERSION = "tesseract", "5.3.0+obs0.4"
# a realistic admin's mix of fixes (weights, per cent)
CORRECTION_MIX = (("set_value", 30), ("delete_row", 9), ("add_row", 9), ("note", 10), ("merge_players", 8),
                  ("link_alias", 8), ("retract", 7), ("set_event_time", 7), ("rename_player", 5), ("revert", 7))
ADMINS = ("officer-ana", "r4-bourne", "valorin", "admin")


@dataclass(slots=True)
class Member:
    name: str  # the name the game shows now, without the tag
    founding: str  # key of the name this player was first seen with: their player id is player_id(community, founding)
    power: int
    furnace: int
    tier: str
    skill: float
    seen: bool = False  # has the current name been read yet?
    renamed_from: str | None = None  # founding key, while a rename awaits its first sighting


@dataclass(slots=True)
class Shot:
    """One screenshot as the simulation produces it (before it becomes events)."""

    community: str
    at: datetime
    kind: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    confidence: list[float]
    failed: bool = False
    hunt: tuple[str, datetime] | None = None  # (hunt key, hunt start) for bear screens
    sha: str = ""


def _key(name: str) -> str:
    from observatory.identity import normalize, parse_name

    return normalize(parse_name(name).name)


def _power_text(power: int) -> tuple[str, int]:
    """As the roster shows it ("211.5M") and the integer that text stands for."""
    text = f"{power / 1e6:.1f}".rstrip("0").rstrip(".") + "M"
    return text, int(round(float(text[:-1]) * 1e6))


class Community:
    """One alliance's life: a roster that drifts slowly, and the screens its officers capture each day."""

    def __init__(self, rng: random.Random, folder: str, tag: str, alliance: str, offset: int) -> None:
        self.rng, self.folder, self.tag, self.alliance, self.offset = rng, folder, tag, alliance, offset
        self.taken: set[str] = set()
        self.members = [self._new_member() for _ in range(rng.randint(100, 150))]
        self.members.sort(key=lambda m: -m.power)
        for i, m in enumerate(self.members):
            m.tier = "R5" if i == 0 else "R4" if i < 8 else "R3" if i < 40 else "R2" if i < 90 else "R1"
        self.weekly: dict[str, int] = {}  # founding key -> contribution so far this week
        self.alliance_power = {t: rng.randint(5, 20) * 10**9 for t, _ in OTHER_ALLIANCES}
        self.alliance_power[tag] = rng.randint(8, 20) * 10**9
        # what corrections can refer to: recent screenshots, hunts, names read
        self.recent: deque[Shot] = deque(maxlen=1500)
        self.hunts: deque[tuple[str, str, datetime]] = deque(maxlen=60)  # (anchor sha, hunt id, started)
        self.variants: deque[tuple[str, str]] = deque(maxlen=200)  # (OCR variant read, founding key)
        self.renames: deque[tuple[str, str]] = deque(maxlen=100)  # (new name read, founding key)
        self.corrections: deque[str] = deque(maxlen=400)  # ids of corrections recorded for this community
        self.reverts: deque[str] = deque(maxlen=50)
        self.reverted: set[str] = set()

    # -- roster -----------------------------------------------------------------------------------
    def _fresh_name(self) -> str:
        rng = self.rng
        while True:
            name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            r = rng.random()
            if r < 0.15:
                name += str(rng.randint(1, 999))
            elif r < 0.22:
                name = name.lower() + str(rng.randint(10, 99))
            elif r < 0.30:
                name += rng.choice(DECOR)
            elif r < 0.34:
                name = rng.choice(("xX", "Lord", "Sir", "Mr")) + name
            key = _key(name)
            if len(key) >= 3 and key not in self.taken:
                self.taken.add(key)
                return name

    def _new_member(self) -> Member:
        rng = self.rng
        name = self._fresh_name()
        return Member(name, _key(name), rng.randint(30, 250) * 10**6 + rng.randint(0, 999_999), rng.randint(15, 30),
                      "R1", rng.lognormvariate(0, 0.6))

    def _drift(self) -> None:
        """A day passes: power grows, now and then a member leaves, joins, or changes name in the game."""
        rng = self.rng
        for m in self.members:
            m.power += int(m.power * rng.uniform(0, 0.004))
        if rng.random() < 1 / 10:
            gone = rng.randrange(1, len(self.members))
            new = self._new_member()
            new.tier = self.members[gone].tier
            self.members[gone] = new
        if rng.random() < 1 / 25:
            m = rng.choice(self.members)
            m.name, m.seen, m.renamed_from = self._fresh_name(), False, m.founding

    def _read(self, m: Member, tagged: bool) -> str:
        """The name as OCR reads it: usually exact; sometimes a dropped or look-alike character; tag or not."""
        rng = self.rng
        if rng.random() < (0.05 if tagged else 0.03):
            tagged = not tagged
        name = m.name
        if not m.seen:
            m.seen = True
            if m.renamed_from is not None:
                self.renames.append((name, m.renamed_from))
                m.renamed_from = None
        elif rng.random() < 0.025 and len(name) > 4:
            chars = list(name)
            spots = [i for i, ch in enumerate(chars) if ch in LOOKALIKE]
            if spots and rng.random() < 0.6:
                i = rng.choice(spots)
                chars[i] = LOOKALIKE[chars[i]]
            else:
                del chars[rng.randrange(1, len(chars))]
            name = "".join(chars)
            self.variants.append((name, m.founding))
        return f"[{self.tag}]{name}" if tagged else name

    def _conf(self) -> float:
        rng = self.rng
        return round(rng.uniform(0.35, 0.6) if rng.random() < 0.015 else rng.uniform(0.75, 1.0), 3)

    def _pages(self, at: datetime, kind: str, meta: dict[str, Any], items: Sequence[Any],
               read: Callable[[int, Any], dict[str, Any]], per_page: int, pages: int, step: tuple[int, int],
               gap: tuple[int, int], misread: str | None = None, **extra: Any) -> list[Shot]:
        """A list shot as overlapping scroll positions, seconds apart.

        Each visible row is read once (`read`), so overlapping screens share identical readings;
        only a rare misread digit (`misread` field) makes two screens disagree.
        """
        rng = self.rng
        starts = [0]
        for _ in range(pages - 1):
            nxt = starts[-1] + rng.randint(*step)
            if nxt >= len(items):
                break
            starts.append(nxt)
        rows = [read(i, item) for i, item in enumerate(items[:starts[-1] + per_page])]
        out = []
        for pos in starts:
            chunk = [dict(r) for r in rows[pos:pos + per_page]]
            if misread:
                for r in chunk:
                    if rng.random() < 0.003:
                        r[misread] += 10 ** rng.randint(2, 6)
            out.append(Shot(self.folder, at, kind, dict(meta), chunk, [self._conf() for _ in chunk], **extra))
            at += timedelta(seconds=rng.randint(*gap))
        return out

    # -- one day ------------------------------------------------------------------------------------
    def day(self, d: int) -> list[Shot]:
        rng = self.rng
        self._drift()
        day0 = START + timedelta(days=d)
        shots: list[Shot] = []
        shots += self._hunt(day0, trap=1 + d % 2)  # each trap every second day
        if day0.weekday() == 0:
            self.weekly = {}
        for m in self.members:
            self.weekly[m.founding] = self.weekly.get(m.founding, 0) + int(m.skill * rng.uniform(2_000, 14_000))
        if rng.random() < 0.8:
            shots += self._contribution(day0 + timedelta(hours=rng.uniform(17, 23)), "daily")
        if rng.random() < 0.7:
            shots += self._contribution(day0 + timedelta(hours=rng.uniform(8, 23)), "weekly")
        wd = day0.weekday()
        if wd == 0 or (wd == 3 and rng.random() < 0.5):
            shots += self._roster(day0 + timedelta(hours=rng.uniform(9, 21)))
        if wd == 1:
            shots += self._ac(day0 + timedelta(hours=rng.uniform(10, 20)))
        if wd == 4:
            for legion in (1, 2):
                shots += self._foundry_signup(day0 + timedelta(hours=rng.uniform(10, 20)), legion)
        if wd == 6:
            shots += self._alliance_power(day0 + timedelta(hours=rng.uniform(9, 21)))
            for legion in (1, 2):
                shots += self._foundry_result(day0 + timedelta(hours=23), legion)
        if rng.random() < 0.03:
            shots.append(Shot(self.folder, day0 + timedelta(hours=rng.uniform(0, 24)), "unknown",
                              {"what": "chief profile"}, [], []))
        for s in shots:
            s.failed = rng.random() < 0.005
        return shots

    def _hunt(self, day0: datetime, trap: int) -> list[Shot]:
        rng = self.rng
        start = day0 + timedelta(hours=(11 if trap == 1 else 19) + self.offset % 3, minutes=rng.randint(0, 20))
        end = start + timedelta(minutes=30)
        players = [m for m in self.members if rng.random() < 0.75]
        damage = {m.founding: int(m.skill * m.power / 150 * rng.lognormvariate(0, 0.3)) + 1000 for m in players}
        players.sort(key=lambda m: -damage[m.founding])
        hunt = (f"{self.folder}:{start.isoformat()}", start)
        shots: list[Shot] = []
        for capture in range(1 if rng.random() < 0.7 else 2):  # sometimes two officers screenshot the ranking
            at = end + timedelta(minutes=rng.randint(2, 20) + 15 * capture)
            shots += self._pages(at, "bear_damage", {"trap_id": trap}, players,
                                 lambda i, m: {"rank": i + 1, "name": self._read(m, True), "damage": damage[m.founding]},
                                 7, rng.randint(3, 5), (4, 5), (8, 40), misread="damage", hunt=hunt)
        if rng.random() < 0.6:  # the mail, read later: identical (name, damage) readings tie it to the hunt
            mail = {"trap_id": trap, "rallies": rng.randint(30, 60), "total_damage": sum(damage.values()),
                    "mail_time": end.strftime("%Y-%m-%d %H:%M:%S")}
            shots += self._pages(end + timedelta(minutes=rng.randint(30, 360)), "bear_overview", mail, players,
                                 lambda i, m: {"rank": i + 1, "name": self._read(m, False), "damage": damage[m.founding]},
                                 5, rng.randint(1, 2), (5, 5), (5, 20), hunt=hunt)
        return shots

    def _contribution(self, at: datetime, period: str) -> list[Shot]:
        rng = self.rng
        if period == "weekly":
            value = dict(self.weekly)
        else:
            value = {m.founding: int(m.skill * rng.uniform(2_000, 14_000)) for m in self.members}
        ranked = sorted(self.members, key=lambda m: -value[m.founding])
        return self._pages(at, "contribution", {"period": period}, ranked,
                           lambda i, m: {"rank": i + 1, "name": self._read(m, False), "contribution": value[m.founding]},
                           8, rng.randint(2, 4), (6, 7), (5, 25), misread="contribution")

    def _roster(self, at: datetime) -> list[Shot]:
        rng = self.rng
        ordered = sorted(self.members, key=lambda m: (TIERS.index(m.tier), -m.power))

        def read(i: int, m: Member) -> dict[str, Any]:
            text, power = _power_text(m.power)
            return {"name": self._read(m, False), "power_text": text, "power": power, "furnace_text": str(m.furnace),
                    "tier": m.tier}

        online = f"{rng.randint(3, 40)}/{len(self.members)}"
        shots = self._pages(at, "alliance_members", {"online": online}, ordered, read, 10, 40, (8, 9), (4, 15))
        for s in shots:
            s.meta["sections"] = sorted({SECTIONS[r["tier"]] for r in s.rows}, key=lambda x: TIERS.index(x[:2]))
        return shots

    def _alliance_power(self, at: datetime) -> list[Shot]:
        for t in self.alliance_power:
            self.alliance_power[t] += int(self.alliance_power[t] * self.rng.uniform(0, 0.02))
        names = dict(OTHER_ALLIANCES) | {self.tag: self.alliance}
        ranked = sorted(self.alliance_power.items(), key=lambda kv: -kv[1])
        rows = [{"rank": i + 1, "tag": t, "alliance": names[t], "power": p} for i, (t, p) in enumerate(ranked)]
        return [Shot(self.folder, at, "alliance_power", {}, rows, [self._conf() for _ in rows])]

    def _ac(self, at: datetime) -> list[Shot]:
        rng = self.rng
        pool = sorted(rng.sample(self.members, 60), key=lambda m: -m.power)
        shots = []
        for lane_i, lane in enumerate(("left", "middle", "right")):
            lane_members = pool[lane_i::3]
            power = [m.power // 40_000 for m in lane_members]
            meta = {"lane": lane, "registered": len(lane_members), "capacity": 20, "total_power": sum(power)}
            shots += self._pages(at + timedelta(minutes=lane_i), "ac_signup", meta, lane_members,
                                 lambda i, m: {"order": 20 - i, "name": self._read(m, True), "power": power[i]},
                                 10, rng.randint(1, 2), (10, 10), (5, 15))
        return shots

    def _foundry_signup(self, at: datetime, legion: int) -> list[Shot]:
        rng = self.rng
        chosen = sorted(rng.sample(self.members, 30), key=lambda m: (TIERS.index(m.tier), -m.power))
        status = [rng.choice(("join", "join", "join", "no_engagements", "legion_2_dispatched")) for _ in chosen]
        meta = {"legion": legion, "joined": status.count("join"), "capacity": 30,
                "substitutes": f"{rng.randint(0, 10)}/10", "troop_power": sum(m.power // 50_000 for m in chosen)}
        return self._pages(at, "foundry_signup", meta, chosen,
                           lambda i, m: {"name": self._read(m, False), "power": m.power // 50_000, "status": status[i],
                                         "voted": rng.random() < 0.8, "tier": m.tier},
                           8, rng.randint(2, 3), (7, 8), (5, 20))

    def _foundry_result(self, mail_at: datetime, legion: int) -> list[Shot]:
        rng = self.rng
        chosen = rng.sample(self.members, 25)
        points = {m.founding: int(m.skill * rng.uniform(100_000, 3_000_000)) for m in chosen}
        chosen.sort(key=lambda m: -points[m.founding])
        ours, theirs = rng.randint(150_000, 400_000), rng.randint(150_000, 400_000)
        opp = rng.choice(OTHER_ALLIANCES)
        meta = {"mail_time": mail_at.strftime("%Y-%m-%d %H:%M:%S"), "result": "victory" if ours > theirs else "defeat",
                "legion": legion, "our_alliance": f"[{self.tag}]{self.alliance}", "our_score": ours,
                "opponent": f"[{opp[0]}]{opp[1]}", "opponent_score": theirs}
        at = mail_at + timedelta(hours=rng.uniform(0.5, 14))
        return self._pages(at, "foundry_result", meta, chosen,
                           lambda i, m: {"rank": i + 1, "name": self._read(m, False), "points": points[m.founding]},
                           8, rng.randint(1, 2), (7, 8), (5, 15), misread="points")


class World:
    """Several communities living day by day; their screenshots become events in time order, and
    admins' corrections (1% of all events) refer to screenshots, hunts and players that exist."""

    def __init__(self, seed: int = 20250101, correction_share: float = 0.01) -> None:
        self.rng = random.Random(seed)
        self.communities = {folder: Community(random.Random(seed * 31 + i), folder, tag, name, i)
                            for i, (folder, tag, name) in enumerate(COMMUNITIES)}
        self.share = correction_share
        self.day = 0
        self.shots = 0
        self.events = 0
        self.corrections = 0
        self.kinds: dict[str, int] = {}
        self.correction_kinds: dict[str, int] = {}
        self.hunt_anchor: dict[str, str] = {}
        self.about: dict[int, str] = {}  # id(Pending) -> community, for corrections not yet appended

    @property
    def span(self) -> str:
        end = START + timedelta(days=self.day)
        return f"{START.date()} .. {end.date()} ({self.day} days)"

    def pending(self) -> Iterator[Any]:
        """Pending events, endlessly: a day's capture sessions, each followed by the corrections now due."""
        while True:
            day: list[Shot] = []
            for c in self.communities.values():
                day += c.day(self.day)
            self.day += 1
            day.sort(key=lambda s: s.at)
            i = 0
            while i < len(day):  # a session: one community's shots within a few minutes, ingested together
                j = i + 1
                while (j < len(day) and day[j].community == day[i].community
                       and day[j].at - day[j - 1].at <= timedelta(minutes=5)):
                    j += 1
                yield from self._session(day[i:j])
                i = j
                while self.corrections + 1 <= self.share * (self.events + 1):
                    p = self._correction()
                    if p is not None:
                        self.events += 1
                        self.corrections += 1
                        yield p

    def _session(self, shots: list[Shot]) -> Iterator[Any]:
        from observatory.eventlog import (ExtractionFailed, Pending, ScoresExtracted, ScreenshotClassified,
                                          ScreenshotIngested)

        rng = self.rng
        for s in shots:
            self.shots += 1
            s.sha = hashlib.sha256(f"{GENERATOR}/{self.shots}".encode()).hexdigest()
            name = f"Screenshot_{s.at:%Y%m%d_%H%M%S}_Whiteout Survival.jpg"
            captured = s.at.replace(microsecond=0).isoformat()
            self.events += 1
            yield Pending(ScreenshotIngested(
                sha256=s.sha, community=s.community, original_path=f"{s.community}/{name}", file_name=name,
                byte_size=rng.randint(250_000, 1_400_000), format="JPEG", width=1080, height=2340,
                captured_at=captured, captured_at_source="filename", blob_path=f"blobs/{s.sha[:2]}/{s.sha}.jpg",
            ), f"screenshot-{s.sha}", idempotency_key=f"ingest:{s.sha}", correlation_id=s.sha, actor="watcher",
                occurred_at=captured)
        for s in shots:
            stream, key = f"screenshot-{s.sha}", f"{s.sha}:{ENGINE_VERSION}"
            common = {"engine": ENGINE, "engine_version": ENGINE_VERSION}
            if s.failed:
                self.events += 1
                yield Pending(ExtractionFailed(sha256=s.sha, stage="extract", reason="no list rows found", **common),
                              stream, idempotency_key=f"failed:{key}", correlation_id=s.sha, actor="extractor")
                continue
            self.kinds[s.kind] = self.kinds.get(s.kind, 0) + 1
            self.events += 2
            yield Pending(ScreenshotClassified(sha256=s.sha, kind=s.kind, confidence=round(rng.uniform(0.8, 0.99), 3),
                                               evidence=[f"title:{s.kind}"], **common),
                          stream, idempotency_key=f"classified:{key}", correlation_id=s.sha, actor="extractor")
            yield Pending(ScoresExtracted(sha256=s.sha, kind=s.kind, meta=s.meta, rows=s.rows, row_confidence=s.confidence,
                                          warnings=[] if rng.random() < 0.95 else ["rank gap after row 4"], **common),
                          stream, idempotency_key=f"extracted:{key}", correlation_id=s.sha, actor="extractor")
            c = self.communities[s.community]
            if s.rows:
                c.recent.append(s)
            if s.hunt is not None and s.hunt[0] not in self.hunt_anchor:
                self.hunt_anchor[s.hunt[0]] = s.sha
                c.hunts.append((s.sha, player_hunt_id(s.community, s.sha), s.hunt[1]))

    def recorded(self, batch: Sequence[Any], stored: Sequence[Any]) -> None:
        """Corrections get their ids when appended; later reverts can name them."""
        from observatory.correct.state import correction_id

        assert len(batch) == len(stored), "the generator's events have unique idempotency keys"
        for p, ev in zip(batch, stored):
            folder = self.about.pop(id(p), None)
            if folder is not None:
                c = self.communities[folder]
                (c.reverts if ev.payload["correction"]["kind"] == "revert" else c.corrections).append(
                    correction_id(ev.event_id))

    def _correction(self) -> Any:
        from observatory.eventlog import CorrectionApplied, Pending
        from observatory.eventlog.models import correction_adapter

        rng = self.rng
        c = self.communities[rng.choice(list(self.communities))]
        if not c.recent:
            return None
        kinds, weights = zip(*CORRECTION_MIX)
        kind = rng.choices(kinds, weights)[0]
        fix = _fix(rng, c, kind) or _fix(rng, c, "set_value")
        if fix is None:
            return None
        self.correction_kinds[fix["kind"]] = self.correction_kinds.get(fix["kind"], 0) + 1
        actor = rng.choice(ADMINS)
        event = CorrectionApplied(correction=correction_adapter.validate_python(fix), actor=actor,
                                  reason=REASONS[fix["kind"]])
        p = Pending(event, "corrections", actor=actor, occurred_at=c.recent[-1].at.isoformat())
        self.about[id(p)] = c.folder
        return p


REASONS = {"set_value": "checked against the game", "delete_row": "not a player row", "add_row": "row missed by OCR",
           "note": "context for the alliance", "merge_players": "same player after a name change",
           "link_alias": "OCR misread of a known name", "retract": "wrong community / duplicate capture",
           "set_event_time": "screenshot taken long after the event", "rename_player": "proper spelling",
           "revert": "undo: mistake"}
NUMERIC = {"bear_damage": "damage", "bear_overview": "damage", "contribution": "contribution", "alliance_members": "power",
           "ac_signup": "power", "foundry_signup": "power", "foundry_result": "points"}


def player_hunt_id(community: str, anchor_sha: str) -> str:
    from observatory.project.domain.model import stable_id

    return stable_id("h", community, anchor_sha)


def _ref(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """How an admin addresses a row: by rank or order when the screen shows one, else by name."""
    for key in ("rank", "order"):
        if key in row:
            return {"field": key, "value": row[key]}
    return {"field": "name", "value": row["name"]}


def _fix(rng: random.Random, c: Community, kind: str) -> dict[str, Any] | None:
    """One correction of `kind` about things community `c` really has; None when it has nothing to fix that way."""
    from observatory.project.domain.players import player_id

    shot = rng.choice(c.recent)
    sid = shot.sha
    if kind == "set_value":
        if shot.kind == "bear_overview" and rng.random() < 0.3:
            return {"kind": kind, "screenshot_id": sid, "row": None, "field": "total_damage",
                    "value": shot.meta["total_damage"] + rng.randint(1, 9) * 10**6}
        row = rng.choice(shot.rows)
        field = NUMERIC.get(shot.kind)
        if field is None:
            return None
        value = row[field] + rng.choice((-1, 1)) * 10 ** rng.randint(1, 4)
        return {"kind": kind, "screenshot_id": sid, "row": _ref(shot.kind, row), "field": field, "value": max(value, 1)}
    if kind == "delete_row":
        return {"kind": kind, "screenshot_id": sid, "row": _ref(shot.kind, rng.choice(shot.rows))}
    if kind == "add_row":
        m = rng.choice(c.members)
        last = shot.rows[-1]
        if shot.kind in ("bear_damage", "bear_overview"):
            values = {"rank": last["rank"] + 1, "name": m.name, "damage": max(1000, last["damage"] - rng.randint(1, 10**6))}
        elif shot.kind == "contribution":
            values = {"rank": last["rank"] + 1, "name": m.name, "contribution": max(1, last["contribution"] - 50)}
        elif shot.kind == "alliance_members":
            text, power = _power_text(m.power)
            values = {"name": m.name, "power_text": text, "power": power, "furnace_text": str(m.furnace), "tier": m.tier}
        elif shot.kind == "foundry_result":
            values = {"rank": last["rank"] + 1, "name": m.name, "points": max(1, last["points"] - 1000)}
        else:
            return None
        return {"kind": kind, "screenshot_id": sid, "values": values}
    if kind == "retract":
        return {"kind": kind, "screenshot_id": sid}
    if kind == "note":
        if c.hunts and rng.random() < 0.7:
            anchor, hid, _ = rng.choice(c.hunts)
            return {"kind": kind, "target": f"hunt {hid}", "screenshot_id": anchor,
                    "text": rng.choice(("bear reset early", "rally leaders swapped", "server lag during the hunt"))}
        return {"kind": kind, "target": f"screenshot {sid[:12]}", "screenshot_id": sid, "text": "blurry, re-check"}
    if kind == "set_event_time":
        if c.hunts and rng.random() < 0.6:
            anchor, _, started = rng.choice(c.hunts)
            return {"kind": kind, "screenshot_id": anchor, "scope": "event",
                    "at": (started - timedelta(minutes=rng.randint(1, 5))).isoformat()}
        return {"kind": kind, "screenshot_id": sid, "scope": "screenshot",
                "at": (shot.at - timedelta(minutes=rng.randint(1, 20))).isoformat()}
    if kind == "merge_players":
        if not c.renames:
            return None
        new_name, founding = rng.choice(c.renames)
        source, target = player_id(c.folder, _key(new_name)), player_id(c.folder, founding)
        if source == target:
            return None
        return {"kind": kind, "community": c.folder, "source_id": source, "target_id": target}
    if kind == "link_alias":
        pool = c.variants if c.variants and (not c.renames or rng.random() < 0.7) else c.renames
        if not pool:
            return None
        name, founding = rng.choice(pool)
        return {"kind": kind, "community": c.folder, "name": name, "player_id": player_id(c.folder, founding)}
    if kind == "rename_player":
        m = rng.choice([m for m in c.members if m.seen])
        return {"kind": kind, "community": c.folder, "player_id": player_id(c.folder, m.founding),
                "name": m.name + rng.choice(("", "ツ", " II"))}
    if kind == "revert":  # now and then a revert is itself undone: the fix is back in force
        pool = c.reverts if c.reverts and rng.random() < 0.1 else c.corrections
        if not pool:
            return None
        i = rng.randrange(len(pool))
        cid = pool[i]
        del pool[i]  # a correction is reverted once
        return {"kind": kind, "correction_id": cid}
    raise ValueError(kind)


def remove_db(path: Path) -> None:
    """Delete an SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generate(path: Path, n_events: int, batch_events: int = 3000) -> dict[str, Any]:
    """Write a log of exactly n_events; returns what it holds and how long it took."""
    from observatory.eventlog import EventStore

    tmp = _private(path)
    world = World()
    stream = world.pending()
    started = time.perf_counter()
    written = 0
    with EventStore(tmp) as store:
        while written < n_events:
            batch = [next(stream) for _ in range(min(batch_events, n_events - written))]
            stored = store.append(batch)
            world.recorded(batch, stored)
            written += len(stored)
            el = time.perf_counter() - started
            print(f"\r  generating {path.name}: {written:>9,}/{n_events:,} events "
                  f"({written / el:,.0f}/s, {el:.0f}s)", end="", file=sys.stderr, flush=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(file=sys.stderr)
    _publish(tmp, path)
    return {"seconds": time.perf_counter() - started, "span": world.span}


def _private(path: Path) -> Path:
    """A scratch file beside `path` that no other process writes (several benchmarks share the cache)."""
    tmp = path.with_name(f"{path.name}.partial-{os.getpid()}")
    remove_db(tmp)
    return tmp


def _publish(tmp: Path, path: Path) -> None:
    """Put a finished (checkpointed, closed) log in place atomically: readers see the old file or the whole new one."""
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def log_size(path: Path) -> int:
    if not path.exists():
        return -1
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        (c,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return n if n == c else -1
    except sqlite3.Error:
        return -1
    finally:
        conn.close()


def log_contents(path: Path) -> dict[str, Any]:
    """Events by type, screenshots by kind, corrections by kind, communities and the captured time span."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        types = dict(conn.execute("SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY 2 DESC"))
        kinds = dict(conn.execute("SELECT json_extract(payload, '$.kind'), COUNT(*) FROM events "
                                  "WHERE type = 'ScoresExtracted' GROUP BY 1 ORDER BY 2 DESC"))
        fixes = dict(conn.execute("SELECT json_extract(payload, '$.correction.kind'), COUNT(*) FROM events "
                                  "WHERE type = 'CorrectionApplied' GROUP BY 1 ORDER BY 2 DESC"))
        first, last, communities = conn.execute(
            "SELECT MIN(json_extract(payload, '$.captured_at')), MAX(json_extract(payload, '$.captured_at')), "
            "COUNT(DISTINCT json_extract(payload, '$.community')) FROM events WHERE type = 'ScreenshotIngested'"
        ).fetchone()
        (rows,) = conn.execute("SELECT COALESCE(SUM(json_array_length(payload, '$.rows')), 0) FROM events "
                               "WHERE type = 'ScoresExtracted'").fetchone()
    finally:
        conn.close()
    return {"types": types, "kinds": kinds, "corrections": fixes, "first": first, "last": last,
            "communities": communities, "rows": rows}


def cut_prefix(src: Path, dst: Path, n: int) -> None:
    """dst := the first n events of src (same rows, so the same hash chain)."""
    from observatory.eventlog import EventStore

    tmp = _private(dst)
    with EventStore(tmp) as store:  # creates the schema
        store.conn.execute("PRAGMA synchronous=OFF")
        store.conn.execute("ATTACH DATABASE ? AS src", (str(src),))
        store.conn.execute("BEGIN")
        store.conn.execute("INSERT INTO main.events SELECT * FROM src.events WHERE seq <= ? ORDER BY seq", (n,))
        store.conn.execute("COMMIT")
        store.conn.execute("DETACH DATABASE src")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _publish(tmp, dst)


def ensure_log(data: Path, n: int, *, source: Path | None = None) -> tuple[Path, str]:
    path = data / f"replay-log-{GENERATOR}-{n}.db"
    if log_size(path) == n:
        return path, "reused"
    # One process makes a given log; another that wants it meanwhile waits, then reuses it.
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if log_size(path) == n:
            return path, "reused (made by another process meanwhile)"
        return _make_log(path, n, source)


def _make_log(path: Path, n: int, source: Path | None) -> tuple[Path, str]:
    if source is not None:
        t = time.perf_counter()
        log(f"  cutting {path.name} from {source.name}")
        cut_prefix(source, path, n)
        return path, f"cut from larger log in {time.perf_counter() - t:.1f}s"
    g = generate(path, n)
    return path, f"generated in {g['seconds']:.1f}s ({n / g['seconds']:,.0f} events/s)"


# ---------------------------------------------------------------------------------------------
# child modes (fresh processes, so ru_maxrss is their own)
# ---------------------------------------------------------------------------------------------


class Phases:
    """Wall-clock seconds spent inside wrapped callables, by name (instrumentation for the breakdown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
        return timed

    def wrap_iter(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """For a generator function: the time spent producing each item."""
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = fn(*args, **kwargs)
            while True:
                t = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    return
                finally:
                    self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
                yield item
        return timed


def child_replay(log_path: Path, target: Path, batch_size: int | None, workers: int | None = None) -> dict[str, Any]:
    from observatory.eventlog import EventStore
    from observatory.project import all_projectors
    from observatory.project import rebuild as rebuild_mod
    from observatory.project.domain import fanout as fanout_mod
    from observatory.project.domain import replay as replay_mod

    rss_before = maxrss_mb()
    remove_db(target)
    store = EventStore(log_path, readonly=True)
    # instrumentation only: the same calls, timed (in this process: the workers' share is not in the phases)
    ph = Phases()
    store.read_pages = ph.wrap_iter("read log", store.read_pages)  # type: ignore[method-assign]
    projectors = all_projectors()
    for p in projectors:
        p.apply = ph.wrap(f"apply {p.name}", p.apply)  # type: ignore[method-assign]
        p.settle = ph.wrap(f"settle {p.name}", p.settle)  # type: ignore[method-assign]
    fanout_mod.DomainReplay.finish = ph.wrap("domain", fanout_mod.DomainReplay.finish)
    replay_mod.correction_records = ph.wrap("domain: corrections", replay_mod.correction_records)
    store.streams_payloads = ph.wrap_iter("domain: read community", store.streams_payloads)  # type: ignore[method-assign]
    replay_mod.fold_shots = ph.wrap("domain: read + fold", replay_mod.fold_shots)
    replay_mod.derive = ph.wrap("domain: derive", replay_mod.derive)
    fanout_mod.insert_rows = ph.wrap("domain: write rows", fanout_mod.insert_rows)
    fanout_mod._write_part = ph.wrap("domain: write rows", fanout_mod._write_part)
    fanout_mod._copy_part = ph.wrap("domain: copy workers' rows", fanout_mod._copy_part)
    rebuild_mod._recreate_indexes = ph.wrap("build indexes", rebuild_mod._recreate_indexes)
    rebuild_mod.publish = ph.wrap("publish", rebuild_mod.publish)
    kwargs: dict[str, Any] = {} if batch_size is None else {"batch_size": batch_size}
    if workers is not None:
        kwargs["workers"] = workers
    t = time.perf_counter()
    cpu = time.process_time()
    n = rebuild_mod.rebuild(store, target, projectors, **kwargs)
    secs = time.perf_counter() - t
    cpu = time.process_time() - cpu
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, joined by now
    store.close()
    conn = sqlite3.connect(target)
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0] for t in output_tables(conn)}
    conn.close()
    return {"events": n, "seconds": secs, "cpu_seconds": cpu, "worker_cpu_seconds": kids.ru_utime + kids.ru_stime,
            "eps": n / secs, "maxrss_mb": maxrss_mb(), "worker_maxrss_mb": kids.ru_maxrss / 1024,
            "vmhwm_mb": vmhwm_mb(), "rss_before_mb": rss_before, "counts": counts, "phases": ph.seconds,
            "db_mb": target.stat().st_size / 2**20,
            "workers": workers if workers is not None else rebuild_mod.default_workers(n)}


def output_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables a replay produces (not its bookkeeping: checkpoints, meta, dirty marks, stats), in creation
    order, so that a table comes after the tables its foreign keys point to."""
    return [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
            if not t.startswith(("_", "sqlite_"))]


NEWSHOT_SMALL = 10_000  # the small history the new-screenshot cost is compared with
FACT_TABLES = ("screenshots", "extracted_rows", "rejected_files", "corrections")


def fresh_projection(path: Path) -> sqlite3.Connection:
    """An empty projections file with the real schema and indexes, opened as rebuild() opens its scratch file."""
    from observatory.project import all_projectors
    from observatory.project.framework import ensure_schema, open_db

    remove_db(path)
    db = open_db(path, fast=True)
    ensure_schema(db, all_projectors())
    return db.conn


def _load(conn: sqlite3.Connection, data: dict[str, list[tuple[Any, ...]]]) -> None:
    conn.execute("BEGIN")
    for table, rows in data.items():
        if rows:
            conn.executemany(f"INSERT INTO [{table}] VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.execute("COMMIT")


def child_baseline(projection: Path, scratch: Path) -> dict[str, Any]:
    """Raw executemany of the replay's own output rows, same schema/indexes/pragmas, one transaction."""
    from observatory.project.rebuild import _drop_secondary_indexes, _recreate_indexes

    src = sqlite3.connect(f"{projection.resolve().as_uri()}?mode=ro", uri=True)
    data = {t: src.execute(f"SELECT * FROM [{t}] ORDER BY rowid").fetchall() for t in output_tables(src)}
    src.close()
    facts = {t: rows for t, rows in data.items() if t in FACT_TABLES}
    out: dict[str, Any] = {"rows": {t: len(r) for t, r in data.items()}}
    for label, subset in (("facts", facts), ("all", data)):
        conn = fresh_projection(scratch)
        t = time.perf_counter()
        cpu = time.process_time()
        _load(conn, subset)
        out[f"{label}_seconds"] = time.perf_counter() - t
        out[f"{label}_cpu_seconds"] = time.process_time() - cpu
        if label == "all":
            t = time.perf_counter()
            conn.execute("ANALYZE")
            out["analyze_seconds"] = time.perf_counter() - t
        conn.close()
    # the same load with the secondary indexes built after it (what rebuild() does)
    conn = fresh_projection(scratch)
    idx = _drop_secondary_indexes(conn)
    t = time.perf_counter()
    _load(conn, data)
    _recreate_indexes(conn, idx)
    out["late_index_seconds"] = time.perf_counter() - t
    conn.close()
    del data, facts
    remove_db(scratch)
    return out


def child_append(store_dir: Path, singles: int, batches: int, batch_size: int) -> dict[str, Any]:
    from observatory.eventlog import EventStore

    path = store_dir / "append-bench.db"
    remove_db(path)
    stream = World(seed=7).pending()
    out: dict[str, Any] = {}
    with EventStore(path) as store:
        pend = [next(stream) for _ in range(singles)]
        t = time.perf_counter()
        for p in pend:
            store.append_one(p.event, p.stream_id, idempotency_key=p.idempotency_key, actor=p.actor,
                             correlation_id=p.correlation_id, occurred_at=p.occurred_at)
        secs = time.perf_counter() - t
        out["single"] = {"events": singles, "seconds": secs, "eps": singles / secs}
        prepared = [[next(stream) for _ in range(batch_size)] for _ in range(batches)]
        t = time.perf_counter()
        n = 0
        for batch in prepared:
            n += len(store.append(batch))
        secs = time.perf_counter() - t
        out["batch"] = {"events": n, "batch_size": batch_size, "seconds": secs, "eps": n / secs}
    remove_db(path)
    return out


def _table_digest(conn: sqlite3.Connection, table: str) -> tuple[int, str]:
    """Row count and a hash of the rows in a fixed order (every column), whatever order they were written in."""
    ncols = len(conn.execute(f"SELECT * FROM [{table}] LIMIT 0").description)
    order = ", ".join(str(i) for i in range(1, ncols + 1))
    h = hashlib.sha256()
    n = 0
    for row in conn.execute(f"SELECT * FROM [{table}] ORDER BY {order}"):
        h.update(repr(row).encode())
        n += 1
    return n, h.hexdigest()


def child_check(log_path: Path, work: Path) -> dict[str, Any]:
    """Incremental catch-up in odd batch sizes, and a rebuild with another page size, must equal a replay."""
    from observatory.eventlog import EventStore
    from observatory.project import all_projectors, catch_up, open_db
    from observatory.project.rebuild import rebuild

    store = EventStore(log_path, readonly=True)
    last = store.last_seq()
    ref = work / "check-ref.db"
    rebuild(store, ref, all_projectors())
    alt = work / "check-alt.db"
    rebuild(store, alt, all_projectors(), batch_size=777)
    inc = work / "check-inc.db"
    remove_db(inc)
    db = open_db(inc)
    projectors = all_projectors()
    rng = random.Random(3)
    done = steps = 0
    while done < last:
        until = min(last, done + rng.randint(1, 4000))
        catch_up(store, db, projectors, batch_size=rng.choice((1, 2, 5, 64, 999, 5000)), until=until)
        done = until
        steps += 1
    db.conn.close()
    variants = {"rebuild-batch-777": alt, "catch-up-steps": inc}
    schema_q = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name"

    def digest(path: Path) -> dict[str, Any]:
        c = sqlite3.connect(path)
        d: dict[str, Any] = {t: _table_digest(c, t) for t in output_tables(c)}
        d["schema"] = c.execute(schema_q).fetchall()
        c.close()
        return d

    ref_d = digest(ref)
    results = {}
    for name, path in variants.items():
        d = digest(path)
        results[name] = [t for t in sorted(set(d) | set(ref_d)) if d.get(t) != ref_d.get(t)]
    for p in (ref, alt, inc):
        remove_db(p)
    store.close()
    return {"events": last, "steps": steps, "ok": not any(results.values()), "differences": results,
            "rows": {t: v[0] for t, v in ref_d.items() if t != "schema"}}


def child_newshot(log_path: Path, projection: Path, work: Path, repeats: int, *, cache: bool = True) -> dict[str, Any]:
    """One new screenshot dropped into a replayed history: the projection time until its domain rows are queryable.

    On copies of the log and of its replayed projections (a live file, WAL, as `observatory run` keeps it),
    for the busiest community: append the ScreenshotIngested of a new screenshot (a copy of that community's
    newest reading, 10 minutes later) and time `catch_up` (what the watcher's ingest costs), then append its
    ScreenshotClassified and ScoresExtracted and time `catch_up` again (what the extraction costs). No OCR:
    projection only. Median of `repeats` screenshots, one after the other; wall-clock and CPU time.
    `cache=False` forgets the decoded readings between settles (for an A/B of project/domain/shots.py).
    """
    from observatory.eventlog import EventStore, Pending, ScoresExtracted, ScreenshotClassified, ScreenshotIngested
    from observatory.project import all_projectors, catch_up, open_db
    from observatory.project.domain.shots import CACHE

    log_copy, proj_copy = work / "newshot-log.db", work / "newshot-projection.db"
    for src, dst in ((log_path, log_copy), (projection, proj_copy)):
        remove_db(dst)
        s, d = sqlite3.connect(src), sqlite3.connect(dst)
        s.backup(d)
        s.close()
        d.close()
    store = EventStore(log_copy)
    db = open_db(proj_copy)
    projectors = all_projectors()
    catch_up(store, db, projectors)  # a replayed file is complete: this only warms the caches, as a daemon's are
    conn = db.conn
    community, shots = conn.execute("SELECT community, COUNT(*) FROM screenshots GROUP BY 1 ORDER BY 2 DESC, 1 "
                                    "LIMIT 1").fetchone()
    sha, captured = conn.execute("SELECT id, captured_at FROM screenshots WHERE community = ? AND status = 'extracted' "
                                 "ORDER BY ingest_seq DESC LIMIT 1", [community]).fetchone()
    ingested = store.latest(["ScreenshotIngested"], stream_id=f"screenshot-{sha}").payload
    extracted = store.latest(["ScoresExtracted"], stream_id=f"screenshot-{sha}").payload
    at = datetime.fromisoformat(captured)
    ingest_ms, extract_ms, total_ms, cpu_ms = [], [], [], []
    # The first screenshot after a start derives the community in full and keeps that derivation
    # (project/domain/state.py); a running daemon's next ones go on from it. Timed apart, not in the median.
    for i in range(-1, repeats):
        if not cache:
            CACHE.clear()
        at += timedelta(minutes=10)
        new = hashlib.sha256(f"newshot/{log_path.name}/{i}".encode()).hexdigest()
        stream = f"screenshot-{new}"
        when = at.isoformat()
        store.append([Pending(ScreenshotIngested(**{**ingested, "sha256": new, "captured_at": when,
                                                   "blob_path": f"blobs/{new[:2]}/{new}.jpg",
                                                   "original_path": f"{community}/new-{i}.jpg",
                                                   "file_name": f"new-{i}.jpg"}),
                              stream, idempotency_key=f"ingest:{new}", actor="watcher", occurred_at=when)])
        t, cpu = time.perf_counter(), time.process_time()
        catch_up(store, db, projectors)
        ingest_ms.append(1000 * (time.perf_counter() - t))
        common = {k: extracted[k] for k in ("engine", "engine_version")}
        store.append([
            Pending(ScreenshotClassified(sha256=new, kind=extracted["kind"], confidence=0.95, evidence=[], **common),
                    stream, idempotency_key=f"classified:{new}", actor="extractor"),
            Pending(ScoresExtracted(**{**extracted, "sha256": new}), stream, idempotency_key=f"extracted:{new}",
                    actor="extractor")])
        t = time.perf_counter()
        catch_up(store, db, projectors)
        extract_ms.append(1000 * (time.perf_counter() - t))
        cpu_ms.append(1000 * (time.process_time() - cpu))
        total_ms.append(ingest_ms[-1] + extract_ms[-1])
        (n,) = conn.execute("SELECT COUNT(*) FROM screenshot_usage WHERE screenshot_id = ? AND kind = ? "
                            "AND (used_in IS NULL OR used_in NOT LIKE 'not counted%')",
                            [new, extracted["kind"]]).fetchone()
        assert n == 1, f"the new screenshot {new[:12]} is not in the domain tables"
        if i < 0:
            first_ms = total_ms.pop()
            ingest_ms.pop(), extract_ms.pop(), cpu_ms.pop()
    # A correction that reaches back in time: merge the community's two most seen players.
    from observatory.eventlog import CorrectionApplied
    from observatory.eventlog.models import correction_adapter

    (source, _), (target, _) = conn.execute("SELECT player_id, sightings FROM players WHERE community = ? "
                                            "ORDER BY sightings DESC, player_id LIMIT 2", [community]).fetchall()
    fix = {"kind": "merge_players", "community": community, "source_id": source, "target_id": target}
    store.append([Pending(CorrectionApplied(correction=correction_adapter.validate_python(fix), actor="admin",
                                            reason="benchmark: same player"), "corrections", actor="admin")])
    t, cpu = time.perf_counter(), time.process_time()
    catch_up(store, db, projectors)
    merge_ms, merge_cpu_ms = 1000 * (time.perf_counter() - t), 1000 * (time.process_time() - cpu)
    assert conn.execute("SELECT 1 FROM players WHERE player_id = ?", [source]).fetchone() is None, "merge not applied"
    # The usual merge: a misread name's player, seen a few times, into the one it stands for (here: the most seen).
    (rare,) = conn.execute("SELECT player_id FROM players WHERE community = ? AND sightings BETWEEN 2 AND 5 "
                           "ORDER BY sightings DESC, player_id LIMIT 1", [community]).fetchone()
    fix = {"kind": "merge_players", "community": community, "source_id": rare, "target_id": target}
    store.append([Pending(CorrectionApplied(correction=correction_adapter.validate_python(fix), actor="admin",
                                            reason="benchmark: a misread name"), "corrections", actor="admin")])
    t = time.perf_counter()
    catch_up(store, db, projectors)
    small_merge_ms = 1000 * (time.perf_counter() - t)
    assert conn.execute("SELECT 1 FROM players WHERE player_id = ?", [rare]).fetchone() is None, "merge not applied"
    db.conn.close()
    store.close()
    remove_db(log_copy)
    remove_db(proj_copy)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return {"community": community, "shots": shots, "kind": extracted["kind"], "repeats": repeats,
            "ingest_ms": med(ingest_ms), "extract_ms": med(extract_ms), "total_ms": med(total_ms),
            "total_cpu_ms": med(cpu_ms), "merge_ms": merge_ms, "merge_cpu_ms": merge_cpu_ms, "first_ms": first_ms,
            "small_merge_ms": small_merge_ms,
            "maxrss_mb": maxrss_mb()}


def child_queries(projection: Path, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import queries

    return queries.measure(projection, runs=runs)


def run_child(*args: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the largest log (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="100,000 events: a fast check")
    ap.add_argument("--keep", nargs="?", const=str(DEFAULT_DATA), metavar="DIR",
                    help=f"keep/reuse generated logs in DIR (default {DEFAULT_DATA})")
    ap.add_argument("--batch-size", type=int, default=None, help="replay page size (default: rebuild()'s own)")
    ap.add_argument("--runs", type=int, default=50, help="timed runs of each analyst query (default 50)")
    ap.add_argument("--no-append", action="store_true", help="skip the append benchmark")
    ap.add_argument("--newshot-runs", type=int, default=3,
                    help="new screenshots timed into each history (median; default 3)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        mode, *rest = args.child
        if mode == "replay":
            res = child_replay(Path(rest[0]), Path(rest[1]), int(rest[2]) if rest[2] != "-" else None,
                               int(rest[3]) if len(rest) > 3 else None)
        elif mode == "baseline":
            res = child_baseline(Path(rest[0]), Path(rest[1]))
        elif mode == "append":
            res = child_append(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
        elif mode == "prepare":
            data, wanted, top = Path(rest[0]), [int(x) for x in rest[1].split(",")], int(rest[2])
            biggest, how = ensure_log(data, top)
            logs = {top: (str(biggest), how)}
            for size in wanted:
                if size != top:
                    p, h = ensure_log(data, size, source=biggest)
                    logs[size] = (str(p), h)
            res = {"logs": logs, "contents": log_contents(biggest)}
        elif mode == "check":
            res = child_check(Path(rest[0]), Path(rest[1]))
        elif mode == "newshot":
            res = child_newshot(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]),
                                cache=rest[4:] != ["nocache"])
        elif mode == "queries":
            res = child_queries(Path(rest[0]), int(rest[1]))
        else:
            raise SystemExit(f"unknown child mode {mode}")
        print(json.dumps(res))
        return 0

    n = 100_000 if args.quick else args.events
    sizes = sorted({max(3, n // 4), max(3, n // 2), n})
    if args.keep:
        data = Path(args.keep)
        data.mkdir(parents=True, exist_ok=True)
        cleanup = False
    else:
        DEFAULT_DATA.mkdir(parents=True, exist_ok=True)
        data = Path(tempfile.mkdtemp(prefix="run-", dir=DEFAULT_DATA))
        cleanup = True
    try:
        return _run(args, n, sizes, data)
    finally:
        if cleanup:
            shutil.rmtree(data, ignore_errors=True)


def _run(args: argparse.Namespace, n: int, sizes: list[int], data: Path) -> int:
    log(f"logs in {data}")
    # Generation runs in a child too: this parent stays small (it never imports observatory),
    # because on Linux a child's ru_maxrss starts from its parent's RSS at fork/exec time.
    check_n = min(n, 30_000)
    small = min(n, NEWSHOT_SMALL)
    prepared = run_child("prepare", str(data), ",".join(str(s) for s in sorted({*sizes, check_n, small})), str(n))
    logs = {int(s): (Path(p), how) for s, (p, how) in prepared["logs"].items()}
    log_mb = {s: sum(Path(f"{p}{x}").stat().st_size for x in ("", "-wal") if Path(f"{p}{x}").exists()) / 2**20
              for s, (p, _) in logs.items()}

    bs = "-" if args.batch_size is None else str(args.batch_size)
    replays: dict[int, dict[str, Any]] = {}
    for s in sizes:
        log(f"  replaying {s:,} events in a fresh process ...")
        replays[s] = run_child("replay", str(logs[s][0]), str(data / f"projection-{s}.db"), bs)
        r = replays[s]
        log(f"    {r['seconds']:.2f}s, {r['eps']:,.0f} events/s, peak RSS {r['maxrss_mb']:.0f} MB")

    log(f"  replaying {n:,} events in one process (workers=0), for the two-core speed-up ...")
    serial = run_child("replay", str(logs[n][0]), str(data / f"projection-{n}-serial.db"), bs, "0")
    log(f"    {serial['seconds']:.2f}s, {serial['eps']:,.0f} events/s, peak RSS {serial['maxrss_mb']:.0f} MB")
    remove_db(data / f"projection-{n}-serial.db")

    if small not in replays:
        log(f"  replaying {small:,} events (for the new-screenshot figure) ...")
        replays[small] = run_child("replay", str(logs[small][0]), str(data / f"projection-{small}.db"), bs)
    newshot: dict[int, dict[str, Any]] = {}
    for s in sorted({small, n}):
        log(f"  one new screenshot into the {s:,}-event history ({args.newshot_runs} runs) ...")
        newshot[s] = run_child("newshot", str(logs[s][0]), str(data / f"projection-{s}.db"), str(data),
                               str(args.newshot_runs))
        log(f"    ingest {newshot[s]['ingest_ms']:.0f} ms + extraction {newshot[s]['extract_ms']:.0f} ms")

    log(f"  raw executemany baseline for {n:,} events' output ...")
    base = run_child("baseline", str(data / f"projection-{n}.db"), str(data / "baseline-scratch.db"))
    log(f"    {base['all_seconds']:.2f}s")

    log(f"  analyst queries on the {n:,}-event projection ({args.runs} runs each) ...")
    qs = run_child("queries", str(data / f"projection-{n}.db"), str(args.runs))

    log(f"  correctness: catch-up in random batch sizes vs full replay on {check_n:,} events ...")
    check = run_child("check", str(logs[check_n][0]), str(data))

    app = None
    if not args.no_append:
        log("  append throughput ...")
        app = run_child("append", str(data), "2000", "20", "1000")

    for s in replays:
        remove_db(data / f'projection-{s}.db')
    report(n, sizes, logs, log_mb, prepared["contents"], {s: replays[s] for s in sizes}, base, qs, check, app,
           newshot, serial)
    return 0 if check["ok"] else 1


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in d.items())


def report(n: int, sizes: list[int], logs: dict[int, tuple[Path, str]], log_mb: dict[int, float],
           contents: dict[str, Any], replays: dict[int, dict[str, Any]], base: dict[str, Any], qs: dict[str, Any],
           check: dict[str, Any], app: dict[str, Any] | None, newshot: dict[int, dict[str, Any]],
           serial: dict[str, Any]) -> None:
    sys.path.insert(0, str(HERE))
    import queries

    big = replays[n]
    print()
    print(f"Observatory replay benchmark  (python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs)")
    print()
    print("Logs")
    for s in sizes:
        print(f"  {s:>10,} events  {log_mb[s]:8.1f} MB  {logs[s][1]}")
    print(f"  the {n:,}-event log: {contents['communities']} communities, captured {contents['first'][:10]} .. "
          f"{contents['last'][:10]}, {contents['rows']:,} rows read")
    print(f"    events       {_counts(contents['types'])}")
    print(f"    screens      {_counts(contents['kinds'])}")
    print(f"    corrections  {_counts(contents['corrections'])}")
    print()
    print("Full replay: rebuild(store, target, all_projectors()), each in a fresh process, with rebuild()'s default "
          "worker processes (one per further CPU)")
    print("  peak RSS = ru_maxrss of the replaying process; workers' = the largest worker's; VmHWM = the same peak "
          "from /proc (never inherited); at start = ru_maxrss after imports; cpu s = this process + its workers")
    print(f"  {'events':>10}  {'workers':>7}  {'seconds':>8}  {'cpu s':>13}  {'events/s':>10}  {'peak RSS':>9}  "
          f"{'workers':>8}  {'VmHWM':>7}  {'at start':>8}  {'screenshots':>11}  {'players':>8}  {'bear_scores':>11}  "
          f"{'db MB':>6}")
    for r in [replays[s] for s in sizes] + [serial]:
        c = r["counts"]
        cpu = f"{r['cpu_seconds']:.1f}+{r['worker_cpu_seconds']:.1f}"
        print(f"  {r['events']:>10,}  {r['workers']:>7}  {r['seconds']:>8.2f}  {cpu:>13}  {r['eps']:>10,.0f}  "
              f"{r['maxrss_mb']:>6.0f} MB  {r['worker_maxrss_mb']:>5.0f} MB  {r['vmhwm_mb']:>4.0f} MB  "
              f"{r['rss_before_mb']:>5.0f} MB  {c.get('screenshots', 0):>11,}  {c.get('players', 0):>8,}  "
              f"{c.get('bear_scores', 0):>11,}  {r['db_mb']:>6.0f}")
    speedup = serial["seconds"] / big["seconds"]
    critical = serial["cpu_seconds"] / max(big["cpu_seconds"], big["worker_cpu_seconds"], 1e-9)
    print(f"  two-core speed-up at {n:,} events: {serial['seconds']:.2f} s in one process / {big['seconds']:.2f} s "
          f"with {big['workers']} worker process(es) = {speedup:.2f}x wall (load average {os.getloadavg()[0]:.1f} "
          f"at the end); by CPU time, one process's {serial['cpu_seconds']:.1f} s against the busier process's "
          f"{max(big['cpu_seconds'], big['worker_cpu_seconds']):.1f} s = {critical:.2f}x (what cores of their own "
          f"would give)")
    print()
    ph = serial["phases"]
    wall = serial["seconds"]
    facts = ph.get("read log", 0) + sum(v for k, v in ph.items() if k.startswith("apply "))
    domain = ph.get("domain", 0)
    print(f"Where the {n:,}-event replay's {wall:.2f} s go, in one process (workers=0)")
    print(f"  catch-up (facts)          {facts:8.2f} s  {100 * facts / wall:5.1f}%   "
          f"-> {n / facts:,.0f} events/s for the facts alone")
    for k in ("read log", *sorted(k for k in ph if k.startswith("apply "))):
        print(f"    {k:<24}{ph.get(k, 0):8.2f} s")
    print(f"  domain (each community from the log)  {domain:8.2f} s  {100 * domain / wall:5.1f}%")
    parts = ("domain: corrections", "domain: read community", "domain: read + fold", "domain: derive",
             "domain: write rows")
    for k in parts:
        v = ph.get(k, 0)
        if k == "domain: read + fold":
            v -= ph.get("domain: read community", 0)
            k = "domain: fold"
        print(f"    {k[8:]:<24}{v:8.2f} s")
    rest = wall - facts - domain
    print(f"  build indexes             {ph.get('build indexes', 0):8.2f} s")
    print(f"  publish                   {ph.get('publish', 0):8.2f} s")
    print(f"  other (ANALYZE, schema, checkpoints)  "
          f"{rest - ph.get('build indexes', 0) - ph.get('publish', 0):.2f} s")
    print()
    rows = base["rows"]
    facts_rows = sum(v for t, v in rows.items() if t in FACT_TABLES)
    print(f"Raw executemany baseline: the replay's own output rows, prebuilt in memory, inserted in one transaction "
          f"into a fresh file (same schema, indexes, pragmas). No log decoding, no derivation: the floor for "
          f"writing the same output.")
    print(f"  fact tables ({facts_rows:,} rows: {', '.join(t for t in FACT_TABLES if t in rows)})   "
          f"{base['facts_seconds']:8.2f} s  (cpu {base['facts_cpu_seconds']:.2f} s)")
    print(f"  all {len(rows)} output tables ({sum(rows.values()):,} rows)          "
          f"{base['all_seconds']:8.2f} s  (cpu {base['all_cpu_seconds']:.2f} s)")
    print(f"  + ANALYZE                                  {base['all_seconds'] + base['analyze_seconds']:8.2f} s")
    print(f"  variant: secondary indexes built after the load (as rebuild() does)   "
          f"{base['late_index_seconds']:8.2f} s")
    print()
    print(queries.table(qs))
    print()
    print(f"Correctness: {check['events']:,} events, {check['steps']} catch-up steps of random size and batch sizes, "
          f"and a rebuild with batch_size=777, vs rebuild(), over {len(check['rows'])} tables "
          f"({sum(check['rows'].values()):,} rows): "
          f"{'IDENTICAL' if check['ok'] else 'DIFFERENT ' + str(check['differences'])}")
    if app:
        print()
        print("Append throughput (fresh log, synchronous=FULL: one fsync'd commit per append call)")
        a, b = app["single"], app["batch"]
        print(f"  append_one x {a['events']:,}          {a['seconds']:7.2f} s  {a['eps']:>10,.0f} events/s")
        print(f"  append, {app['batch']['events'] // b['batch_size']} batches of {b['batch_size']:,}   "
              f"{b['seconds']:7.2f} s  {b['eps']:>10,.0f} events/s")
    print()
    peak = max(r["maxrss_mb"] for r in replays.values())
    flat = peak - min(r["maxrss_mb"] for r in replays.values())
    per_size = ", ".join(f"{s:,}: {replays[s]['maxrss_mb']:.0f} MB" for s in sizes)
    ratio = big["seconds"] / base["all_seconds"]
    print("Targets")
    cpu_ratio = (big["cpu_seconds"] + big["worker_cpu_seconds"]) / base["all_cpu_seconds"]
    serial_ratio = serial["cpu_seconds"] / base["all_cpu_seconds"]
    print(f"  replay CPU vs executemany <= 2x  {cpu_ratio:>6.2f}x     {'OK' if cpu_ratio <= 2 else 'MISSED'}"
          f"   (CPU of the replaying process and its workers; in one process: {serial_ratio:.2f}x; "
          f"wall vs wall: {big['seconds'] / base['all_seconds']:.2f}x; "
          f"vs load-then-index: {big['seconds'] / base['late_index_seconds']:.2f}x)")
    print(f"  two cores >= 1.6x faster than one  {speedup:>5.2f}x     {'OK' if speedup >= 1.6 else 'MISSED'}")
    slow = [q["name"] for q in qs["queries"] if q["median_ms"] > queries.TARGET_MS]
    print(f"  analyst queries <= {queries.TARGET_MS:.0f} ms      worst median "
          f"{max(q['median_ms'] for q in qs['queries']):7.2f} ms  {'OK' if not slow else 'MISSED: ' + ', '.join(slow)}")
    print(f"  peak RSS <= 250 MB           {peak:>7.0f} MB     {'OK' if peak <= 250 else 'MISSED'}"
          f"   (the replaying process; its largest worker: {max(r['worker_maxrss_mb'] for r in replays.values()):.0f} MB)")
    print(f"  RSS flat across sizes        spread {flat:.0f} MB ({per_size})")
    print()
    print("One new screenshot into the history (projection only, no OCR; busiest community; median): catch-up after "
          "its ingest + catch-up after its extraction")
    for s, r in sorted(newshot.items()):
        print(f"  {s:>10,} events  {r['community']} ({r['shots']:,} screenshots), kind {r['kind']}:  "
              f"ingest {r['ingest_ms']:8.1f} ms + extraction {r['extract_ms']:8.1f} ms = {r['total_ms']:8.1f} ms "
              f"(cpu {r['total_cpu_ms']:.1f} ms)")
    print("The first new screenshot after a start (the community is derived in full once, and its derivation kept)")
    for s, r in sorted(newshot.items()):
        print(f"  {s:>10,} events  {r['first_ms']:8.1f} ms")
    print("A retroactive merge of the busiest community's two most seen players (catch-up after the correction), "
          "then of a player seen 2-5 times into the most seen")
    for s, r in sorted(newshot.items()):
        print(f"  {s:>10,} events  {r['merge_ms']:8.1f} ms (cpu {r['merge_cpu_ms']:.1f} ms); "
              f"the small merge {r['small_merge_ms']:8.1f} ms")
    if newshot:
        top, low = newshot[max(newshot)], newshot[min(newshot)]
        growth = top["total_ms"] / low["total_ms"]
        print(f"  target: <= 100 ms at the largest history: {top['total_ms']:.1f} ms "
              f"{'OK' if top['total_ms'] <= 100 else 'MISSED'}; <= 2x the {min(newshot):,} figure: {growth:.2f}x "
              f"{'OK' if growth <= 2 else 'MISSED'}")
    print()
    figures = {"events": n, "replay_events_per_s": f"{big['eps']:.0f}",
               "raw_ratio_cpu": f"{cpu_ratio:.2f}", "raw_ratio_cpu_one_process": f"{serial_ratio:.2f}",
               "two_core_speedup": f"{speedup:.2f}", "two_core_speedup_cpu": f"{critical:.2f}",
               "raw_ratio_wall": f"{ratio:.2f}", "peak_rss_mb": f"{peak:.0f}",
               "worker_peak_rss_mb": f"{max(r['worker_maxrss_mb'] for r in replays.values()):.0f}",
               "rss_spread_mb": f"{flat:.0f}",
               "query_worst_median_ms": f"{max(q['median_ms'] for q in qs['queries']):.2f}"}
    for s, r in sorted(newshot.items()):
        label = _size_label(s)
        figures[f"new_screenshot_ms@{label}"] = f"{r['total_ms']:.1f}"
        figures[f"new_screenshot_ingest_ms@{label}"] = f"{r['ingest_ms']:.1f}"
        figures[f"new_screenshot_cpu_ms@{label}"] = f"{r['total_cpu_ms']:.1f}"
        figures[f"retro_merge_ms@{label}"] = f"{r['merge_ms']:.1f}"
        figures[f"small_merge_ms@{label}"] = f"{r['small_merge_ms']:.1f}"
        figures[f"first_after_start_ms@{label}"] = f"{r['first_ms']:.0f}"
    figures["identical"] = "yes" if check["ok"] else "NO"
    print("SUMMARY " + " ".join(f"{k}={v}" for k, v in figures.items()))


def _size_label(n: int) -> str:
    """10000 -> 10k, 1000000 -> 1M (the SUMMARY line's keys)."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


if __name__ == "__main__":
    sys.exit(main())
