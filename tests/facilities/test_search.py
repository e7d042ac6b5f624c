"""The search box in the top navigation: a serial or unit number across the account."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilities.models import LockStatus
from facilities.views.units import SEARCH_LIMIT
from tests.factories import FacilityFactory, LockFactory, UnitFactory, assigned_lock

SEARCH = reverse("facilities:search")


def test_the_search_box_is_in_the_navigation_of_member_pages(owner_client, facility):
    for url in (reverse("facilities:facility_list"), reverse("integrations:facility_list")):
        body = owner_client.get(url).content.decode()
        assert f'action="{SEARCH}"' in body and 'placeholder="Serial or unit number"' in body


def test_the_sign_in_page_has_no_search_box(client):
    assert SEARCH not in client.get(reverse("accounts:login")).content.decode()


def test_an_exact_serial_opens_its_lock(owner_client, overlocked):
    response = owner_client.get(SEARCH, {"q": " hd000202 "})
    assert response.status_code == 302
    assert response.url == reverse("facilities:lock_detail", args=[overlocked.pk])


def test_a_unit_number_is_found_in_every_facility_of_the_account(
    owner_client, account, facility, other_facility
):
    annex = FacilityFactory(account=account, name="Harbor Annex")
    UnitFactory(facility=facility, unit_number="A101")
    UnitFactory(facility=annex, unit_number="A101")
    UnitFactory(facility=other_facility, unit_number="A101")
    response = owner_client.get(SEARCH, {"q": "a101"})
    units = response.context["units"]
    assert sorted(unit.facility.name for unit in units) == ["Harbor Annex", "Harbor Downtown"]
    assert "Rival North" not in response.content.decode()


def test_part_of_a_serial_lists_matching_locks_without_codes(owner_client, facility, other_lock):
    LockFactory(facility=facility, serial="HD000011", code="8181")
    LockFactory(facility=facility, serial="HD000012", code="8282")
    response = owner_client.get(SEARCH, {"q": "000"})
    assert [lock.serial for lock in response.context["locks"]] == ["HD000011", "HD000012"]
    body = response.content.decode()
    assert "RV000001" not in body and "8181" not in body and "••••" in body


def test_nothing_found_says_so(owner_client, facility):
    body = owner_client.get(SEARCH, {"q": "nothing"}).content.decode()
    assert "No lock serial contains “nothing”" in body
    assert "No unit number contains “nothing”" in body


def test_an_empty_or_huge_query_is_harmless(owner_client, facility):
    assert owner_client.get(SEARCH).status_code == 200
    assert owner_client.get(SEARCH, {"q": "x" * 10_000}).status_code == 200


def test_search_runs_in_a_few_queries(owner_client, facility, django_assert_max_num_queries):
    for n in range(60):
        LockFactory(
            facility=facility,
            unit=UnitFactory(facility=facility, unit_number=f"QRS{n}"),
            status="assigned_vacant",
        )
    with django_assert_max_num_queries(8):
        response = owner_client.get(SEARCH, {"q": "QRS"})
    assert len(response.context["units"]) == 50  # the first 50, and a note to narrow it down
    assert "type more of the unit number" in response.content.decode()


def _search_queries(client, q: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        client.get(SEARCH, {"q": q})
    return [query["sql"] for query in captured.captured_queries]


def test_search_costs_the_same_with_3_and_30_facilities(owner_client, account):
    facilities = [FacilityFactory(account=account) for _ in range(30)]
    for facility in facilities[:3]:
        assigned_lock(UnitFactory(facility=facility, unit_number="B202"))
    few = len(_search_queries(owner_client, "B20"))
    for facility in facilities[3:]:
        assigned_lock(UnitFactory(facility=facility, unit_number="B202"))
    assert len(_search_queries(owner_client, "B20")) == few
    assert len(owner_client.get(SEARCH, {"q": "B20"}).context["units"]) == 30


def test_an_exact_serial_is_one_indexed_equality_and_opens_the_lock(owner_client, overlocked):
    queries = _search_queries(owner_client, overlocked.serial.lower())
    [serial_query] = [sql for sql in queries if "facilities_lock" in sql]
    assert f"\"serial\" = '{overlocked.serial}'" in serial_query
    assert "LIKE" not in serial_query.upper()


def test_an_exact_unit_number_comes_before_numbers_that_contain_it(owner_client, facility):
    for number in ("A1010", "A101", "BA101"):
        UnitFactory(facility=facility, unit_number=number)
    units = owner_client.get(SEARCH, {"q": "a101"}).context["units"]
    assert [unit.unit_number for unit in units] == ["A101", "A1010", "BA101"]


def test_more_matches_than_the_limit_show_the_first_in_order_with_their_locks(
    owner_client, account
):
    for n in range(SEARCH_LIMIT + 5):
        facility = FacilityFactory(account=account, name=f"Facility {n:03d}")
        unit = UnitFactory(facility=facility, unit_number="A101")
        LockFactory(facility=facility, unit=unit, status=LockStatus.ASSIGNED_VACANT)
    UnitFactory(facility=facility, unit_number="A1019")
    units = owner_client.get(SEARCH, {"q": "A101"}).context["units"]
    assert len(units) == SEARCH_LIMIT
    assert [unit.facility.name for unit in units] == [
        f"Facility {n:03d}" for n in range(SEARCH_LIMIT)
    ]
    assert all(unit.lock.status == LockStatus.ASSIGNED_VACANT for unit in units)


def test_a_query_shorter_than_three_characters_finds_exact_unit_numbers_only(
    owner_client, facility
):
    for number in ("7", "17", "70"):
        UnitFactory(facility=facility, unit_number=number)
    response = owner_client.get(SEARCH, {"q": "7"})
    assert [unit.unit_number for unit in response.context["units"]] == ["7"]
    assert "at least 3 characters" in response.content.decode()
