"""The OpenAI vision engine: one screenshot in, an `Extraction` (same shape as Tesseract's) out.

Runs in the calling thread of the main process, never in the OCR pool, so the one
`RateLimiter` it holds really bounds every request this process makes. The client
is built on first use only: without a key nothing here is ever constructed.
"""

from __future__ import annotations

import io
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from ..models import Extraction
from . import prompt
from .ratelimit import RateLimiter
from .retry import Backoff, GaveUp, call_with_retries, retry_after_seconds
from .schema import AnswerInvalid, explain, page_fields, response_model

log = logging.getLogger(__name__)

ENGINE_NAME = "openai"
PIPELINE_VERSION = "1.0"
TRANSIENT_STATUS = {408, 409, 429}


@dataclass(frozen=True)
class VisionConfig:
    api_key: str = field(repr=False)
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    rpm: int = 30
    concurrency: int = 1
    timeout: float = 60.0
    max_retries: int = 4
    period: float = 60.0  # the limiter's window; the setting is per minute, tests shorten it

    @property
    def engine_version(self) -> str:
        return f"{PIPELINE_VERSION}+{self.model}"


@dataclass(frozen=True)
class VisionResult:
    extraction: Extraction
    metadata: dict[str, Any]  # model, token usage, attempts: for the event envelope


class VisionFailed(Exception):
    """OpenAI could not give a valid answer; `metadata` says what was tried (for the fallback's record)."""

    def __init__(self, reason: str, metadata: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason, self.metadata = reason, metadata


def transient(exc: BaseException) -> bool:
    """Worth another attempt: timeouts, lost connections, 408/409/429 and 5xx."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS or exc.status_code >= 500
    return False


def retry_after(exc: BaseException) -> float | None:
    if isinstance(exc, openai.APIStatusError) and exc.status_code == 429:
        return retry_after_seconds(dict(exc.response.headers))
    return None


def usage_of(body: Any) -> dict[str, int]:
    """Token counts from a completion (object or raw JSON); zeros when the server sent none."""
    usage = body.get("usage") if isinstance(body, dict) else getattr(body, "usage", None)
    if usage is not None and not isinstance(usage, dict):
        usage = usage.model_dump()
    usage = usage or {}
    return {k: int(usage.get(k) or 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}


def _add_usage(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


class VisionEngine:
    """Reads screenshots with an OpenAI vision model under a shared rate limit, with retries."""

    def __init__(self, config: VisionConfig, *, limiter: RateLimiter | None = None, backoff: Backoff = Backoff(),
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.config = config
        self.limiter = limiter or RateLimiter(config.rpm, concurrency=config.concurrency, period=config.period)
        self.backoff, self._sleep, self._rng = backoff, sleep, rng or random.Random()
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()

    @property
    def engine_version(self) -> str:
        return self.config.engine_version

    def client(self) -> openai.OpenAI:
        with self._client_lock:
            if self._client is None:
                self._client = openai.OpenAI(api_key=self.config.api_key, base_url=self.config.base_url,
                                             timeout=self.config.timeout, max_retries=0)
            return self._client

    def extract(self, image: bytes, *, kind: str | None = None, sha256: str | None = None) -> VisionResult:
        """Ask the model; raise `VisionFailed` when no valid answer came (after retries for transient errors)."""
        record: dict[str, Any] = {"model": self.config.model, "usage": {}, "attempts": 0}
        url = prompt.data_url(*_encodable(image))
        model = response_model(kind)
        # the client and the (cached) schema are made before a slot is taken: a slot's start is the request's start
        client = self.client()
        model.model_json_schema()

        def attempt() -> BaseModel:
            return self._ask(client, url, kind, model, record)

        def on_retry(n: int, exc: BaseException, wait: float) -> None:
            log.warning("openai attempt %d failed (%s); retrying in %.1fs", n, _short(exc), wait,
                        extra={"screenshot": sha256})

        try:
            page, record["attempts"] = call_with_retries(
                attempt, limiter=self.limiter, retries=self.config.max_retries, transient=transient,
                retry_after=retry_after, backoff=self.backoff, sleep=self._sleep, rng=self._rng, on_retry=on_retry)
        except GaveUp as exc:
            record["attempts"] = exc.attempts
            reason = f"openai {exc.why} after {exc.attempts} attempt(s): {_short(exc.cause)}"
            raise VisionFailed(reason, record) from exc.cause
        fields = page_fields(page)  # type: ignore[arg-type]
        extraction = Extraction(**fields, evidence=[f"read by {record['model']}"], warnings=[],
                                engine=ENGINE_NAME, engine_version=self.engine_version)
        return VisionResult(extraction, record)

    def _ask(self, client: openai.OpenAI, url: str, kind: str | None, model: type[BaseModel],
             record: dict[str, Any]) -> BaseModel:
        raw = client.chat.completions.with_raw_response.parse(
            model=self.config.model, messages=prompt.messages(url, kind), response_format=model, temperature=0)
        try:
            completion = raw.parse()
        except ValidationError as exc:
            _add_usage(record["usage"], usage_of(_json(raw)))
            raise AnswerInvalid(f"answer does not fit the {kind or 'page'} schema: {explain(exc)}") from None
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            _add_usage(record["usage"], usage_of(_json(raw)))
            raise AnswerInvalid(type(exc).__name__) from None
        _add_usage(record["usage"], usage_of(completion))
        record["model"] = completion.model or self.config.model
        message = completion.choices[0].message if completion.choices else None
        if message is None or message.parsed is None:
            refusal = getattr(message, "refusal", None)
            raise AnswerInvalid(f"model refused: {refusal}" if refusal else "no answer in the response")
        return message.parsed.page if hasattr(message.parsed, "page") else message.parsed


def _json(raw: Any) -> Any:
    try:
        return raw.http_response.json()
    except ValueError:
        return {}


def _short(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:300]


def _encodable(image: bytes) -> tuple[bytes, str]:
    """The image as the API takes it: JPEG/PNG/WebP/GIF as is, anything else re-encoded as PNG."""
    mime = prompt.image_mime(image)
    if mime is not None:
        return image, mime
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "PNG")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise VisionFailed(f"cannot decode image: {exc}", {"attempts": 0}) from exc
    return buf.getvalue(), "image/png"
