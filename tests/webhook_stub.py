"""A Discord-like webhook on 127.0.0.1: answers with a scripted list of status codes, records every POST."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookStub:
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/webhooks/123/secret-token"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookStub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
