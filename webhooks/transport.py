"""The one way a webhook request leaves: to an address checked just before it connects.

Server-side request forgery is the risk of sending requests to URLs users type: a URL could
name the cloud's metadata service (169.254.169.254), the database next door, or a name that
resolves to either. So:

- `url_problem()` (the form, on save): `https://` only, to a host that is not, and does not
  resolve to, a private, loopback, link-local, unspecified, multicast or otherwise non-public
  address.
- `post()` (every send): resolves the name again, refuses the request if any address it
  resolves to is not public, and connects to the address it checked, never to the name
  again: a DNS answer that changes between the check and the connection (DNS rebinding)
  cannot steer it elsewhere. HTTPS still verifies the certificate against the name (SNI).
  Redirects are not followed (http.client never follows them): a 3xx is a failed delivery.
  The 10 s timeout is a deadline for the whole answer (`_Deadline`), not for each read: a
  receiver that drips its answer a byte at a time cannot hold a worker longer.

With settings.WEBHOOKS_ALLOW_PRIVATE (on with DEBUG), `http://` and private addresses such as
http://127.0.0.1:8000/ are allowed, so a receiver can be tried on one's own machine.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10
USER_AGENT = "DaVinci-Lock-Webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address webhooks are never sent to."""


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def address_allowed(address: Address, *, allow_private: bool | None = None) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_multicast:
        return False
    if allow_private if allow_private is not None else _allow_private():
        return True
    return address.is_global


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(f"The name {host} could not be resolved.") from exc
    found: list[Address] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in found:
            found.append(address)
    return found


def checked_addresses(host: str, port: int) -> list[Address]:
    """The addresses `host` resolves to, when every one of them may be sent to."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        if not _allow_private() and (host == "localhost" or host.endswith(".localhost")):
            raise RefusedAddress(f"{host} is this server itself.") from None
        addresses = _resolve(host, port)
    refused = [address for address in addresses if not address_allowed(address)]
    if refused:
        literal = str(refused[0]) == host.strip("[]")
        named = f"{host} is" if literal else f"{host} resolves to {refused[0]},"
        raise RefusedAddress(
            f"{named} a private, loopback, link-local or reserved address: webhooks are sent "
            "to public addresses only."
        )
    if not addresses:
        raise RefusedAddress(f"The name {host} could not be resolved.")
    return addresses


def url_problem(url: str) -> str | None:
    """Why a URL cannot be an endpoint (a sentence for the form), or None."""
    parts = urlsplit(url)
    schemes = ("https", "http") if _allow_private() else ("https",)
    if parts.scheme not in schemes:
        return "Use an https:// URL: webhooks carry signed lock events and go over TLS only."
    if not parts.hostname:
        return "Write the full URL, e.g. https://example.com/webhooks/davinci."
    if parts.username or parts.password:
        return "Leave the user name and password out of the URL."
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The port in the URL is not a number between 1 and 65535."
    try:
        checked_addresses(parts.hostname, port)
    except RefusedAddress as exc:
        return str(exc)
    return None


@dataclass
class Response:
    status: int | None
    body: str
    duration_ms: int
    error: str = ""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate for the URL's name."""

    def __init__(self, address: str, port: int, *, server_name: str, timeout: float) -> None:
        # Our own context (http.client keeps its own in a private attribute).
        self.tls = ssl.create_default_context()
        super().__init__(address, port, timeout=timeout, context=self.tls)
        self.server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(
            sock, server_hostname=self.server_name, do_handshake_on_connect=False
        )
        # The handshake once `sock` is set, so that the request's deadline can cut it short.
        self.sock.do_handshake()


class _Deadline:
    """Ends a request `seconds` after it started, whatever it is waiting for. A socket's
    timeout bounds each read, and a receiver that sends a byte every few seconds renews it for
    ever; so when the time is up a timer shuts the connection's socket down, and the read in
    progress (TLS handshake, status line, headers or body) returns at once."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection = connection
        self.expired = False
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True

    def _cut(self) -> None:
        self.expired = True
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: ssl.SSLSocket.shutdown would
                # drop its TLS state under the reading thread's feet.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.timer.cancel()


def post(url: str, *, body: bytes, headers: dict[str, str], keep: int) -> Response:
    """POST `body` to `url` and return the status and the first `keep` characters of the
    answer: no redirects, and the whole answer within TIMEOUT_SECONDS (else a timeout, status
    None). Raises RefusedAddress before any connection is made when the name resolves to an
    address that is not allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = str(checked_addresses(host, port)[0])
    if https:
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            address, port, server_name=host, timeout=TIMEOUT_SECONDS
        )
    else:
        connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT_SECONDS)
    default_port = port == (443 if https else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    deadline = _Deadline(connection, TIMEOUT_SECONDS)
    try:
        with deadline:
            connection.connect()
            if deadline.expired:  # it ran out while connecting, when there was nothing to cut
                raise TimeoutError
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Host": host if default_port else f"{host}:{port}",
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
            answer = connection.getresponse()
            text = answer.read(keep).decode("utf-8", errors="replace")
        if deadline.expired:  # what was read may be cut short: not an answer
            return _timed_out(started)
        return Response(answer.status, text, _since(started))
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired:
            return _timed_out(started)
        reason = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else str(exc)
        return Response(None, "", _since(started), error=f"{type(exc).__name__}: {reason}"[:200])
    finally:
        connection.close()


def _timed_out(started: float) -> Response:
    error = f"TimeoutError: no complete answer within {TIMEOUT_SECONDS:g} s"
    return Response(None, "", _since(started), error=error)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
