"""Many distinct screenshots, cheaply: small crops of a few samples, each a pixel apart, written to a temp folder.

Every image is a different blob (its sha256 differs), and the crop keeps real OCR to a
fraction of a second, so tests of many workers run the product's real code path fast.
The samples are read in place, never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def distinct_screens(samples_dir: Path, out_dir: Path, n: int, *, sources: int = 3,
                     box: tuple[int, int, int, int] = (0, 300, 540, 660)) -> list[Path]:
    """`n` PNGs in `out_dir`, crops of the first `sources` samples, each with one pixel set to its own value."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bases = [Image.open(p).convert("RGB").crop(box) for p in sorted(samples_dir.glob("*.jpg"))[:sources]]
    files = []
    for i in range(n):
        image = bases[i % len(bases)].copy()
        image.putpixel((i % image.width, 0), (i % 256, (i // 256) % 256, 7))
        path = out_dir / f"screen_{i:04d}.png"
        image.save(path)
        files.append(path)
    return files
