"""The instructions sent with each screenshot (pure text; the JSON schema carries the field names)."""

from __future__ import annotations

import base64

from ...games import UNKNOWN, packs

def _screens() -> str:
    """Each game and its screens, from the packs: a new kind is described to the model by its declaration."""
    lines = []
    for pack in packs():
        lines.append(f"{pack.title} ({pack.game}):")
        lines += [f"- {k.name}: {' '.join((k.prompt or k.description).split())}" for k in pack.kinds]
    lines.append(f"- {UNKNOWN}: anything else (e.g. a chief profile); meta what = a few words saying what the screen is.")
    return "\n".join(lines)


SYSTEM = f"""\
You read screenshots of games and return their content as JSON that fits the given schema exactly.
Report only what the screen shows; never guess hidden values.

Screen kinds:
{_screens()}

Rules:
- Names exactly as shown, with Unicode, and with the alliance tag prefix if shown (e.g. [HEI]Valorin) unless
  the kind has a separate tag field.
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
