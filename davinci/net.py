"""The client's IP address, believing X-Forwarded-For only from configured trusted proxies."""

import ipaddress
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_networks() -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES)


@receiver(setting_changed)
def _forget_proxies(*, setting: str, **kwargs) -> None:
    if setting == "TRUSTED_PROXIES":
        _trusted_networks.cache_clear()


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks())


def client_ip(request: HttpRequest) -> str:
    """The socket address; when that is a trusted proxy, the right-most X-Forwarded-For entry
    that is not itself a trusted proxy (entries left of it could be forged by the client)."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return ""  # e.g. a unix socket: no address to record or rate-limit by
    if not _is_trusted(address):
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed chain: trust nothing beyond the proxy itself
        if not _is_trusted(hop):
            return hop
    return address
