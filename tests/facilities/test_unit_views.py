"""Units: add, edit, the unit page, and assigning a lock from it."""

import pytest
from django.urls import reverse

from facilities.history import Actor
from facilities.models import Lock, LockEvent, LockStatus, Unit
from tests.factories import FacilityFactory, LockFactory, UnitFactory

TENANT = {
    "tenant_name": "Avery Johnson",
    "tenant_email": "avery@example.com",
    "tenant_phone": "(603) 555-0101",
}


def test_add_a_unit(owner_client, facility):
    response = owner_client.post(
        reverse("facilities:unit_create", args=[facility.pk]), {"unit_number": "007", **TENANT}
    )
    unit = Unit.objects.get(facility=facility)
    assert response.status_code == 302
    assert response.url == reverse("facilities:unit_detail", args=[unit.pk])
    assert (unit.unit_number, unit.tenant_email) == ("007", "avery@example.com")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unit_number": ""}, "This field is required."),
        ({"unit_number": "A/1"}, "no slashes"),
        ({"unit_number": "A101"}, "already has a unit A101"),
        ({"unit_number": "A9", "tenant_email": "not-an-email"}, "Enter a valid email address."),
        ({"unit_number": "A9", "tenant_phone": "call me"}, "Enter a phone number"),
        ({"unit_number": "A9", "tenant_phone": "12"}, "Enter a phone number"),
    ],
)
def test_add_a_unit_with_bad_input_shows_the_error(owner_client, unit, data, message):
    response = owner_client.post(reverse("facilities:unit_create", args=[unit.facility.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Unit.objects.count() == 1


def test_edit_a_unit(manager_client, unit):
    response = manager_client.post(
        reverse("facilities:unit_edit", args=[unit.pk]), {"unit_number": "A101", **TENANT}
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.tenant_phone == "+16035550101"  # kept in E.164 whatever was typed


def test_edit_refuses_a_number_taken_in_the_same_facility(owner_client, unit):
    other = UnitFactory(facility=unit.facility, unit_number="A102")
    response = owner_client.post(
        reverse("facilities:unit_edit", args=[other.pk]), {"unit_number": "A101"}
    )
    assert "already has a unit A101" in response.content.decode()
    other.refresh_from_db()
    assert other.unit_number == "A102"


def test_unit_page_shows_tenant_lock_and_masked_code(owner_client, overlocked):
    body = owner_client.get(
        reverse("facilities:unit_detail", args=[overlocked.unit.pk])
    ).content.decode()
    assert overlocked.serial in body and "Assigned Overlock" in body and "••••" in body
    assert "2468" not in body


def test_unit_page_offers_the_facilitys_available_locks(owner_client, unit, lock, facility):
    LockFactory(facility=facility, serial="HD000777", status=LockStatus.DAMAGED)
    response = owner_client.get(reverse("facilities:unit_detail", args=[unit.pk]))
    assert list(response.context["available_serials"]) == [lock.serial]
    assert "Assign lock" in response.content.decode()


def test_assign_a_lock_to_a_unit_as_assigned_overlock(owner_client, unit, lock):
    response = owner_client.post(
        reverse("facilities:unit_assign_lock", args=[unit.pk]),
        {"lock": lock.serial.lower(), "status": "assigned_overlock"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    lock.refresh_from_db()
    assert (lock.unit, lock.status) == (unit, LockStatus.ASSIGNED_OVERLOCK)
    event = LockEvent.objects.get(lock=lock)
    assert (event.kind, event.ip, event.unit) == ("assigned", "198.51.100.7", unit)
    page = owner_client.get(response.url).content.decode()
    assert f"Lock {lock.serial} is on unit {unit.unit_number}: Assigned Overlock." in page


def test_assign_a_lock_kept_at_another_facility_moves_it(owner_client, unit, account):
    annex_lock = LockFactory(facility=FacilityFactory(account=account), serial="AX000001")
    owner_client.post(
        reverse("facilities:unit_assign_lock", args=[unit.pk]),
        {"lock": "AX000001", "status": "assigned_vacant"},
    )
    annex_lock.refresh_from_db()
    assert (annex_lock.facility, annex_lock.unit) == (unit.facility, unit)


@pytest.mark.parametrize(
    ("serial", "status", "message"),
    [
        ("", "assigned_overlock", "This field is required."),
        ("NOPE0000", "assigned_overlock", "Your account has no lock with this serial."),
        ("RV000001", "assigned_overlock", "Your account has no lock with this serial."),
        ("HD000202", "assigned_overlock", "is already on unit B202"),
        ("HD000555", "assigned_overlock", "only Available locks can be assigned"),
        ("HD000001", "available", "Select a valid choice."),
    ],
)
def test_assign_with_bad_input_shows_the_error(
    owner_client, unit, lock, overlocked, other_lock, facility, serial, status, message
):
    LockFactory(facility=facility, serial="HD000555", status=LockStatus.LOST)
    response = owner_client.post(
        reverse("facilities:unit_assign_lock", args=[unit.pk]), {"lock": serial, "status": status}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LockEvent.objects.exists()
    assert not Lock.objects.filter(unit=unit).exists()


def test_assign_to_a_unit_that_has_a_lock_is_refused(owner_client, overlocked, lock):
    response = owner_client.post(
        reverse("facilities:unit_assign_lock", args=[overlocked.unit.pk]),
        {"lock": lock.serial, "status": "assigned_overlock"},
    )
    assert "Unit B202 already has lock HD000202. Unassign it first." in response.content.decode()
    assert not LockEvent.objects.exists()


def test_unit_page_lists_the_units_lock_history(owner_client, overlocked, owner):
    from facilities import services

    services.lock_status_change(
        lock=overlocked,
        status=LockStatus.ASSIGNED_AUCTION,
        actor=Actor.for_user(owner, ip="192.0.2.1"),
    )
    body = owner_client.get(
        reverse("facilities:unit_detail", args=[overlocked.unit.pk])
    ).content.decode()
    assert "Status changed" in body and "192.0.2.1" in body


@pytest.mark.parametrize(
    "typed",
    ["(603) 555-0142", "603.555.0142", "+1 603 555 0142", "1-603-555-0142", "+16035550142"],
)
def test_a_phone_number_is_kept_in_e164_however_it_is_typed(manager_client, unit, typed):
    response = manager_client.post(
        reverse("facilities:unit_edit", args=[unit.pk]),
        {"unit_number": "A101", **TENANT, "tenant_phone": typed},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.tenant_phone == "+16035550142"


def test_a_number_outside_the_default_region_needs_its_country_code(manager_client, unit, settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    url = reverse("facilities:unit_edit", args=[unit.pk])
    manager_client.post(url, {"unit_number": "A101", **TENANT, "tenant_phone": "020 7946 0958"})
    unit.refresh_from_db()
    assert unit.tenant_phone == "+442079460958"
