"""The two writes: Release overlock and Set lock status by API (issue 23's acceptance 1 and 2),
through the same services as the portal, each leaving one LockEvent naming the key and IP."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from facilities.models import UNIT_STATUSES, LockEvent, LockStatus
from integrations.models import IdempotencyKey
from tests.api.conftest import error_code, key_headers, lock_in
from tests.factories import ApiKeyFactory

IP = "192.0.2.77"
CALL_CENTER = ["read", "release", "set_status"]


def release_url(world, unit=None) -> str:
    unit = unit or world.unit
    return f"/api/v1/facilities/{world.facility.facility_id}/units/{unit.unit_number}/release/"


def status_url(world, lock=None) -> str:
    lock = lock or world.lock
    return f"/api/v1/facilities/{world.facility.facility_id}/locks/{lock.serial}/status/"


def write(api, url, key, body, idempotency_key="idem-1", **extra):
    return api.call(
        url,
        method="post",
        data=json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=IP,
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
        **key_headers(key),
        **extra,
    )


@pytest.fixture
def key(world):
    return ApiKeyFactory(account=world.facility.account, permissions=CALL_CENTER)


def released(world) -> list[LockEvent]:
    return list(LockEvent.objects.filter(lock=world.lock, kind=LockEvent.Kind.RELEASED))


def test_release_answers_the_unit_with_its_code_and_sends_the_notice(
    world, api, key, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = write(api, release_url(world), key, {})
    assert response.status_code == 200, response.data
    data = response.data["data"]
    assert (data["unit_number"], data["lock"]["serial"]) == ("A101", world.lock.serial)
    assert (data["lock"]["status"], data["lock"]["unlock_code"]) == ("returned_to_dropbox", "1234")
    assert response.data["tenant_notice"] == {
        "requested": True,
        "channels": ["email"],
        "not_sent_reason": None,
    }
    world.lock.refresh_from_db()
    assert world.lock.status == LockStatus.RETURNED_TO_DROPBOX and world.lock.unit == world.unit
    (event,) = released(world)
    assert (event.actor_type, event.api_key, event.ip) == ("api_key", key, IP)
    assert mailoutbox[0].to == [world.unit.tenant_email] and "1234" in mailoutbox[0].body
    sent = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert (sent.api_key, sent.details["notice"]) == (key, "delinquency_paid")
    read = LockEvent.objects.get(kind=LockEvent.Kind.CODE_LOOKED_UP)
    assert (read.api_key, read.ip, read.details["lookup"]) == (key, IP, "release")


def test_the_same_release_again_is_replayed_and_a_new_one_is_refused(world, api, key):
    first = write(api, release_url(world), key, {"notify_tenant": False})
    again = write(api, release_url(world), key, {"notify_tenant": False})
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert len(released(world)) == 1
    # The replay gives the code out again: recorded as another read.
    reads = LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP)
    assert [e.details["lookup"] for e in reads.order_by("id")] == ["release", "replay"]
    new = write(api, release_url(world), key, {"notify_tenant": False}, idempotency_key="idem-2")
    assert (new.status_code, error_code(new)) == (409, "invalid_transition")
    assert "returned_to_dropbox" in new.data["error"]["message"]
    assert len(released(world)) == 1


def test_release_without_notice_sends_nothing(world, api, key, mailoutbox):
    response = write(api, release_url(world), key, {"notify_tenant": False})
    assert response.data["tenant_notice"]["requested"] is False
    assert mailoutbox == [] and not LockEvent.objects.filter(kind="code_sent").exists()


def test_a_unit_without_a_contact_is_released_and_told_so(world, api, key):
    world.unit.tenant_email = world.unit.tenant_phone = ""
    world.unit.save()
    response = write(api, release_url(world), key, {})
    assert response.status_code == 200
    notice = response.data["tenant_notice"]
    assert notice["channels"] == [] and "no email address or phone" in notice["not_sent_reason"]
    assert len(released(world)) == 1


def test_a_key_without_read_releases_without_the_code(world, api):
    key = ApiKeyFactory(account=world.facility.account, permissions=["release"])
    response = write(api, release_url(world), key, {"notify_tenant": False})
    assert response.status_code == 200
    assert "unlock_code" not in response.data["data"]["lock"]
    assert "1234" not in response.content.decode()
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()
    assert not IdempotencyKey.objects.get().disclosed_lock


@pytest.mark.parametrize("url", [release_url, status_url])
def test_a_key_with_only_read_may_not_write(world, api, url):
    key = ApiKeyFactory(account=world.facility.account, permissions=["read"])
    response = write(api, url(world), key, {"status": "tenant_using_lock"})
    assert (response.status_code, error_code(response)) == (403, "insufficient_permission")
    assert not LockEvent.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("status", sorted(set(UNIT_STATUSES) - {LockStatus.ASSIGNED_OVERLOCK}))
def test_only_an_assigned_overlock_is_released(world, api, key, status):
    lock = lock_in(world.facility, "Z9", status, "ZZ000001")
    unit = lock.unit
    response = write(api, release_url(world, unit), key, {})
    assert (response.status_code, error_code(response)) == (409, "invalid_transition")
    assert status in response.data["error"]["message"]
    lock.refresh_from_db()
    assert lock.status == status
    assert not LockEvent.objects.filter(lock=lock).exists()


def test_a_unit_without_a_lock_cannot_be_released(world, api, key):
    from tests.factories import UnitFactory

    unit = UnitFactory(facility=world.facility, unit_number="EMPTY1")
    response = write(api, release_url(world, unit), key, {})
    assert (response.status_code, error_code(response)) == (409, "invalid_transition")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notify_tenant": "yes"}, "notify_tenant"),
        ({"notify_tenant": None}, "notify_tenant"),
        ({"notify": True}, "notify"),
    ],
)
def test_a_bad_release_field_is_named(world, api, key, body, field):
    response = write(api, release_url(world), key, body)
    assert (response.status_code, error_code(response)) == (400, "invalid_body")
    assert field in response.data["error"]["message"]
    assert not released(world)


def test_a_unit_outside_the_scope_is_not_found(world, api, key):
    for facility, unit in ((world.rival, world.rival_unit), (world.excluded, world.excluded_unit)):
        url = f"/api/v1/facilities/{facility.facility_id}/units/{unit.unit_number}/release/"
        response = write(api, url, key, {}, idempotency_key=facility.facility_id)
        assert (response.status_code, error_code(response)) == (404, "not_found")
    assert not LockEvent.objects.exists()


# --- Set lock status ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["returned_to_dropbox", "tenant_using_lock"])
def test_a_key_sets_what_a_call_center_may(world, api, key, status):
    response = write(api, status_url(world), key, {"status": status})
    assert response.status_code == 200, response.data
    assert (response.data["data"]["status"], response.data["data"]["unlock_code"]) == (
        status,
        "1234",
    )
    world.lock.refresh_from_db()
    assert world.lock.status == status
    event = LockEvent.objects.get(kind=LockEvent.Kind.STATUS_CHANGED)
    assert (event.api_key, event.ip, event.to_status) == (key, IP, status)


@pytest.mark.parametrize("status", ["available", "assigned_auction", "damaged", "lost", "bogus"])
def test_another_status_is_an_invalid_body(world, api, key, status):
    response = write(api, status_url(world), key, {"status": status})
    assert (response.status_code, error_code(response)) == (400, "invalid_body")
    assert "status" in response.data["error"]["message"]


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (LockStatus.ASSIGNED_AUCTION, "returned_to_dropbox"),  # never touched
        (LockStatus.AVAILABLE, "tenant_using_lock"),  # not on a unit
        (LockStatus.TENANT_USING_LOCK, "tenant_using_lock"),  # unchanged
    ],
)
def test_a_change_the_call_center_may_not_make_is_refused(world, api, key, current, to):
    lock = lock_in(world.facility, "Y1", current, "YY000001")
    response = write(api, status_url(world, lock), key, {"status": to})
    assert (response.status_code, error_code(response)) == (409, "invalid_transition")
    assert current.value in response.data["error"]["message"]
    lock.refresh_from_db()
    assert lock.status == current and not LockEvent.objects.filter(lock=lock).exists()


def test_a_status_change_without_read_has_no_code(world, api):
    key = ApiKeyFactory(account=world.facility.account, permissions=["set_status"])
    response = write(api, status_url(world), key, {"status": "tenant_using_lock"})
    assert response.status_code == 200 and "unlock_code" not in response.data["data"]


def test_writes_show_on_the_lock_history_page(world, api, key, owner_client):
    write(api, release_url(world), key, {"notify_tenant": False})
    page = owner_client.get(reverse("facilities:lock_detail", args=[world.lock.pk]))
    body = page.content.decode()
    assert "Overlock released" in body and key.api_key in body and IP in body
