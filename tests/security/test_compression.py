"""gzip: HTML pages and API lists are compressed for a client that asks (GZipMiddleware), and
no answer that carries a secret ever is (BREACH: a compressed secret next to text an attacker
chose leaks through the answer's length). docs/hardening.md says why."""

from __future__ import annotations

import gzip

from django.urls import reverse

from tests.api.conftest import key_headers
from tests.conftest import confirmed
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def test_a_portal_page_is_compressed_when_the_browser_asks(owner_client, facility):
    plain = owner_client.get(reverse("facilities:facility_list"))
    packed = owner_client.get(reverse("facilities:facility_list"), **GZIP)
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content).decode().count(facility.name) == (
        plain.content.decode().count(facility.name)
    )
    assert len(packed.content) < len(plain.content) / 2


def test_show_key_is_never_compressed(owner_client, account, password):
    key = ApiKeyFactory(account=account)
    url = reverse("integrations:api_key_reveal", args=[key.pk])
    response = owner_client.post(url, {"password": password}, **GZIP)
    assert key.plain_secret in response.content.decode()
    assert "Content-Encoding" not in response
    confirmed(owner_client)
    again = owner_client.post(url, **GZIP)
    assert key.plain_secret in again.content.decode() and "Content-Encoding" not in again


def test_a_revealed_code_is_never_compressed(owner_client, facility):
    lock = assigned_lock(UnitFactory(facility=facility, unit_number="A1"), code="4321")
    confirmed(owner_client)
    url = reverse("facilities:lock_reveal", args=[lock.pk])
    on_its_page = owner_client.post(url, **GZIP)
    in_the_list = owner_client.post(
        url, {"next": reverse("facilities:facility_detail", args=[facility.pk])}, **GZIP
    )
    for response in (on_its_page, in_the_list):
        assert ">4321<" in response.content.decode()
        assert "Content-Encoding" not in response


def test_api_lookups_with_codes_are_never_compressed_but_lists_are(client, account):
    facility = FacilityFactory(account=account)
    for n in range(20):
        assigned_lock(UnitFactory(facility=facility, unit_number=f"A{n}"))
    key = ApiKeyFactory(account=account)
    headers = {**key_headers(key), **GZIP}
    base = f"/api/v1/facilities/{facility.facility_id}"
    lookup = client.get(f"{base}/units/A1/", **headers)
    assert lookup.status_code == 200 and "Content-Encoding" not in lookup
    assert lookup.json()["data"]["lock"]["unlock_code"]
    units = client.get(f"{base}/units/", **headers)
    assert units["Content-Encoding"] == "gzip"
