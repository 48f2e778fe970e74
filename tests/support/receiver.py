"""A local HTTP server that records what it receives: the tenant's webhook endpoint in
the alert tests, and a stand-in for Telegram's Bot API (Telegram is outside the machine
and has no local version; the stand-in answers `sendMessage` as the Bot API documents:
`{"ok": true, "result": …}`, or `{"ok": false, "description": …}` for an unknown chat)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Chats the Bot API stand-in does not know.
UNKNOWN_CHAT = "-1000000000404"


def signed_by(secret: str, header: str, body: bytes, *, tolerance: float = 300) -> bool:
    """Whether a `Junction-Signature` header signs `body` with `secret`, checked as the
    README tells receivers to (written from it, not from Junction's signing code):
    `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`, and `t` recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        # Answer webhook deliveries with this status (a receiver that is down: 500).
        self.webhook_status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, answer = receiver._answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if path.startswith("/bot") and path.endswith("/sendMessage"):
            message = json.loads(body)
            if message.get("chat_id") == UNKNOWN_CHAT:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: chat not found",
                }
            return 200, {
                "ok": True,
                "result": {"message_id": len(self.received), "text": message["text"]},
            }
        return self.webhook_status, {"received": True}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def at(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.at(prefix)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.at(prefix))} requests to {prefix}, not {count}")
            time.sleep(0.02)
        return self.at(prefix)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()
