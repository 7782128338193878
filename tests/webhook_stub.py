"""A Discord-like webhook on 127.0.0.1: answers with a scripted list of status codes, records every POST."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer


class WebhookStub(LocalServer):
    def __init__(self, codes: list[int]) -> None:
        self.codes = list(codes)  # one per request; the last repeats
        self.received: list[dict] = []
        self.statuses: list[int] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code = stub.codes[min(len(stub.received), len(stub.codes) - 1)]
                stub.received.append(json.loads(body or b"{}"))
                stub.statuses.append(code)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler, "webhook-stub")
        self.url = f"http://127.0.0.1:{self.port}/api/webhooks/123/secret-token"
