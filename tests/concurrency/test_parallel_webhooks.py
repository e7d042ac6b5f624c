"""Issue 24: at most one webhook request in flight per endpoint, with two workers racing. Two
threads run the delivery task for the same endpoint at the same moment: one claims the
endpoint (one conditional UPDATE) and sends its deliveries in order, the other finds it
taken and returns without sending. PostgreSQL only: SQLite serialises every writer, so
nothing would run at once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, connections

from tests.factories import WebhookEndpointFactory
from webhooks import delivery, events, tasks
from webhooks.models import Attempt, Delivery

RECEIVER_HOLDS = 15  # seconds at most: the test releases it as soon as the loser returned


class SlowReceiver:
    """A receiver on 127.0.0.1 that holds every request until `release` is set, counting
    how many are in flight at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.message_ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                receiver.arrived.set()
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.release.wait(RECEIVER_HOLDS)
                with receiver.lock:
                    receiver.message_ids.append(self.headers["webhook-id"])
                    receiver.in_flight -= 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    receiver = SlowReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def queued(transactional_db, account, slow_receiver, monkeypatch):
    """An endpoint on the slow receiver with two deliveries waiting (committed), handed to no
    worker yet."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): concurrent writers")
    endpoint = WebhookEndpointFactory(account=account, url=slow_receiver.url)
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "dispatch", lambda endpoint_id, **kwargs: None)
        first = events.test_publish(endpoint=endpoint)
        second = events.test_publish(endpoint=endpoint)
    return endpoint, [first.message_id, second.message_id]


def test_two_workers_racing_for_one_endpoint_send_one_request_at_a_time(
    queued, slow_receiver, monkeypatch
):
    endpoint, message_ids = queued
    barrier = threading.Barrier(2)
    senders: list[str] = []
    attempt_send = delivery.attempt_send

    def recording_attempt_send(**kwargs):
        senders.append(threading.current_thread().name)
        return attempt_send(**kwargs)

    monkeypatch.setattr(delivery, "attempt_send", recording_attempt_send)

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            tasks.deliver(endpoint.pk)  # the Celery task, run in this thread
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker, name=f"worker-{n}") for n in (1, 2)]
    for thread in workers:
        thread.start()
    # The loser finds the endpoint claimed and returns while the winner's first request is
    # still held by the receiver.
    while all(thread.is_alive() for thread in workers):
        workers[0].join(0.05)
    loser = next(thread for thread in workers if not thread.is_alive())
    assert slow_receiver.arrived.wait(10), "the winner's request reached the receiver"
    assert loser.name not in senders
    slow_receiver.release.set()
    for thread in workers:
        thread.join(30)

    assert not any(thread.is_alive() for thread in workers)
    assert len(senders) == 2 and set(senders) == {next(t.name for t in workers if t is not loser)}
    assert slow_receiver.most_in_flight == 1
    assert slow_receiver.message_ids == message_ids  # each once, in the order written
    assert Attempt.objects.filter(endpoint=endpoint).count() == 2
    statuses = Delivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)
    assert set(statuses) == {Delivery.Status.DELIVERED}
