"""The instructions sent with each screenshot (pure text; the JSON schema carries the field names)."""

from __future__ import annotations

import base64

SYSTEM = """\
You read screenshots of the mobile game Whiteout Survival (English UI) and return their content as JSON
that fits the given schema exactly. Report only what the screen shows; never guess hidden values.

Screen kinds:
- bear_damage: "Trap N Damage Rewards", Damage Ranking tab. meta trap_id. Rows: rank, name, damage.
- bear_overview: mail "Hunt successful!" with Battle Overview and "[Hunting Trap N] Damage Ranking".
  meta trap_id, rallies, total_damage, mail_time (as shown, YYYY-MM-DD HH:MM:SS). Rows: rank, name, damage.
- contribution: Alliance Ranking, Contribution Rankings, Daily or Weekly tab (meta period = the selected tab).
  Rows: rank, name, contribution.
- alliance_members: Alliance Members roster cards. meta online ("6/100" as shown), sections (visible group
  headers). Rows: name, power_text (as shown, e.g. 211.5M), power (its integer value), furnace_text (badge
  text), tier (R5..R1, the section the card is in, when visible).
- alliance_power: Alliance Power ranking of alliances. Rows: rank, tag (without brackets), alliance, power.
- ac_signup: Alliance Championship Info: lane tabs, "Registered: 20/20", "Power: 70,037", Order of Battle.
  meta lane (the selected tab: left/middle/right), registered, capacity, total_power. Rows: order (null for
  "No engagement"), name, power.
- foundry_signup: "Legion N Combatants": Join x/y, Substitute, Troop Power. meta legion, joined, capacity,
  substitutes ("0/10" as shown), troop_power. Rows: name, power, status (join, no_engagements,
  legion_2_dispatched, ... in snake_case), voted, tier.
- foundry_result: mail, Foundry Battle victory or defeat, Personal Arsenal Points. meta mail_time, result,
  legion, our_alliance, our_score, opponent, opponent_score. Rows: rank, name, points.
- unknown: anything else (e.g. a chief profile); meta what = a few words saying what the screen is.

Rules:
- Names exactly as shown, with the alliance tag prefix if shown (e.g. [HEI]Valorin) and with Unicode.
- Numbers as integers without separators. A medal icon for rank 1, 2 or 3 is rank 1, 2 or 3.
- A meta value the screen does not show is null.
- Rows top to bottom. visibility: full when name and numbers are fully visible; partial when cut off at an
  edge or hidden by an overlay; pinned_self for the viewer's own pinned row at the bottom when it repeats a
  listed row; unranked for a pinned "Unranked" row.
- confidence: 0..1, how sure you are of the kind (page) or of the reading (row).
"""


def user_text(kind: str | None) -> str:
    if kind is None:
        return "Classify this screenshot and extract its content."
    return f"This screenshot is of kind {kind}. Extract its content."


def image_mime(data: bytes) -> str | None:
    """The MIME type of an image the API accepts as is, from its magic bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def messages(image_url: str, kind: str | None) -> list[dict[str, object]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": [
            {"type": "text", "text": user_text(kind)},
            {"type": "image_url", "image_url": {"url": image_url, "detail": "high"}},
        ]},
    ]
