"""Query budgets: the Team list is constant from 1 to 200 members, and facility access adds
no query per row: the existing pages keep their budgets for a member with chosen facilities."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci.accounts.models import AuditEvent, Role
from facilities.models import LockEvent, LockStatus
from tests.conftest import signed_in
from tests.factories import (
    ApiKeyFactory,
    FacilityFactory,
    LockFactory,
    MembershipFactory,
    UnitFactory,
)


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured.captured_queries)


def _add_members(account, facilities, n):
    for i in range(n):
        member = MembershipFactory(
            account=account, role=Role.CLIENT_CALL_CENTER, all_facilities=i % 2 == 0
        )
        if i % 2:
            member.facilities.set(facilities)


@pytest.mark.parametrize("client_fixture", ["owner_client", "facility_restricted_client"])
def test_the_team_list_is_constant_from_1_to_200_members(
    request, account, second_facility, client_fixture
):
    client = request.getfixturevalue(client_fixture)
    url = reverse("team:member_list")
    _add_members(account, [second_facility], 1)
    one = _queries(client, url)
    _add_members(account, [second_facility, FacilityFactory(account=account)], 199)
    assert _queries(client, url) == one
    assert one <= 8


@pytest.fixture
def chosen(account, facility, second_facility):
    """A Client Admin with chosen facilities: the one the filters narrow (both facilities,
    so the pages show the same rows as to the owner)."""
    member = MembershipFactory(account=account, role=Role.CLIENT_ADMIN, all_facilities=False)
    member.facilities.set([facility, second_facility])
    FacilityFactory.create_batch(5, account=account)  # outside their access
    return signed_in(member.user)


def test_facility_list_budget(chosen, account, facility):
    for _ in range(3):
        LockFactory(
            facility=facility,
            unit=UnitFactory(facility=facility),
            status=LockStatus.ASSIGNED_VACANT,
        )
    assert _queries(chosen, reverse("facilities:facility_list")) <= 8


def test_search_budget(chosen, facility):
    for n in range(60):
        LockFactory(
            facility=facility,
            unit=UnitFactory(facility=facility, unit_number=f"Q{n}"),
            status="assigned_vacant",
        )
    assert _queries(chosen, reverse("facilities:search"), q="Q") <= 8


def test_facility_pages_budget(chosen, facility):
    for n in range(60):
        LockFactory(
            facility=facility,
            unit=UnitFactory(facility=facility, unit_number=f"U{n}"),
            status="assigned_vacant",
        )
    assert _queries(chosen, reverse("facilities:facility_detail", args=[facility.pk])) <= 8
    assert _queries(chosen, reverse("facilities:facility_locks", args=[facility.pk])) <= 8
    assert _queries(chosen, reverse("facilities:facility_export", args=[facility.pk])) <= 8


def test_lock_and_unit_pages_budget(chosen, facility, owner):
    unit = UnitFactory(facility=facility)
    lock = LockFactory(facility=facility, unit=unit, status=LockStatus.ASSIGNED_OVERLOCK)
    LockEvent.objects.bulk_create(
        LockEvent(lock=lock, kind="code_revealed", actor_type="user", actor_user=owner, unit=unit)
        for _ in range(120)
    )
    assert _queries(chosen, reverse("facilities:lock_detail", args=[lock.pk])) <= 12
    assert _queries(chosen, reverse("facilities:unit_detail", args=[unit.pk])) <= 12


def test_integrations_budgets(chosen, account, facility, owner):
    for _ in range(30):
        ApiKeyFactory(account=account, facilities=[facility])
    for _ in range(60):
        AuditEvent.objects.create(
            account=account,
            action="facility_included",
            target_type="facility",
            target_id=facility.facility_id,
        )
    assert _queries(chosen, reverse("integrations:api_settings")) <= 8
    assert _queries(chosen, reverse("integrations:facility_list")) <= 7
    assert _queries(chosen, reverse("integrations:activity")) <= 7
    assert _queries(chosen, reverse("facilities:release_activity")) <= 12
