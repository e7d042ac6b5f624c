"""Server-side request forgery: in production settings (WEBHOOKS_ALLOW_PRIVATE off, as the
test settings are) only https:// to public addresses, refused with a form error on save and
checked again before each request, connecting to the address it checked."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from tests.factories import WebhookEndpointFactory
from webhooks import delivery, events, transport
from webhooks.models import Attempt, Endpoint

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"


def _resolving_to(monkeypatch, *addresses: str) -> list:
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _form(url: str) -> dict:
    return {"url": url, "event_types": ["overlock.released"], "all_facilities": "on"}


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/",
        "http://hooks.example.com/",
        "https://localhost/",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/",
        "https://[::1]/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://192.168.1.20/",
        "https://[::ffff:10.0.0.1]/",
        "ftp://hooks.example.com/",
    ],
)
def test_private_and_plain_http_urls_are_refused_on_save(owner_client, url, monkeypatch):
    _resolving_to(monkeypatch, PUBLIC)
    response = owner_client.post(reverse("webhooks:endpoint_create"), _form(url))
    assert response.status_code == 200
    assert response.context["form"].has_error("url")
    assert not Endpoint.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused_on_save(owner_client, monkeypatch):
    _resolving_to(monkeypatch, "10.1.2.3")
    response = owner_client.post(
        reverse("webhooks:endpoint_create"), _form("https://hooks.example.com/")
    )
    assert response.context["form"].errors["url"] == [
        "hooks.example.com resolves to 10.1.2.3, a private, loopback, link-local or reserved "
        "address: webhooks are sent to public addresses only."
    ]


def test_a_public_https_url_is_accepted(owner_client, monkeypatch):
    _resolving_to(monkeypatch, PUBLIC)
    response = owner_client.post(
        reverse("webhooks:endpoint_create"), _form("https://hooks.example.com/davinci")
    )
    assert response.status_code == 302
    assert Endpoint.objects.get().url == "https://hooks.example.com/davinci"


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_not_called(account, monkeypatch):
    endpoint = WebhookEndpointFactory(account=account, url="https://hooks.example.com/")
    _resolving_to(monkeypatch, "10.0.0.7")

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was made")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    events.test_publish(endpoint=endpoint)
    assert delivery.endpoint_deliver(endpoint.pk) == 30.0
    attempt = Attempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("Not sent: hooks.example.com resolves to 10.0.0.7")


def test_the_request_goes_to_the_address_that_was_checked(account, monkeypatch):
    """DNS rebinding: the name is resolved once, and the connection is made to that address,
    not to whatever the name resolves to a moment later."""
    endpoint = WebhookEndpointFactory(account=account, url="https://hooks.example.com/x")
    asked = _resolving_to(monkeypatch, PUBLIC)
    connected = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    answer = transport.post(endpoint.url, body=b"{}", headers={}, keep=10)
    assert asked == ["hooks.example.com"]
    assert connected == [(PUBLIC, 443)]
    assert answer.status is None and "ConnectionRefusedError" in answer.error


def test_redirects_are_not_followed(account, receiver):
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        answer = transport.post(url, body=b"{}", headers={}, keep=10)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 302
    assert receiver.requests == []


def test_with_debug_http_on_127_0_0_1_is_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert transport.url_problem("http://127.0.0.1:9000/hooks") is None
    # Never multicast or unspecified, even then.
    assert transport.url_problem("http://0.0.0.0/") is not None
