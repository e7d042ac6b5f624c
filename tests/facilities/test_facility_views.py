"""Facilities list, create/edit, and the facility page (units) and its Locks tab."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci import crypto
from facilities.models import UNIT_STATUSES, Facility, Lock, LockStatus, Unit
from facilities.views.common import PER_PAGE
from tests.factories import FacilityFactory, LockFactory, UnitFactory


def _detail(facility, **params):
    return reverse("facilities:facility_detail", args=[facility.pk]), params


# --- List -------------------------------------------------------------------------------------


def test_list_shows_the_accounts_facilities_with_counts(owner_client, facility, unit, lock):
    body = owner_client.get(reverse("facilities:facility_list")).content.decode()
    assert facility.name in body and facility.facility_id in body
    assert reverse("facilities:facility_detail", args=[facility.pk]) in body
    assert "Add facility" in body


def test_list_hides_add_for_call_center_users(call_center_client, facility):
    body = call_center_client.get(reverse("facilities:facility_list")).content.decode()
    assert facility.name in body and "Add facility" not in body


def test_list_counts_without_multiplying_rows(owner_client, account, django_assert_max_num_queries):
    facility = FacilityFactory(account=account)
    units = UnitFactory.create_batch(3, facility=facility)
    for unit in units:
        LockFactory(facility=facility, unit=unit, status=LockStatus.ASSIGNED_VACANT)
    LockFactory.create_batch(2, facility=facility)
    FacilityFactory.create_batch(20, account=account)
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("facilities:facility_list"))
    row = next(f for f in response.context["page"].object_list if f.pk == facility.pk)
    assert (row.unit_count, row.lock_count) == (3, 5)


def test_the_last_page_counts_its_own_facilities(owner_client, account):
    FacilityFactory.create_batch(PER_PAGE, account=account, name="Alpha")
    last = FacilityFactory(account=account, name="Zulu")
    units = UnitFactory.create_batch(2, facility=last)
    LockFactory(facility=last, unit=units[0], status=LockStatus.ASSIGNED_OVERLOCK)
    LockFactory(facility=last, status=LockStatus.AVAILABLE)
    response = owner_client.get(reverse("facilities:facility_list"), {"page": 2})
    rows = list(response.context["page"].object_list)
    assert [row.pk for row in rows] == [last.pk]
    assert (rows[0].unit_count, rows[0].lock_count, rows[0].limit_count) == (2, 2, 1)


# --- Create and edit --------------------------------------------------------------------------


def test_create_makes_a_facility_with_an_id_included_in_the_api(owner_client, account):
    response = owner_client.post(
        reverse("facilities:facility_create"), {"name": "Harbor North", "address": "9 Pier Rd"}
    )
    facility = Facility.objects.get(account=account, name="Harbor North")
    assert response.status_code == 302
    assert response.url == reverse("facilities:facility_detail", args=[facility.pk])
    assert facility.include_in_api and len(facility.facility_id) == 16
    page = owner_client.get(response.url).content.decode()
    assert facility.facility_id in page
    assert f"Its Facility ID is {facility.facility_id}" in page


def test_a_new_facility_is_in_the_integrations_facilities_tab_at_once(owner_client, account):
    owner_client.post(reverse("facilities:facility_create"), {"name": "Harbor North"})
    facility = Facility.objects.get(account=account, name="Harbor North")
    body = owner_client.get(reverse("integrations:facility_list")).content.decode()
    assert facility.facility_id in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 201}, "at most 200 characters"),
        ({"name": "harbor downtown"}, "You already have a facility with this name."),
    ],
)
def test_create_with_bad_input_shows_the_error(owner_client, facility, data, message):
    response = owner_client.post(reverse("facilities:facility_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Facility.objects.count() == 1


def test_the_same_name_is_fine_in_another_account(owner_client, other_facility):
    response = owner_client.post(reverse("facilities:facility_create"), {"name": "Rival North"})
    assert response.status_code == 302


def test_edit_saves_name_and_address(admin_client, facility):
    before = facility.facility_id
    response = admin_client.post(
        reverse("facilities:facility_edit", args=[facility.pk]),
        {"name": "Harbor Central", "address": "1 Main St"},
    )
    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.name, facility.address, facility.facility_id) == (
        "Harbor Central",
        "1 Main St",
        before,
    )


def test_edit_keeps_its_own_name_but_refuses_a_siblings(owner_client, facility, account):
    FacilityFactory(account=account, name="Harbor Eastside")
    url = reverse("facilities:facility_edit", args=[facility.pk])
    assert owner_client.post(url, {"name": facility.name}).status_code == 302
    response = owner_client.post(url, {"name": "Harbor Eastside"})
    assert "You already have a facility with this name." in response.content.decode()


# --- The facility page ------------------------------------------------------------------------


@pytest.fixture
def mixed(facility):
    """Units A101 (overlock HD000101), A102 (auction HD000102), B201 (no lock)."""
    a101 = UnitFactory(facility=facility, unit_number="A101", tenant_name="Avery Johnson")
    a102 = UnitFactory(facility=facility, unit_number="A102")
    UnitFactory(facility=facility, unit_number="B201")
    LockFactory(
        facility=facility,
        unit=a101,
        serial="HD000101",
        status=LockStatus.ASSIGNED_OVERLOCK,
        code="8642",
    )
    LockFactory(
        facility=facility,
        unit=a102,
        serial="HD000102",
        status=LockStatus.ASSIGNED_AUCTION,
        code="9753",
    )
    return facility


def _units(client, facility, **params) -> list[str]:
    response = client.get(reverse("facilities:facility_detail", args=[facility.pk]), params)
    assert response.status_code == 200
    return [unit.unit_number for unit in response.context["page"].object_list]


def test_the_page_lists_units_with_their_lock_and_masks_codes(owner_client, mixed):
    response = owner_client.get(reverse("facilities:facility_detail", args=[mixed.pk]))
    body = response.content.decode()
    assert _units(owner_client, mixed) == ["A101", "A102", "B201"]
    assert "HD000101" in body and "Assigned Overlock" in body and "Avery Johnson" in body
    assert "No lock" in body
    assert "••••" in body
    assert "8642" not in body and "9753" not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "assigned_overlock"}, ["A101"]),
        ({"status": "assigned_auction"}, ["A102"]),
        ({"status": "none"}, ["B201"]),
        ({"q": "a10"}, ["A101", "A102"]),
        ({"q": "hd000102"}, ["A102"]),
        ({"q": "A1", "status": "assigned_overlock"}, ["A101"]),
        ({"q": "zzz"}, []),
    ],
)
def test_filter_by_status_and_search_by_unit_number_or_serial(
    owner_client, mixed, params, expected
):
    assert _units(owner_client, mixed, **params) == expected


def test_a_bad_filter_is_said_and_shows_everything(owner_client, mixed):
    response = owner_client.get(
        reverse("facilities:facility_detail", args=[mixed.pk]), {"status": "bogus"}
    )
    assert response.status_code == 200
    assert "The filter was not understood" in response.content.decode()
    assert len(response.context["page"].object_list) == 3


def test_pages_keep_the_filter(owner_client, facility):
    Unit.objects.bulk_create(Unit(facility=facility, unit_number=f"A{n:04d}") for n in range(120))
    url = reverse("facilities:facility_detail", args=[facility.pk])
    response = owner_client.get(url, {"q": "A0", "page": 2})
    page = response.context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (2, 3, 50)
    assert "q=A0&amp;page=3" in response.content.decode()
    assert owner_client.get(url, {"page": "999"}).context["page"].number == 3
    assert owner_client.get(url, {"page": "x"}).context["page"].number == 1


def _bulk_facility(facility, size: int, prefix: str) -> None:
    """`size` units, most with a lock, in a handful of INSERTs."""
    token = crypto.encrypt("1234")
    units = Unit.objects.bulk_create(
        Unit(facility=facility, unit_number=f"U{n:05d}", tenant_name=f"Tenant {n}")
        for n in range(size)
    )
    statuses = sorted(UNIT_STATUSES)
    Lock.objects.bulk_create(
        Lock(
            account=facility.account,
            facility=facility,
            serial=f"{prefix}{n:06d}",
            unlock_code_encrypted=token,
            status=statuses[n % len(statuses)],
            unit=unit,
        )
        for n, unit in enumerate(units)
        if n % 5
    )


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_the_page_of_5000_units_renders_in_as_many_queries_as_for_5(owner_client, account):
    small, large = FacilityFactory(account=account), FacilityFactory(account=account)
    _bulk_facility(small, 5, "SM")
    _bulk_facility(large, 5000, "LG")
    assert large.units.count() == 5000

    for params in [{}, {"page": "60"}, {"status": "assigned_overlock"}, {"q": "U0000"}]:
        small_url = reverse("facilities:facility_detail", args=[small.pk])
        large_url = reverse("facilities:facility_detail", args=[large.pk])
        expected = _count_queries(owner_client, small_url, params)
        assert _count_queries(owner_client, large_url, params) == expected, params
        assert expected <= 9

    small_locks = reverse("facilities:facility_locks", args=[small.pk])
    large_locks = reverse("facilities:facility_locks", args=[large.pk])
    assert _count_queries(owner_client, large_locks) == _count_queries(owner_client, small_locks)


# --- The Locks tab ----------------------------------------------------------------------------


def test_the_locks_tab_lists_every_lock_with_filter_and_search(owner_client, mixed):
    LockFactory(facility=mixed, serial="HD000900", status=LockStatus.ON_DROPBOX)
    url = reverse("facilities:facility_locks", args=[mixed.pk])

    def serials(**params):
        return [lock.serial for lock in owner_client.get(url, params).context["page"]]

    assert serials() == ["HD000101", "HD000102", "HD000900"]
    assert serials(status="on_dropbox") == ["HD000900"]
    assert serials(q="a101") == ["HD000101"]
    body = owner_client.get(url).content.decode()
    assert "1 On Dropbox" in body and "8642" not in body


def test_call_center_users_see_auction_codes_as_withheld(call_center_client, mixed):
    body = call_center_client.get(
        reverse("facilities:facility_detail", args=[mixed.pk])
    ).content.decode()
    assert "Withheld" in body
    assert (
        reverse("facilities:lock_reveal", args=[Lock.objects.get(serial="HD000102").pk]) not in body
    )
    assert "Add unit" not in body and "Import CSV" not in body
