"""Process: OCR every ingested screenshot that has no result yet, and record the outcome as events."""

from .processor import Outcome, Processor, pending_screenshots

__all__ = ["Outcome", "Processor", "pending_screenshots"]
