"""A lock's page, the code reveal, and every lock action from the portal."""

import pytest
from django.urls import reverse

from facilities.history import lock_event_record
from facilities.models import Lock, LockEvent, LockStatus
from tests.conftest import confirmed
from tests.factories import ApiKeyFactory, LockFactory


def _url(name, lock):
    return reverse(f"facilities:{name}", args=[lock.pk])


# --- The page and its history -----------------------------------------------------------------


def test_the_lock_page_masks_the_code(owner_client, overlocked):
    response = owner_client.get(_url("lock_detail", overlocked))
    body = response.content.decode()
    assert overlocked.serial in body and "Reveal code" in body and "••••" in body
    assert "2468" not in body


def test_history_shows_api_lookups_and_tenant_sends(owner_client, overlocked, account, owner):
    key = ApiKeyFactory(account=account, name="Night Call Center")
    lock_event_record(
        lock=overlocked,
        kind=LockEvent.Kind.CODE_LOOKED_UP,
        actor_type=LockEvent.Actor.API_KEY,
        api_key=key,
        unit=overlocked.unit,
        ip="198.51.100.20",
    )
    lock_event_record(
        lock=overlocked,
        kind=LockEvent.Kind.CODE_SENT,
        actor_type=LockEvent.Actor.TENANT_PAGE,
        unit=overlocked.unit,
        ip="198.51.100.30",
        details={"channel": "sms"},
    )
    body = owner_client.get(_url("lock_detail", overlocked)).content.decode()
    assert "Code looked up through the API" in body
    assert "Night Call Center" in body and key.api_key in body and "198.51.100.20" in body
    assert "Code sent to tenant" in body and "Tenant page" in body and "by text message" in body


def test_history_is_paginated_in_few_queries(
    owner_client, overlocked, owner, django_assert_max_num_queries
):
    LockEvent.objects.bulk_create(
        LockEvent(lock=overlocked, kind="code_revealed", actor_type="user", actor_user=owner)
        for _ in range(120)
    )
    with django_assert_max_num_queries(12):
        response = owner_client.get(_url("lock_detail", overlocked), {"page": 2})
    history = response.context["history"]
    assert (history.number, history.paginator.num_pages, len(history.object_list)) == (2, 3, 50)


# --- Reveal -----------------------------------------------------------------------------------


def test_reveal_asks_who_it_is_first_and_shows_no_code(owner_client, overlocked, password):
    response = owner_client.post(_url("lock_reveal", overlocked))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert ">2468<" not in response.content.decode()
    assert "Confirm it is you" in response.content.decode()
    assert not LockEvent.objects.exists()
    response = owner_client.post(_url("lock_reveal", overlocked), {"password": password})
    assert ">2468<" in response.content.decode()
    assert LockEvent.objects.get(lock=overlocked).kind == LockEvent.Kind.CODE_REVEALED


def test_reveal_shows_the_code_no_store_and_records_it(owner_client, overlocked, owner):
    confirmed(owner_client)
    response = owner_client.post(_url("lock_reveal", overlocked), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert ">2468<" in body
    event = LockEvent.objects.get(lock=overlocked)
    assert (event.kind, event.actor_user, event.ip, event.unit) == (
        LockEvent.Kind.CODE_REVEALED,
        owner,
        "192.0.2.44",
        overlocked.unit,
    )
    assert "Code revealed in the portal" in body  # the reveal is in the history at once


def test_call_center_users_reveal_ordinary_codes(call_center_client, overlocked):
    confirmed(call_center_client)
    response = call_center_client.post(_url("lock_reveal", overlocked))
    assert response.status_code == 200 and ">2468<" in response.content.decode()


def test_call_center_users_never_see_an_auction_code(call_center_client, auction_lock):
    page = call_center_client.get(_url("lock_detail", auction_lock)).content.decode()
    assert "Withheld" in page and "Reveal code" not in page
    confirmed(call_center_client)
    response = call_center_client.post(_url("lock_reveal", auction_lock))
    assert response.status_code == 403
    assert "withheld from Client Call Center users" in response.content.decode()
    assert "1357" not in response.content.decode()
    assert not LockEvent.objects.exists()


def test_owners_may_reveal_an_auction_code(owner_client, auction_lock):
    confirmed(owner_client)
    assert ">1357<" in owner_client.post(_url("lock_reveal", auction_lock)).content.decode()


# --- Status, unassign, assign, code -----------------------------------------------------------


def test_change_status_on_a_unit(manager_client, overlocked):
    response = manager_client.post(_url("lock_status", overlocked), {"status": "assigned_auction"})
    assert response.status_code == 302
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.ASSIGNED_AUCTION
    assert LockEvent.objects.get(lock=overlocked).kind == LockEvent.Kind.STATUS_CHANGED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("", "This field is required."),
        ("available", "Select a valid choice."),  # that would take it off the unit
        ("assigned_overlock", "Select a valid choice."),  # what it already is
        ("bogus", "Select a valid choice."),
    ],
)
def test_change_status_with_bad_input(owner_client, overlocked, status, message):
    response = owner_client.post(_url("lock_status", overlocked), {"status": status})
    assert response.status_code == 200
    assert message in response.content.decode()
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.ASSIGNED_OVERLOCK
    assert not LockEvent.objects.exists()


