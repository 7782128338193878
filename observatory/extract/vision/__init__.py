"""The OpenAI vision engine: the same `Extraction` as Tesseract's, read by a vision model.

Pieces: `schema` (typed per-kind answer models), `prompt` (instructions and image
encoding), `ratelimit` (the process-wide request limiter), `retry` (backoff and
Retry-After) and `engine` (the client call tying them together).
"""

from .engine import ENGINE_NAME, VisionConfig, VisionEngine, VisionFailed, VisionResult
from .ratelimit import RateLimiter
from .retry import Backoff

__all__ = ["ENGINE_NAME", "Backoff", "RateLimiter", "VisionConfig", "VisionEngine", "VisionFailed", "VisionResult"]
