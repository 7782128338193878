"""OCR extraction engine: screenshot -> kind, meta and typed rows.

Public API (kept stable for the processor and CLI)::

    extract(image, *, kind=None) -> Extraction
    ENGINE_NAME, ENGINE_VERSION, KINDS, Extraction, ExtractionError

``extract`` is a top-level, picklable function with no file output, so it can
run in a ``ProcessPoolExecutor``; Tesseract runs single-threaded
(``OMP_THREAD_LIMIT=1``) in each worker.
"""
from __future__ import annotations

import logging
import os
from functools import lru_cache

from ..games import UNKNOWN, kinds
from .image import decode
from .models import Extraction, ExtractionError, KindDefinition
from .readers import READERS, ReaderUnavailable, reader_for

log = logging.getLogger(__name__)

PIPELINE_VERSION = "2.0"
ENGINE_NAME = "rapidocr"  # the default reader


@lru_cache(maxsize=None)  # asking Tesseract its version starts a process: once per worker, not per image
def engine_version(reader: str = ENGINE_NAME) -> str:
    """Pipeline and reader versions: results of different versions stay apart in the log."""
    return f"{PIPELINE_VERSION}+{reader_for(reader).version()}"


ENGINE_VERSION: str = engine_version()
DEFINITIONS = kinds()  # every kind the game packs declare (observatory/games/*/kinds/*.yaml)
KINDS: tuple[str, ...] = tuple(DEFINITIONS) + (UNKNOWN,)

__all__ = ["extract", "Extraction", "ExtractionError", "KindDefinition", "ENGINE_NAME",
           "ENGINE_VERSION", "KINDS", "DEFINITIONS", "READERS", "ReaderUnavailable", "engine_version"]


def extract(image: bytes | str | os.PathLike, *, kind: str | None = None, reader: str | None = None) -> Extraction:
    """Extract kind, meta and rows from one screenshot.

    ``kind`` forces a kind (an admin's reclassification) and skips
    classification.  Raises ``ExtractionError`` only for undecodable input or an
    unknown forced kind; an unrecognised screen yields kind ``"unknown"``.
    ``reader`` names the OCR reader (`rapidocr`, the default, or `tesseract`).
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if kind is not None and kind not in KINDS:
        raise ExtractionError("classify", f"unknown kind {kind!r}; expected one of {KINDS}")
    im = decode(image)
    from .pipeline import extract_page  # local import keeps module import light

    ocr = reader_for(reader)
    try:
        res = extract_page(im, kind, DEFINITIONS, ocr)
    except ExtractionError:
        raise
    except Exception as e:  # pragma: no cover - defensive: report, don't crash the pool
        log.exception("extraction failed")
        raise ExtractionError("extract", f"{type(e).__name__}: {e}") from e
    return Extraction(engine=ocr.name, engine_version=engine_version(ocr.name), **res)