def test_change_status_off_a_unit(owner_client, lock):
    owner_client.post(_url("lock_status", lock), {"status": "damaged"})
    lock.refresh_from_db()
    assert lock.status == LockStatus.DAMAGED


def test_unassign_to_on_dropbox(owner_client, overlocked):
    unit = overlocked.unit
    response = owner_client.post(_url("lock_unassign", overlocked), {"status": "on_dropbox"})
    assert response.status_code == 302
    overlocked.refresh_from_db()
    assert (overlocked.unit, overlocked.status) == (None, LockStatus.ON_DROPBOX)
    event = LockEvent.objects.get(lock=overlocked)
    assert (event.kind, event.unit) == (LockEvent.Kind.UNASSIGNED, unit)


@pytest.mark.parametrize("status", ["", "returned_to_dropbox", "assigned_vacant"])
def test_unassign_with_bad_input(owner_client, overlocked, status):
    response = owner_client.post(_url("lock_unassign", overlocked), {"status": status})
    assert response.status_code == 200
    overlocked.refresh_from_db()
    assert overlocked.unit is not None
    assert not LockEvent.objects.exists()


def test_unassign_a_lock_on_no_unit_says_so(owner_client, lock):
    response = owner_client.post(_url("lock_unassign", lock), {"status": "available"})
    assert response.status_code == 200
    assert "The lock is not on a unit." in response.content.decode()


def test_assign_from_the_lock_page(owner_client, lock, unit):
    response = owner_client.post(
        _url("lock_assign", lock), {"unit": "A101", "status": "tenant_using_lock"}
    )
    assert response.status_code == 302
    lock.refresh_from_db()
    assert (lock.unit, lock.status) == (unit, LockStatus.TENANT_USING_LOCK)


