"""A released overlock (Returned to Dropbox) keeps its unit, so a call center looking the unit
up through the API gets the code the paid tenant needs: by unit, by serial, and in the list."""

import pytest
from django.urls import reverse

from facilities.models import LockEvent, LockStatus
from tests.api.conftest import lock_in
from tests.conftest import signed_in


@pytest.fixture
def released(world):
    lock = world.lock
    lock.status = LockStatus.RETURNED_TO_DROPBOX
    lock.save()
    return lock


def test_unit_lookup_returns_the_released_lock_with_its_code(world, api, released):
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    response = api.call(url, world.key)
    assert response.status_code == 200
    lock = response.data["data"]["lock"]
    assert (lock["serial"], lock["status"], lock["status_label"]) == (
        released.serial,
        "returned_to_dropbox",
        "Returned to Dropbox",
    )
    assert (lock["unlock_code"], lock["unlock_code_withheld"], lock["unit_number"]) == (
        "1234",
        None,
        "A101",
    )
    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_LOOKED_UP)
    assert (event.lock, event.unit, event.api_key) == (released, world.unit, world.key)


def test_lock_lookup_returns_the_released_lock_with_its_unit_and_code(world, api, released):
    url = f"/api/v1/facilities/{world.facility.facility_id}/locks/{released.serial}/"
    data = api.call(url, world.key).data["data"]
    assert (data["status"], data["unit_number"], data["unlock_code"]) == (
        "returned_to_dropbox",
        "A101",
        "1234",
    )
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP, lock=released).count() == 1


def test_units_can_be_filtered_by_returned_to_dropbox(world, api, released):
    lock_in(world.facility, "B200", LockStatus.ASSIGNED_OVERLOCK, "HD000200")
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/?status=returned_to_dropbox"
    response = api.call(url, world.key)
    assert response.status_code == 200
    assert [(row["unit_number"], row["lock"]["status"]) for row in response.data["data"]] == [
        ("A101", "returned_to_dropbox")
    ]


def test_a_unit_released_through_the_portal_answers_with_its_code(world, api, owner):
    client = signed_in(owner)
    response = client.post(reverse("facilities:lock_release", args=[world.lock.pk]))
    assert response.status_code == 302

    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    lock = api.call(url, world.key).data["data"]["lock"]
    assert (lock["status"], lock["unlock_code"]) == ("returned_to_dropbox", "1234")
    kinds = list(
        LockEvent.objects.filter(lock=world.lock).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == [LockEvent.Kind.RELEASED, LockEvent.Kind.CODE_LOOKED_UP]


def test_once_set_available_the_unit_has_no_lock(world, api, released, owner):
    client = signed_in(owner)
    client.post(reverse("facilities:lock_unassign", args=[released.pk]), {"status": "available"})
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    assert api.call(url, world.key).data["data"]["lock"] is None
