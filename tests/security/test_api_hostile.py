"""Hostile input in every path parameter, query parameter and credential header of the lookup
API: SQL and template injection, path tricks, odd Unicode, control characters, huge and empty
values. Every answer is JSON in the documented shape, 2xx or 4xx, never a 5xx; a lookup with
a hostile value never returns a code; a filter never widens beyond what it names.

Run it on PostgreSQL too (DATABASE_URL): NUL characters and collations behave differently there.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client, override_settings

from tests.api.conftest import basic_headers, key_headers
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock
from tests.security import hostile

CODE = "7391"


@pytest.fixture
def api_world(account, other_account):
    facility = FacilityFactory(account=account, name="Harbor Downtown")
    unit = UnitFactory(facility=facility, unit_number="A101")
    assigned_lock(unit, serial="HD000001", code=CODE)
    rival = FacilityFactory(account=other_account, name="Rival North")
    assigned_lock(UnitFactory(facility=rival, unit_number="A101"), serial="RN000001", code=CODE)
    return {
        "fid": facility.facility_id,
        "rival": rival.facility_id,
        "key": ApiKeyFactory(account=account),
    }


def _wsgi(value: str) -> str:
    """A header value as a WSGI server hands it over: the bytes read as Latin-1."""
    return value.encode("utf-8").decode("latin-1")


def _check(response, where: str) -> dict:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert response["Content-Type"].startswith("application/json"), where
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert set(body) == {"error"}, where
        assert set(body["error"]) == {"code", "message"}, where
        assert body["error"]["code"] and body["error"]["message"], where
    else:
        assert "data" in body, where
    assert "Traceback" not in response.content.decode(), where
    return body


def _segment(value: str) -> str:
    return quote(value, safe="")


@override_settings(API_RATE_LIMIT_PER_MINUTE=10**6, API_AUTH_FAILURE_LIMIT_PER_MINUTE=10**6)
@pytest.mark.parametrize("value", hostile.ALL, ids=lambda v: repr(v[:24]))
def test_hostile_values_in_every_path_and_query_parameter(api_world, value):
    client = Client()
    fid, key, x = api_world["fid"], api_world["key"], _segment(value)
    headers = key_headers(key)
    paths = {
        "facility_id": f"/api/v1/facilities/{x}/",
        "facility_id of units": f"/api/v1/facilities/{x}/units/",
        "facility_id of a unit": f"/api/v1/facilities/{x}/units/A101/",
        "facility_id of a lock": f"/api/v1/facilities/{x}/locks/HD000001/",
        "unit_number": f"/api/v1/facilities/{fid}/units/{x}/",
        "serial": f"/api/v1/facilities/{fid}/locks/{x}/",
        "unknown path": f"/api/v1/{x}/",
    }
    for where, path in paths.items():
        body = _check(client.get(path, **headers), where)
        assert CODE not in json.dumps(body), f"{where}: a hostile value read a code"

    for param in ("status", "q", "cursor", "limit", "page", "unit_number", "facility_id"):
        query = urlencode({param: value})
        body = _check(client.get(f"/api/v1/facilities/{fid}/units/?{query}", **headers), param)
        if param == "q" and "data" in body:
            q = value.strip().lower()
            for row in body["data"]:  # the filter never widens
                assert (
                    q in row["unit_number"].lower()
                    or q in (row["lock"] or {}).get("serial", "").lower()
                ), f"q={value!r} matched {row}"
        _check(client.get(f"/api/v1/facilities/?{query}", **headers), f"{param} on the list")
        detail = client.get(f"/api/v1/facilities/{fid}/units/A101/?{query}", **headers)
        assert _check(detail, f"{param} on a lookup")["data"]["lock"]["unlock_code"] == CODE

    # As credentials: never authenticated, never a 5xx.
    for header in ("HTTP_X_API_KEY", "HTTP_X_API_SECRET"):
        response = client.get(
            f"/api/v1/facilities/{fid}/units/A101/", **{**headers, header: _wsgi(value)}
        )
        assert response.status_code in (401, 429), header
        _check(response, header)
    for user, password in ((value, key.plain_secret), (key.api_key, value)):
        response = client.get(f"/api/v1/facilities/{fid}/", **basic_headers(user, password))
        assert response.status_code in (401, 429)
        _check(response, "Basic")
    response = client.get(f"/api/v1/facilities/{fid}/", HTTP_AUTHORIZATION=_wsgi(value))
    _check(response, "Authorization")


@override_settings(API_RATE_LIMIT_PER_MINUTE=10**6)
@pytest.mark.parametrize(
    "unit_number",
    [
        "A/101",
        "A%2F101",
        "A 101",
        "a101",
        "\uff21\uff11\uff10\uff11",
        "A101 ",
        " A101",
        "A101/",
        "ünït",
        "A\\101",
    ],
)
def test_unit_numbers_with_slashes_and_unicode_are_not_found_not_confused(api_world, unit_number):
    """Only the unit's own number, as stored, finds it: no slash, case, width or space trick
    reaches unit A101, and none is a 5xx."""
    client = Client()
    path = f"/api/v1/facilities/{api_world['fid']}/units/{quote(unit_number, safe='/')}/"
    response = client.get(path, **key_headers(api_world["key"]))
    body = _check(response, unit_number)
    assert response.status_code == 404, body


@override_settings(API_RATE_LIMIT_PER_MINUTE=10**6)
def test_another_accounts_facility_is_not_found_whatever_the_spelling(api_world):
    client = Client()
    for spelling in (api_world["rival"], api_world["rival"].upper(), f" {api_world['rival']}"):
        path = f"/api/v1/facilities/{quote(spelling)}/units/A101/"
        response = client.get(path, **key_headers(api_world["key"]))
        assert response.status_code == 404
        assert CODE not in response.content.decode()


@override_settings(API_RATE_LIMIT_PER_MINUTE=10**6)
@pytest.mark.parametrize("size", [10_000, 3_000_000])
def test_large_bodies_on_the_api_never_reach_a_5xx(api_world, size):
    client = Client()
    path = f"/api/v1/facilities/{api_world['fid']}/units/A101/"
    headers = key_headers(api_world["key"])
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            path, data=b"{" * size, content_type="application/json", **headers
        )
        assert response.status_code == 405
        _check(response, method)
    response = client.generic(
        "GET", path, data=b"[" * size, content_type="application/json", **headers
    )
    assert _check(response, "GET with a body")["data"]["lock"]["unlock_code"] == CODE


def test_hostile_request_ids_are_replaced_not_echoed(api_world):
    client = Client()
    for value in ("<script>", "a" * 500, "id\r\nSet-Cookie: x=1", "../../etc", "short"):
        response = client.get("/api/v1/facilities/", HTTP_X_REQUEST_ID=_wsgi(value))
        assert response["X-Request-ID"] != value
        assert len(response["X-Request-ID"]) == 32


@override_settings(TRUSTED_PROXIES=["127.0.0.1/32"], API_RATE_LIMIT_PER_MINUTE=10**6)
@pytest.mark.parametrize(
    "forwarded",
    ["", "not-an-ip", "1.2.3.4, <script>", "999.1.1.1", "::ffff:1.2.3.4, 10.0.0.1" * 50, "\x00"],
)
def test_hostile_forwarded_for_from_a_trusted_proxy(api_world, forwarded):
    client = Client(REMOTE_ADDR="127.0.0.1")
    response = client.get(
        f"/api/v1/facilities/{api_world['fid']}/units/A101/",
        HTTP_X_FORWARDED_FOR=_wsgi(forwarded),
        **key_headers(api_world["key"]),
    )
    assert response.status_code == 200
    _check(response, forwarded)