@pytest.mark.parametrize(
    ("unit_number", "message"),
    [
        ("Z999", "This facility has no unit with this number."),
        ("A101", "already has lock HD000777"),
        ("", "This field is required."),
    ],
)
def test_assign_from_the_lock_page_with_bad_input(
    owner_client, lock, unit, other_unit, unit_number, message
):
    LockFactory(facility=unit.facility, unit=unit, serial="HD000777", status="assigned_vacant")
    response = owner_client.post(
        _url("lock_assign", lock), {"unit": unit_number, "status": "assigned_overlock"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LockEvent.objects.exists()


def test_assign_to_another_accounts_unit_number_finds_nothing(owner_client, lock, other_unit):
    response = owner_client.post(
        _url("lock_assign", lock), {"unit": other_unit.unit_number, "status": "assigned_vacant"}
    )
    assert "This facility has no unit with this number." in response.content.decode()


def test_assign_a_lock_that_is_not_available_says_why(owner_client, facility, unit):
    lost = LockFactory(facility=facility, status=LockStatus.LOST)
    response = owner_client.post(
        _url("lock_assign", lost), {"unit": unit.unit_number, "status": "assigned_vacant"}
    )
    assert "only Available locks can be assigned" in response.content.decode()


def test_set_the_code_of_a_free_lock(owner_client, lock):
    response = owner_client.post(_url("lock_code", lock), {"unlock_code": "0007"})
    assert response.status_code == 302
    lock.refresh_from_db()
    assert lock.unlock_code == "0007"
    assert LockEvent.objects.get(lock=lock).kind == LockEvent.Kind.CODE_SET


@pytest.mark.parametrize("code", ["", "123", "12345", "12a4"])
def test_set_code_with_bad_input(owner_client, lock, code):
    response = owner_client.post(_url("lock_code", lock), {"unlock_code": code})
    assert response.status_code == 200
    lock.refresh_from_db()
    assert lock.unlock_code == "1234"
    assert not LockEvent.objects.exists()


def test_the_code_of_an_assigned_lock_cannot_be_set(owner_client, overlocked):
    response = owner_client.post(_url("lock_code", overlocked), {"unlock_code": "0000"})
    assert "does not count towards the lock limit" in response.content.decode()
    overlocked.refresh_from_db()
    assert overlocked.unlock_code == "2468"


# --- Add to inventory -------------------------------------------------------------------------


def test_add_a_lock_to_inventory(owner_client, facility, owner):
    response = owner_client.post(
        reverse("facilities:lock_create", args=[facility.pk]),
        {"serial": "hd123456", "unlock_code": "0420", "status": "available"},
    )
    lock = Lock.objects.get(serial="HD123456")
    assert response.url == _url("lock_detail", lock)
    assert (lock.facility, lock.account, lock.unlock_code) == (facility, facility.account, "0420")
    event = LockEvent.objects.get(lock=lock)
    assert (event.kind, event.actor_user) == (LockEvent.Kind.CREATED, owner)


def test_add_and_add_another(owner_client, facility):
    response = owner_client.post(
        reverse("facilities:lock_create", args=[facility.pk]),
        {"serial": "HD123457", "unlock_code": "0420", "status": "on_dropbox", "add_another": "1"},
    )
    assert response.url == reverse("facilities:lock_create", args=[facility.pk])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"serial": "HD1", "unlock_code": "1234"}, "exactly 8 letters or digits"),
        ({"serial": "HD00000!", "unlock_code": "1234"}, "exactly 8 letters or digits"),
        ({"serial": "HD000001", "unlock_code": "1234"}, "already registered"),
        ({"serial": "RV000001", "unlock_code": "1234"}, "already registered"),
        ({"serial": "HD999999", "unlock_code": "12"}, "Ensure this value has at least 4"),
        ({"serial": "HD999999", "unlock_code": ""}, "This field is required."),
        (
            {"serial": "HD999999", "unlock_code": "1234", "status": "assigned_overlock"},
            "Select a valid choice.",
        ),
    ],
)
def test_add_a_lock_with_bad_input(owner_client, facility, lock, other_lock, data, message):
    data.setdefault("status", "available")
    response = owner_client.post(reverse("facilities:lock_create", args=[facility.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Lock.objects.count() == 2
    assert not LockEvent.objects.exists()


def test_the_lock_page_offers_the_actions_that_fit(owner_client, overlocked, lock):
    on_unit = owner_client.get(_url("lock_detail", overlocked)).content.decode()
    assert "Unassign" in on_unit and "Set the unlock code" not in on_unit
    free = owner_client.get(_url("lock_detail", lock)).content.decode()
    assert "Assign to a unit" in free and "Set the unlock code" in free and "Unassign" not in free


def test_call_center_users_get_only_their_two_statuses(call_center_client, overlocked):
    body = call_center_client.get(_url("lock_detail", overlocked)).content.decode()
    assert "Reveal code" in body and "Set the unlock code" not in body
    assert 'value="tenant_using_lock"' in body and 'value="returned_to_dropbox"' in body
    assert 'value="assigned_vacant"' not in body and 'value="available"' not in body


def test_a_withheld_code_is_refused_before_the_password_is_asked(call_center_client, auction_lock):
    response = call_center_client.post(_url("lock_reveal", auction_lock))
    assert response.status_code == 403
    assert "Confirm it is you" not in response.content.decode()
