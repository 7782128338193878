"""A stand-in for the OpenAI API on 127.0.0.1, for the real `openai` client to talk to.

It serves scripted replies to POST /v1/chat/completions (canned completions in the
structured-output shape, errors with headers, slow replies) and records what it saw:
each request's arrival time and body, and the most requests it ever held at once.
`label_answer` is what a perfect model answers for a labelled sample.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_server import LocalServer
from observatory.extract.vision.schema import PAGES

USAGE = {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)


def completion(answer: dict[str, Any] | str, *, model: str = "gpt-4o-mini-2024-07-18",
               usage: dict[str, int] | None = None) -> Reply:
    """A chat completion whose message content is the structured-output JSON `answer`."""
    content = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return Reply(body={
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": usage or USAGE,
    })


def error(status: int, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"message": f"stub error {status}", "type": "stub", "code": None}}, headers or {})


@dataclass
class Seen:
    at: float  # time.monotonic() on arrival
    body: dict[str, Any]


class StubOpenAI(LocalServer):
    """`script` replies are used in order; then `default` (or a callable of the request number) forever."""

    def __init__(self, default: Reply | Callable[[int], Reply] | None = None) -> None:
        self.script: list[Reply] = []
        self.default = default or error(500)
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        super().__init__(self._handler(), "openai-stub")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def arrivals(self) -> list[float]:
        with self._lock:
            return [s.at for s in self.seen]

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # slow replies stop waiting, so shutdown is prompt
        super().__exit__(*exc)

    def _next(self, arrived: float, body: dict[str, Any]) -> Reply:
        with self._lock:
            n = len(self.seen)
            self.seen.append(Seen(arrived, body))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.script:
                return self.script.pop(0)
        return self.default(n) if callable(self.default) else self.default

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                arrived = time.monotonic()  # before the (large) body is read
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = stub._next(arrived, json.loads(raw or b"{}"))
                if reply.delay:
                    stub._stop.wait(reply.delay)
                # no longer in flight once the answer starts: the client cannot see it before this
                stub._done()
                try:
                    data = json.dumps(reply.body).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): that is the point of a slow reply

        return Handler


def label_answer(label: dict) -> dict:
    """What a perfect model answers for a labelled screenshot: full rows, then the partial ones."""
    page_meta = {k: None for k in PAGES[label["kind"]].model_fields["meta"].annotation.model_fields}
    page_meta.update({k: v for k, v in label["meta"].items() if k in page_meta})
    keep = [k for k in PAGES[label["kind"]].model_fields["rows"].annotation.__args__[0].model_fields]
    rows = [{**{k: r.get(k) for k in keep}, "visibility": "full", "confidence": 0.97} for r in label["rows"]]
    rows += [{**{k: r.get(k) for k in keep}, "visibility": "partial", "confidence": 0.5}
             for r in label.get("partial_rows", []) if all(r.get(k) is not None for k in ("name",))]
    return {"page": {"kind": label["kind"], "confidence": 0.95, "meta": page_meta, "rows": rows}}
