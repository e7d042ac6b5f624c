"""How a webhook request leaves (webhooks/transport.py), against real receivers on 127.0.0.1:

- the timeout is a deadline for the whole answer: a receiver that drips its TLS handshake,
  status line, headers or body a byte at a time (each byte well within a socket timeout)
  cannot hold a worker past it (the deadline is shortened for the tests);
- HTTPS goes to the address that was checked and verifies the certificate for the URL's name.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks import transport

DEADLINE = 1.0  # seconds: transport.TIMEOUT_SECONDS for these tests
DRIP_EVERY = 0.2  # seconds between bytes: far under any per-read timeout


class DripServer:
    """A receiver that reads the request, sends `answer[:drip_from]` at once and the rest a
    byte every DRIP_EVERY seconds."""

    def __init__(self, answer: bytes, *, drip_from: int, scheme: str = "http") -> None:
        self.answer, self.drip_from = answer, drip_from
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)  # accept() wakes up to see `stop`
        self.url = f"{scheme}://127.0.0.1:{self.server.getsockname()[1]}/hooks"
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

    def start(answer: bytes, *, drip_from: int, scheme: str = "http") -> str:
        servers.append(DripServer(answer, drip_from=drip_from, scheme=scheme))
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


# A TLS record header announcing a 16 KB handshake message, then its bytes one at a time: the
# client's handshake waits for the rest of the record.
SLOW_HANDSHAKE = b"\x16\x03\x03\x40\x00" + b"\x02" * 200


def test_a_dripping_tls_handshake_is_cut_off_at_the_deadline(drip_server):
    url = drip_server(SLOW_HANDSHAKE, drip_from=5, scheme="https")
    answer, took = _post(url)
    assert took < DEADLINE + 0.5, f"held the worker {took:.1f} s"
    assert answer.status is None and answer.error.startswith("TimeoutError"), answer.error


def test_an_answer_within_the_deadline_is_read_whole(drip_server):
    url = drip_server(ANSWER, drip_from=len(ANSWER) - 2)  # two bytes late: 0.4 s
    answer, took = _post(url)
    assert (answer.status, answer.body, answer.error) == (200, BODY.decode(), "")
    assert took < DEADLINE


# --- HTTPS to the checked address, the certificate verified for the name ----------------------


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_receiver(tmp_path, settings, monkeypatch):
    """An HTTPS receiver on 127.0.0.1 with a certificate for hooks.test, a name that
    resolves there, and the certificate trusted as if a public CA had signed it."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    cert_file, key_file = _certificate(tmp_path, "hooks.test")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"okay")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real_getaddrinfo, real_context = socket.getaddrinfo, ssl.create_default_context
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **kw: real_getaddrinfo(
            "127.0.0.1" if host == "hooks.test" else host, *a, **kw
        ),
    )
    monkeypatch.setattr(ssl, "create_default_context", lambda: real_context(cafile=cert_file))
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_reaches_the_checked_address_and_verifies_the_name(tls_receiver):
    answer = transport.post(f"https://hooks.test:{tls_receiver}/x", body=b"{}", headers={}, keep=10)
    assert (answer.status, answer.body, answer.error) == (200, "okay", "")


def test_https_refuses_a_certificate_for_another_name(tls_receiver, monkeypatch):
    # Another name resolving to the same receiver: its certificate names hooks.test only.
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **kw: real_getaddrinfo(
            "hooks.test" if host == "other.test" else host, *a, **kw
        ),
    )
    answer = transport.post(f"https://other.test:{tls_receiver}/x", body=b"{}", headers={}, keep=10)
    assert answer.status is None and "CERTIFICATE_VERIFY_FAILED" in answer.error
