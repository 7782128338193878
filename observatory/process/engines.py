"""Which engine reads a screenshot: Tesseract, OpenAI, or Tesseract with OpenAI for the doubtful ones.

The choice is pure data (`EnginePlan`) plus pure functions that merge an OpenAI
attempt into the outcome that gets recorded; the processor does the I/O. OpenAI
calls run on threads of the main process, never in the OCR pool, and every
processor of one process shares one `VisionEngine` (and so one rate limiter) per
configuration. Nothing of the vision engine (nor `openai`) is imported until a
key asks for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..settings import Settings, SettingsError
from .reading import Reading

if TYPE_CHECKING:
    from ..extract.vision import VisionConfig, VisionEngine

log = logging.getLogger(__name__)

Mode = Literal["rapidocr", "tesseract", "openai", "auto"]


@dataclass(frozen=True)
class EnginePlan:
    mode: Mode = "rapidocr"
    vision: VisionEngine | None = None  # None: no key, so the local reader only (nothing OpenAI is built)
    threshold: float = 0.0

    @property
    def reader(self) -> str:
        """The local OCR reader of the workers: Tesseract only when asked for by name."""
        return "tesseract" if self.mode == "tesseract" else "rapidocr"

    @property
    def vision_first(self) -> bool:
        return self.mode == "openai" and self.vision is not None

    def second_opinion(self, outcome: Reading) -> bool:
        """auto: ask OpenAI when Tesseract read the screenshot but is not sure of it."""
        return (self.mode == "auto" and self.vision is not None and outcome.ok
                and tesseract_confidence(outcome) < self.threshold)


def tesseract_confidence(reading: Reading) -> float:
    """How sure Tesseract is of a whole screenshot: the kind's confidence, capped by the mean row confidence.

    An `unknown` screen counts as 0: Tesseract found nothing it could use, which is
    exactly when a second reader is worth asking.
    """
    classified, scores = reading.classified, reading.scores
    if classified is None or scores is None or classified.kind == "unknown":
        return 0.0
    rows = scores.row_confidence
    mean_row = sum(rows) / len(rows) if rows else 1.0
    return min(float(classified.confidence), mean_row)


_shared: dict["VisionConfig", "VisionEngine"] = {}
_shared_lock = threading.Lock()


def shared_engine(config: VisionConfig) -> VisionEngine:
    """One engine, and so one limiter, per configuration in this process."""
    with _shared_lock:
        if config not in _shared:
            from ..extract.vision import VisionEngine

            _shared[config] = VisionEngine(config)
        return _shared[config]


def plan_for(settings: Settings, *, period: float = 60.0) -> EnginePlan:
    """The engine plan the settings ask for. `period` is the limiter window (tests shorten it)."""
    mode: Mode = settings.ocr_engine
    key = settings.openai_api_key
    if mode in ("rapidocr", "tesseract") or key is None:
        if mode == "openai":
            raise SettingsError("invalid setting OBSERVATORY_OCR_ENGINE: openai needs OPENAI_API_KEY")
        return EnginePlan(mode)
    from ..extract.vision import VisionConfig

    config = VisionConfig(api_key=key.get_secret_value(), model=settings.openai_model, base_url=settings.openai_base_url,
                          rpm=settings.openai_rpm, concurrency=settings.openai_concurrency,
                          timeout=settings.openai_timeout_seconds, max_retries=settings.openai_max_retries, period=period)
    return EnginePlan(mode, shared_engine(config), settings.auto_threshold)


def run_vision(engine: VisionEngine, sha256: str, image_path: str, kind: str | None = None) -> Reading:
    """One OpenAI read, as a worker's reading; never raises (a failure is a reading with `vision_error`)."""
    from ..extract.vision import VisionFailed

    try:
        data = Path(image_path).read_bytes()
        res = engine.extract(data, kind=kind, sha256=sha256)
    except VisionFailed as exc:
        return Reading(sha256, vision_error=exc.reason, metadata={"openai": exc.metadata})
    except OSError as exc:
        return Reading(sha256, vision_error=f"cannot read blob: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug here must not stop the batch: Tesseract reads it instead
        log.exception("openai engine failed unexpectedly", extra={"screenshot": sha256})
        return Reading(sha256, vision_error=f"openai engine error: {type(exc).__name__}: {exc}")
    return Reading.read(sha256, res.extraction.model_dump(mode="json"), kind, {"openai": res.metadata})


def with_fallback(tesseract: Reading, vision: Reading) -> Reading:
    """Tesseract's reading, recording that OpenAI was asked and failed (warning + metadata)."""
    reason = vision.vision_error
    local = tesseract.engine or "tesseract"
    openai_meta = {**vision.metadata.get("openai", {}), "error": reason, "fallback": local}
    out = replace(tesseract, metadata={**tesseract.metadata, "openai": openai_meta})
    return out.warned(f"{reason}; kept the {local} reading")


def with_reason(vision: Reading, tesseract: Reading, threshold: float) -> Reading:
    """OpenAI's reading in auto mode, saying why it was asked."""
    why = f"tesseract confidence {tesseract_confidence(tesseract):.2f} < auto threshold {threshold:.2f}"
    meta = vision.metadata
    return replace(vision, metadata={**meta, "openai": {**meta.get("openai", {}), "asked_because": why}})
