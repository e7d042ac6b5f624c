"""Where a request comes from: the client's IP address (believing X-Forwarded-For only from
configured trusted proxies), and the page of this site a form may send it back to; and
whether a request is for the JSON API, which davinci/urls.py mounts at API_PREFIX (`is_api_path`,
the one place that decides it)."""

import ipaddress
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_networks() -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES)


@receiver(setting_changed)
def _forget_proxies(*, setting: str, **kwargs) -> None:
    if setting == "TRUSTED_PROXIES":
        _trusted_networks.cache_clear()


def _parse(address: str) -> Address | None:
    """The address, an IPv4-mapped IPv6 one (::ffff:a.b.c.d, what a dual-stack listener
    reports for every IPv4 client) as the IPv4 address it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_trusted(ip: Address) -> bool:
    return any(ip in network for network in _trusted_networks())


def client_ip(request: HttpRequest) -> str:
    """The socket address; when that is a trusted proxy, the right-most X-Forwarded-For entry
    that is not itself a trusted proxy (entries left of it could be forged by the client).
    IPv4-mapped addresses come back as plain IPv4, so limits, logs and allowlists see one
    form of each client."""
    ip = _parse(request.META.get("REMOTE_ADDR", ""))
    if ip is None:
        return ""  # e.g. a unix socket: no address to record or rate-limit by
    address = str(ip)
    if not _is_trusted(ip):
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        hop_ip = _parse(hop)
        if hop_ip is None:
            return address  # a malformed chain: trust nothing beyond the proxy itself
        if not _is_trusted(hop_ip):
            return str(hop_ip)
    return address


def next_path(request: HttpRequest, default: str) -> str:
    """The POSTed `next` when it is a path of this site, else `default`. Only a path: anything
    else, even a bare word (which redirect() would try to reverse as a view name), is refused."""
    wanted = request.POST.get("next", "")
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


API_PREFIX = "/api/"
# The API's documentation is a page of the portal (HTML, with a signed-in member's examples).
API_DOCS_PATH = API_PREFIX + "docs/"


def is_api_path(request: HttpRequest) -> bool:
    """Whether `request` is for the JSON API: everything under API_PREFIX but its documentation
    page. The API authenticates with keys (never a session, a user or a cookie) and answers
    JSON, errors included. Every "is this the API?" in the code asks this function."""
    path = request.path_info
    in_api = path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")
    return in_api and path != API_DOCS_PATH
