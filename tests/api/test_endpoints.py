"""What each endpoint answers: objects, codes and their record, filters, pagination, and
clear 400s for bad parameters."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone

from facilities.models import LockEvent, LockStatus
from integrations.api.views import encode_cursor
from integrations.models import ApiKey
from tests.api.conftest import error_code, fail_to_record, lock_in
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock


def _units_url(world, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/facilities/{world.facility.facility_id}/units/" + (
        f"?{query}" if query else ""
    )


# --- Facilities --------------------------------------------------------------------------


def test_facility_list_is_the_keys_scope_in_name_order(world, api):
    response = api.call("/api/v1/facilities/", world.key)
    assert response.status_code == 200
    assert response.data == {
        "data": [
            {
                "facility_id": f.facility_id,
                "name": f.name,
                "address": f.address,
            }
            for f in (world.facility, world.sibling)
        ],
        "next": None,
    }
    assert response["Cache-Control"] == "no-store"


def test_facility_list_pages_like_the_unit_list(world, api):
    for n in range(60):
        FacilityFactory(account=world.facility.account, name=f"Site {n // 2:02d}")  # pairs
    first = api.call("/api/v1/facilities/", world.key)
    assert len(first.data["data"]) == 50
    second = api.call(first.data["next"], world.key)
    assert len(second.data["data"]) == 12 and second.data["next"] is None


def test_following_next_walks_every_facility_once_in_name_order(world, api):
    for n in range(20):
        FacilityFactory(account=world.facility.account, name=f"Site {n % 4}")  # same names
    expected = [
        f["facility_id"]
        for f in sorted(
            ApiKey.objects.get(pk=world.key.pk).facilities_in_scope().values("name", "facility_id"),
            key=lambda f: (f["name"], f["facility_id"]),
        )
    ]
    seen, url = [], "/api/v1/facilities/?limit=3"
    while url:
        response = api.call(url, world.key)
        assert response.status_code == 200
        seen += [f["facility_id"] for f in response.data["data"]]
        url = response.data["next"]
        if url:
            assert parse_qs(urlsplit(url).query)["limit"] == ["3"]
    assert seen == expected and len(seen) == 22


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": encode_cursor("A101")}, "cursor"),  # a unit list's cursor
        ({"cursor": encode_cursor(["Site", "not a facility id"])}, "cursor"),
        ({"cursor": encode_cursor(["x" * 201, "abc"])}, "cursor"),
    ],
)
def test_facility_list_bad_parameters_are_a_clear_400(world, api, params, name):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.call(f"/api/v1/facilities/?{query}", world.key)
    assert (response.status_code, error_code(response)) == (400, "invalid_parameter")
    assert name in response.data["error"]["message"]


def test_facility_list_follows_include_in_api_on_the_next_request(world, api):
    world.sibling.include_in_api = False
    world.sibling.save()
    ids = [f["facility_id"] for f in api.call("/api/v1/facilities/", world.key).data["data"]]
    assert ids == [world.facility.facility_id]
    world.sibling.include_in_api = True
    world.sibling.save()
    ids = [f["facility_id"] for f in api.call("/api/v1/facilities/", world.key).data["data"]]
    assert world.sibling.facility_id in ids


def test_facility_detail_accepts_the_facility_id_in_capitals(world, api):
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id.upper()}/", world.key)
    assert response.status_code == 200
    assert response.data["data"]["facility_id"] == world.facility.facility_id


@pytest.mark.parametrize(
    "facility_id", ["x" * 33, "has-dash", "%00abc", "caf%C3%A9", "a%20b", "..", "%2e%2e"]
)
def test_facility_id_that_cannot_exist_is_not_found(world, api, facility_id):
    response = api.call(f"/api/v1/facilities/{facility_id}/units/A101/", world.key)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


# --- One unit, one lock: codes and their record ------------------------------------------


def test_unit_detail_gives_the_code_and_records_it(world, api):
    response = api.call(
        f"/api/v1/facilities/{world.facility.facility_id}/units/A101/",
        world.key,
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 200
    lock = world.lock
    lock.refresh_from_db()
    assert response.data == {
        "data": {
            "unit_number": "A101",
            "facility_id": world.facility.facility_id,
            "lock": {
                "serial": lock.serial,
                "status": "assigned_overlock",
                "status_label": "Assigned Overlock",
                "unlock_code": "1234",
                "unlock_code_withheld": None,
                "unit_number": "A101",
                "facility_id": world.facility.facility_id,
                "updated_at": lock.updated_at.isoformat(),
            },
        }
    }
    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_LOOKED_UP)
    assert event.lock == lock
    assert event.actor_type == LockEvent.Actor.API_KEY
    assert event.api_key == world.key
    assert event.unit == world.unit
    assert event.ip == "198.51.100.7"
    assert event.details == {"lookup": "unit", "facility_id": world.facility.facility_id}


def test_every_answer_with_a_code_writes_one_event(world, api):
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    for _ in range(3):
        assert api.call(url, world.key).status_code == 200
    lock_url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{world.lock.serial}/"
    assert api.call(lock_url, world.key).status_code == 200
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count() == 4
    assert LockEvent.objects.filter(details__lookup="lock").count() == 1


def test_lock_detail_by_serial_in_any_case(world, api):
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{world.lock.serial.lower()}/"
    response = api.call(url, world.key, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.data["data"]["serial"] == world.lock.serial
    assert response.data["data"]["unit_number"] == "A101"
    assert response.data["data"]["unlock_code"] == "1234"
    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_LOOKED_UP)
    assert (event.unit, event.ip, event.api_key) == (world.unit, "203.0.113.9", world.key)


def test_lock_detail_of_a_lock_on_no_unit(world, api):
    lock = lock_in(world.facility, "B200", LockStatus.AVAILABLE, "HD000099")
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{lock.serial}/"
    response = api.call(url, world.key)
    assert response.status_code == 200
    assert response.data["data"]["unit_number"] is None
    assert LockEvent.objects.get(kind=LockEvent.Kind.CODE_LOOKED_UP).unit is None


def test_lock_of_another_facility_of_the_key_is_not_found_under_this_one(world, api):
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{world.sibling_lock.serial}/"
    assert api.call(url, world.key).status_code == 404


@pytest.mark.parametrize("endpoint", ["units/A200", "locks/HD000200"])
def test_auction_code_is_withheld_and_not_recorded(world, api, endpoint):
    lock_in(world.facility, "A200", LockStatus.ASSIGNED_AUCTION, "HD000200")
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/{endpoint}/", world.key)
    assert response.status_code == 200
    lock = response.data["data"]["lock"] if endpoint.startswith("units") else response.data["data"]
    assert lock["status"] == "assigned_auction"
    assert lock["unlock_code"] is None
    assert lock["unlock_code_withheld"] == "assigned_auction"
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()


def test_unit_without_a_lock(world, api):
    UnitFactory(facility=world.facility, unit_number="C300")
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/C300/"
    response = api.call(url, world.key)
    assert response.status_code == 200
    assert response.data["data"] == {
        "unit_number": "C300",
        "facility_id": world.facility.facility_id,
        "lock": None,
    }
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()


def test_unit_numbers_are_text(world, api):
    assigned_lock(UnitFactory(facility=world.facility, unit_number="007"), serial="HD000007")
    assigned_lock(UnitFactory(facility=world.facility, unit_number="7"), serial="HD000070")
    base = f"/api/v1/facilities/{world.facility.facility_id}/units"
    assert api.call(f"{base}/007/", world.key).data["data"]["lock"]["serial"] == "HD000007"
    assert api.call(f"{base}/7/", world.key).data["data"]["lock"]["serial"] == "HD000070"
    assert api.call(f"{base}/07/", world.key).status_code == 404


def test_unit_number_with_a_space(world, api):
    assigned_lock(UnitFactory(facility=world.facility, unit_number="Bay 4"), serial="HD000044")
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/Bay%204/"
    assert api.call(url, world.key).data["data"]["lock"]["serial"] == "HD000044"


@pytest.mark.parametrize("unit_number", ["A101%00", "%0A", "x" * 21, "A101%20", "%7F"])
def test_unit_number_that_cannot_exist_is_not_found(world, api, unit_number):
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/{unit_number}/"
    response = api.call(url, world.key)
    assert (response.status_code, error_code(response)) == (404, "not_found")


@pytest.mark.parametrize("serial", ["HD00000", "HD0000011", "HD00000%00", "HD-00001"])
def test_serial_that_cannot_exist_is_not_found(world, api, serial):
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{serial}/"
    response = api.call(url, world.key)
    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_code_never_leaves_without_its_record(world, api, monkeypatch):
    """The read and the LockEvent go together: no record, no code."""
    fail_to_record(monkeypatch, IntegrityError("simulated failure writing the lock event"))
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/A101/", world.key)
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "1234" not in response.content.decode()


# --- Authentication details ----------------------------------------------------------------


def test_last_used_is_recorded_at_most_once_a_minute(world, api):
    url = "/api/v1/facilities/"
    api.call(url, world.key, REMOTE_ADDR="192.0.2.1")
    world.key.refresh_from_db()
    first = world.key.last_used_at
    assert first is not None and world.key.last_used_ip == "192.0.2.1"

    api.call(url, world.key, REMOTE_ADDR="192.0.2.2")
    world.key.refresh_from_db()
    assert (world.key.last_used_at, world.key.last_used_ip) == (first, "192.0.2.1")

    ApiKey.objects.filter(pk=world.key.pk).update(last_used_at=first - timedelta(seconds=61))
    api.call(url, world.key, REMOTE_ADDR="192.0.2.3")
    world.key.refresh_from_db()
    assert world.key.last_used_at > first and world.key.last_used_ip == "192.0.2.3"


def test_disabling_takes_effect_on_the_next_request(world, api):
    assert api.call("/api/v1/facilities/", world.key).status_code == 200
    ApiKey.objects.filter(pk=world.key.pk).update(is_active=False)
    response = api.call("/api/v1/facilities/", world.key)
    assert (response.status_code, error_code(response)) == (401, "key_disabled")


def test_wrong_secret_of_a_disabled_key_does_not_reveal_it_is_disabled(world, api):
    key = ApiKeyFactory(account=world.facility.account, is_active=False)
    response = api.call(
        "/api/v1/facilities/",
        None,
        HTTP_X_API_KEY=key.api_key,
        HTTP_X_API_SECRET=world.key.plain_secret,
    )
    assert error_code(response) == "invalid_credentials"


def test_expiry_in_the_future_still_works(world, api):
    key = ApiKeyFactory(account=world.facility.account, expires_at=timezone.now() + timedelta(1))
    assert api.call("/api/v1/facilities/", key).status_code == 200


def test_credentials_with_surrounding_spaces(world, api):
    response = api.call(
        "/api/v1/facilities/",
        HTTP_X_API_KEY=f"  {world.key.api_key} ",
        HTTP_X_API_SECRET=f" {world.key.plain_secret}  ",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Basic", "Basic Zm9v", "Basic OnNlY3JldA==", "Basic a2V5Og==", "Basic //79/g==", "Digest x"],
)
def test_malformed_authorization_header(world, api, authorization):
    response = api.call("/api/v1/facilities/", HTTP_AUTHORIZATION=authorization)
    assert (response.status_code, error_code(response)) == (401, "invalid_credentials")


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_allowed_ips_use_x_forwarded_for_only_from_a_trusted_proxy(world, api):
    key = ApiKeyFactory(account=world.facility.account, allowed_ips=["192.0.2.0/24"])
    via_proxy = api.call(
        "/api/v1/facilities/", key, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.5"
    )
    assert via_proxy.status_code == 200
    forged = api.call(
        "/api/v1/facilities/", key, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.5"
    )
    assert (forged.status_code, error_code(forged)) == (403, "ip_not_allowed")


def test_allowed_ips_with_ipv6(world, api):
    key = ApiKeyFactory(account=world.facility.account, allowed_ips=["2001:db8::/32"])
    assert api.call("/api/v1/facilities/", key, REMOTE_ADDR="2001:db8::1").status_code == 200
    assert api.call("/api/v1/facilities/", key, REMOTE_ADDR="2001:db9::1").status_code == 403


def test_portal_session_does_not_change_what_a_key_sees(world, api, other_account_owner):
    """A signed-in portal user of another account calling with a key: the key decides."""
    api.force_login(other_account_owner)
    response = api.call("/api/v1/facilities/", world.key)
    assert {f["facility_id"] for f in response.data["data"]} == {
        world.facility.facility_id,
        world.sibling.facility_id,
    }


# --- Units: filters and pagination -----------------------------------------------------------


@pytest.fixture
def many_units(world):
    """A101 (from the world) plus 24 more: B100..B123, every third one without a lock."""
    statuses = [LockStatus.ASSIGNED_OVERLOCK, LockStatus.ASSIGNED_VACANT, None]
    for n in range(24):
        unit = UnitFactory(facility=world.facility, unit_number=f"B{100 + n}")
        if statuses[n % 3] is not None:
            assigned_lock(unit, statuses[n % 3], serial=f"HB{n:06d}")
    return world


def test_units_list_has_each_lock_as_a_lookup_shows_it_but_never_a_code(many_units, api):
    response = api.call(_units_url(many_units, limit=200), many_units.key)
    assert response.status_code == 200
    rows = response.data["data"]
    assert len(rows) == 25 and response.data["next"] is None
    assert rows[0] == {
        "unit_number": "A101",
        "facility_id": many_units.facility.facility_id,
        "lock": {
            "serial": "HD000001",
            "status": "assigned_overlock",
            "status_label": "Assigned Overlock",
            "unit_number": "A101",
            "facility_id": many_units.facility.facility_id,
            "updated_at": rows[0]["lock"]["updated_at"],
        },
    }
    assert all("unlock_code" not in (row["lock"] or {}) for row in rows)
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()


def test_following_next_walks_every_unit_once_in_order(many_units, api):
    seen, url, pages = [], _units_url(many_units, limit=7, status="assigned_overlock"), 0
    expected = ["A101"] + [f"B{100 + n}" for n in range(0, 24, 3)]
    while url:
        response = api.call(url, many_units.key)
        assert response.status_code == 200
        seen += [row["unit_number"] for row in response.data["data"]]
        url, pages = response.data["next"], pages + 1
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["status"] == ["assigned_overlock"] and query["limit"] == ["7"]
    assert seen == expected
    assert pages == 2


def test_default_page_size_is_50(world, api):
    for n in range(60):
        UnitFactory(facility=world.facility, unit_number=f"Z{n:03d}")
    first = api.call(_units_url(world), world.key)
    assert len(first.data["data"]) == 50
    second = api.call(first.data["next"], world.key)
    assert len(second.data["data"]) == 11 and second.data["next"] is None


@pytest.mark.parametrize(
    ("q", "expected"),
    [("a10", ["A101"]), ("hb000013", ["B113"]), ("b12", ["B120", "B121", "B122", "B123"])],
)
def test_q_searches_unit_number_and_serial(many_units, api, q, expected):
    response = api.call(_units_url(many_units, q=q), many_units.key)
    assert [row["unit_number"] for row in response.data["data"]] == expected


def test_status_filter(many_units, api):
    response = api.call(_units_url(many_units, status="assigned_vacant"), many_units.key)
    rows = response.data["data"]
    assert len(rows) == 8
    assert {row["lock"]["status"] for row in rows} == {"assigned_vacant"}


def test_list_of_a_facility_with_no_units(world, api):
    empty = FacilityFactory(account=world.facility.account)
    response = api.call(f"/api/v1/facilities/{empty.facility_id}/units/", world.key)
    assert response.data == {"data": [], "next": None}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"status": "available"}, "status"),
        ({"status": "nonsense"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "١٢"}, "limit"),
        ({"q": "x" * 41}, "q"),
        ({"q": "A%00"}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": encode_cursor("A\x00")}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of [] : valid JSON, not a cursor
    ],
)
def test_bad_parameters_are_a_clear_400(world, api, params, name):
    response = api.call(_units_url(world, **params), world.key)
    assert (response.status_code, error_code(response)) == (400, "invalid_parameter")
    assert name in response.data["error"]["message"]


def test_bad_parameters_are_checked_after_authentication(world, api):
    response = api.call(_units_url(world, status="nonsense"))
    assert error_code(response) == "missing_credentials"


def test_scope_changes_apply_to_the_next_lookup(world, api):
    """Selection and Include in API are read on every request, never remembered."""
    key = ApiKeyFactory(account=world.facility.account, facilities=[world.sibling])
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    assert api.call(url, key).status_code == 404
    key.facilities.set([world.facility])
    assert api.call(url, key).status_code == 200
    world.facility.include_in_api = False
    world.facility.save()
    assert api.call(url, key).status_code == 404
    world.facility.include_in_api = True
    world.facility.save()
    assert api.call(url, key).status_code == 200
