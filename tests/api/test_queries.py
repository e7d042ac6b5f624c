"""Acceptance 2: query budgets. A unit lookup is at most 4 queries including the LockEvent
insert; list endpoints cost the same whatever the page size or the number of facilities."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities.models import LockEvent, LockStatus
from tests.api.conftest import lock_in
from tests.factories import FacilityFactory, UnitFactory, assigned_lock


def _count(api, url, key) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.call(url, key)
    assert response.status_code == 200, response.data
    return len(queries)


def test_unit_lookup_is_at_most_four_queries(world, api, django_assert_max_num_queries):
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    # The first call of the minute also records last_used_at: key, touch, unit+lock, insert
    # (on PostgreSQL the read and the insert are one statement: 3).
    with django_assert_max_num_queries(4) as queries:
        response = api.call(url, world.key)
    assert response.data["data"]["lock"]["unlock_code"] == "1234"
    assert any("INSERT INTO" in q["sql"].upper() for q in queries.captured_queries)
    # Later calls in the same minute skip the touch.
    with django_assert_max_num_queries(3):
        api.call(url, world.key)
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count() == 2


def test_lock_lookup_is_at_most_four_queries(world, api, django_assert_max_num_queries):
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{world.lock.serial}/"
    with django_assert_max_num_queries(4):
        assert api.call(url, world.key).data["data"]["unlock_code"] == "1234"


def test_withheld_lookup_needs_no_insert(world, api, django_assert_max_num_queries):
    lock_in(world.facility, "A200", LockStatus.ASSIGNED_AUCTION, "HD000200")
    api.call("/api/v1/facilities/", world.key)  # spend this minute's touch
    with django_assert_max_num_queries(2):
        api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/A200/", world.key)


def test_units_list_queries_do_not_grow_with_page_size(world, api):
    for n in range(60):
        unit = UnitFactory(facility=world.facility, unit_number=f"B{n:03d}")
        if n % 2:
            assigned_lock(unit, serial=f"HB{n:06d}")
    api.call("/api/v1/facilities/", world.key)  # spend this minute's touch
    base = f"/api/v1/facilities/{world.facility.facility_id}/units/"
    small = _count(api, f"{base}?limit=2", world.key)
    large = _count(api, f"{base}?limit=200", world.key)
    filtered = _count(api, f"{base}?limit=200&q=B0&status=assigned_overlock", world.key)
    assert small == large == filtered == 3  # key, facility, page


def test_facility_list_queries_do_not_grow_with_facilities(world, api):
    api.call("/api/v1/facilities/", world.key)  # spend this minute's touch
    few = _count(api, "/api/v1/facilities/", world.key)
    for _ in range(30):
        FacilityFactory(account=world.facility.account)
    many = _count(api, "/api/v1/facilities/", world.key)
    assert few == many == 2  # key, facilities


def test_facility_list_pages_cost_the_same_anywhere(world, api):
    for _ in range(30):
        FacilityFactory(account=world.facility.account)
    api.call("/api/v1/facilities/", world.key)  # spend this minute's touch
    first = api.call("/api/v1/facilities/?limit=5", world.key)
    assert _count(api, "/api/v1/facilities/?limit=5", world.key) == 2
    assert _count(api, first.data["next"], world.key) == 2  # key, page


def test_scoped_key_lookup_is_still_at_most_four_queries(world, api, django_assert_max_num_queries):
    from tests.factories import ApiKeyFactory

    key = ApiKeyFactory(account=world.facility.account, facilities=[world.facility])
    with django_assert_max_num_queries(4):
        response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/A101/", key)
    assert response.status_code == 200
