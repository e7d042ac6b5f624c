"""Finding 4: an IPv4 client behind a dual-stack listener arrives as ::ffff:a.b.c.d; every
use of the client's address (limits, logs, allowlists) sees the IPv4 address."""

from django.test import RequestFactory

from davinci.net import client_ip


def _request(remote_addr: str, forwarded: str = ""):
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded)


def test_ipv4_mapped_socket_address_is_the_ipv4_address():
    assert client_ip(_request("::ffff:192.0.2.1")) == "192.0.2.1"


def test_ipv4_mapped_trusted_proxy_and_hops_are_normalised(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("::ffff:10.0.0.5", "::ffff:198.51.100.7")) == "198.51.100.7"


def test_plain_ipv6_is_kept():
    assert client_ip(_request("2001:db8::1")) == "2001:db8::1"


def test_an_allowlist_of_ipv4_ranges_admits_an_ipv4_mapped_client(rf, db):
    from integrations.api.auth import ip_allowed
    from tests.factories import ApiKeyFactory

    api_key = ApiKeyFactory(allowed_ips=["192.0.2.0/24"])
    assert ip_allowed(api_key, client_ip(_request("::ffff:192.0.2.9")))
