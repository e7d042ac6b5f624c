"""The key detail page's API panel: docs link, a ready curl line with the key's API Key and
a Facility ID it can read, and its recent lookups (time, IP, facility, unit/serial)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tests.factories import ApiKeyFactory, UnitFactory, assigned_lock


def _detail(client, key):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("integrations:api_key_detail", args=[key.pk]))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_panel_has_docs_link_and_a_ready_curl_line(world, owner_client):
    html, _ = _detail(owner_client, world.key)
    assert f'href="{reverse("api:docs")}"' in html
    curl = (
        f'curl -s -H "X-API-Key: {world.key.api_key}" -H "X-API-Secret: $DAVINCI_API_SECRET" '
        f"'http://testserver/api/v1/facilities/{world.facility.facility_id}/units/'"
    )
    assert escape(curl) in html
    assert world.key.plain_secret not in html


def test_curl_line_uses_a_facility_the_key_can_read(world, owner_client):
    key = ApiKeyFactory(account=world.facility.account, facilities=[world.sibling])
    html, _ = _detail(owner_client, key)
    assert f"/api/v1/facilities/{world.sibling.facility_id}/units/" in html
    assert world.facility.facility_id not in html


def test_panel_lists_recent_lookups_with_time_ip_facility_unit_and_serial(world, api, owner_client):
    fid = world.facility.facility_id
    api.call(f"/api/v1/facilities/{fid}/units/A101/", world.key, REMOTE_ADDR="198.51.100.23")
    api.call(f"/api/v1/facilities/{fid}/locks/HD000001/", world.key, REMOTE_ADDR="198.51.100.24")
    html, _ = _detail(owner_client, world.key)
    assert "Recent lookups" in html
    assert "198.51.100.23" in html and "198.51.100.24" in html
    assert "Harbor Downtown" in html
    assert "A101 / <code>HD000001</code>" in html
    assert "1234" not in html  # the page lists lookups, never the code


def test_lookups_of_other_keys_are_not_listed(world, api, owner_client):
    other = ApiKeyFactory(account=world.facility.account)
    api.call(
        f"/api/v1/facilities/{world.facility.facility_id}/units/A101/",
        other,
        REMOTE_ADDR="192.0.2.99",
    )
    html, _ = _detail(owner_client, world.key)
    assert "192.0.2.99" not in html
    assert "No unlock code has been read with this key yet." in html


def test_panel_queries_do_not_grow_with_lookups(world, api, owner_client):
    fid = world.facility.facility_id
    api.call(f"/api/v1/facilities/{fid}/units/A101/", world.key)
    _, few = _detail(owner_client, world.key)
    for n in range(15):
        unit = UnitFactory(facility=world.sibling, unit_number=f"X{n}")
        assigned_lock(unit, serial=f"HX{n:06d}")
        api.call(f"/api/v1/facilities/{world.sibling.facility_id}/units/X{n}/", world.key)
    html, many = _detail(owner_client, world.key)
    assert "HX000014" in html
    assert few == many
