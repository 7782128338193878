"""OCR extraction engine: screenshot -> kind, meta and typed rows.

Public API (kept stable for the processor and CLI)::

    extract(image, *, kind=None) -> Extraction
    ENGINE_NAME, ENGINE_VERSION, KINDS, Extraction, ExtractionError

``extract`` is a top-level, picklable function with no file output, so it can
run in a ``ProcessPoolExecutor``; Tesseract runs single-threaded
(``OMP_THREAD_LIMIT=1``) in each worker.
"""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .definitions import DEFINITIONS
from .models import Extraction, ExtractionError, KindDefinition
from .ocr import tesseract_version

log = logging.getLogger(__name__)

PIPELINE_VERSION = "1.2"
ENGINE_NAME = "tesseract"
ENGINE_VERSION: str = f"{PIPELINE_VERSION}+tesseract-{tesseract_version()}"
KINDS: tuple[str, ...] = tuple(DEFINITIONS) + ("unknown",)

__all__ = ["extract", "Extraction", "ExtractionError", "KindDefinition", "ENGINE_NAME",
           "ENGINE_VERSION", "KINDS", "DEFINITIONS"]


def _decode(image: bytes | str | os.PathLike) -> Image.Image:
    try:
        if isinstance(image, (bytes, bytearray, memoryview)):
            im = Image.open(io.BytesIO(bytes(image)))
        else:
            im = Image.open(Path(image))
        im.load()
        return im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ExtractionError("decode", f"cannot decode image: {e}") from e


def extract(image: bytes | str | os.PathLike, *, kind: str | None = None) -> Extraction:
    """Extract kind, meta and rows from one screenshot.

    ``kind`` forces a kind (an admin's reclassification) and skips
    classification.  Raises ``ExtractionError`` only for undecodable input or an
    unknown forced kind; an unrecognised screen yields kind ``"unknown"``.
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if kind is not None and kind not in KINDS:
        raise ExtractionError("classify", f"unknown kind {kind!r}; expected one of {KINDS}")
    im = _decode(image)
    from .pipeline import extract_page  # local import keeps module import light

    try:
        res = extract_page(im, kind, DEFINITIONS)
    except ExtractionError:
        raise
    except Exception as e:  # pragma: no cover - defensive: report, don't crash the pool
        log.exception("extraction failed")
        raise ExtractionError("extract", f"{type(e).__name__}: {e}") from e
    return Extraction(engine=ENGINE_NAME, engine_version=ENGINE_VERSION, **res)
