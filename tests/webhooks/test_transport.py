"""The webhook request's timeout is a deadline for the whole answer: a receiver that drips
its status line, headers or body a byte at a time (each byte well within a socket timeout)
cannot hold a worker past it. Real slow receivers on 127.0.0.1; the deadline is shortened
for the test."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from webhooks import transport

DEADLINE = 1.0  # seconds: transport.TIMEOUT_SECONDS for these tests
DRIP_EVERY = 0.2  # seconds between bytes: far under any per-read timeout


class DripServer:
    """A receiver that reads the request, sends `answer[:drip_from]` at once and the rest a
    byte every DRIP_EVERY seconds."""

    def __init__(self, answer: bytes, *, drip_from: int) -> None:
        self.answer, self.drip_from = answer, drip_from
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)  # accept() wakes up to see `stop`
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    conn.sendall(self.answer[: self.drip_from])
                    for byte in self.answer[self.drip_from :]:
                        if self.stop.wait(DRIP_EVERY):
                            return
                        conn.sendall(bytes([byte]))
                except OSError:
                    pass  # the client hung up: what the deadline is for

    def close(self) -> None:
        self.stop.set()
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def drip_server(settings, monkeypatch):
    """Start a DripServer (closed after the test), with the deadline shortened."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    monkeypatch.setattr(transport, "TIMEOUT_SECONDS", DEADLINE)
    servers: list[DripServer] = []

    def start(answer: bytes, *, drip_from: int) -> str:
        servers.append(DripServer(answer, drip_from=drip_from))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


BODY = b'{"received": true, "padding": "' + b"x" * 40 + b'"}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)


def _post(url: str) -> tuple[transport.Response, float]:
    started = time.monotonic()
    answer = transport.post(url, body=b"{}", headers={}, keep=2048)
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    "drip_from",
    [ANSWER.index(b"\r\n\r\n") + 4, 5],
    ids=["body dripped", "status line and headers dripped"],
)
def test_a_dripping_receiver_is_cut_off_at_the_deadline(drip_server, drip_from):
    url = drip_server(ANSWER, drip_from=drip_from)
    answer, took = _post(url)
    assert took < DEADLINE + 0.5, f"held the worker {took:.1f} s"
    assert answer.status is None  # no complete answer in time: a failed request, retried
    assert answer.error.startswith("TimeoutError")
    assert DEADLINE * 1000 <= answer.duration_ms < (DEADLINE + 0.5) * 1000


def test_an_answer_within_the_deadline_is_read_whole(drip_server):
    url = drip_server(ANSWER, drip_from=len(ANSWER) - 2)  # two bytes late: 0.4 s
    answer, took = _post(url)
    assert (answer.status, answer.body, answer.error) == (200, BODY.decode(), "")
    assert took < DEADLINE
