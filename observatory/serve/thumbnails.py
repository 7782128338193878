"""Screenshot thumbnails: small JPEGs made from the blob store on demand.

Blobs are content-addressed, so a thumbnail never changes: it is cached in memory
(bounded) and may be cached by browsers forever. JPEG draft mode decodes at 1/2..1/8
scale directly, which makes a thumbnail of a phone screenshot cost a few milliseconds.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image

SHA256 = re.compile(r"^[0-9a-f]{64}$")
WIDTH = 120


def blob_file(events_dir: Path, blob_path: str) -> Path | None:
    """The blob's absolute path, or None when `blob_path` would leave events/blobs/."""
    blobs = (events_dir / "blobs").resolve()
    path = (events_dir / blob_path).resolve()
    return path if path.is_relative_to(blobs) else None


@lru_cache(maxsize=1024)
def thumbnail(path: Path, width: int = WIDTH) -> bytes:
    with Image.open(path) as img:
        img.draft("RGB", (width, width * 4))
        img = img.convert("RGB")
        img.thumbnail((width, width * 4))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
