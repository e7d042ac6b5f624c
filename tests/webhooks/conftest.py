"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it records each request's raw
body and headers and answers the statuses it is given (200 once they run out)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import WebhookEndpointFactory


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver(settings):
    """A receiver on a free port of 127.0.0.1, allowed as in development (DEBUG)."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.requests.append(Received(dict(self.headers.items()), body, self.path))
            status = state.answers.pop(0) if state.answers else 200
            answer = b'{"ok": true}' if status < 300 else b"receiver error " + b"x" * 3000
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(account, receiver):
    """An endpoint of the account on the local receiver, for every event, All Facilities."""
    return WebhookEndpointFactory(account=account, url=receiver.url)
