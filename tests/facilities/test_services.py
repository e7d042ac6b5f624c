"""Services: the rules of each change, and exactly one LockEvent for every change of a lock."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from davinci.accounts.models import Membership
from facilities import history, services
from facilities.history import Actor
from facilities.models import Facility, Lock, LockEvent, LockStatus
from tests.factories import LockFactory

IP = "203.0.113.9"


def _only_event(lock: Lock) -> LockEvent:
    events = list(LockEvent.objects.filter(lock=lock))
    assert len(events) == 1, events
    return events[0]


def test_facility_create_generates_an_id_and_includes_it_in_the_api(account):
    facility = services.facility_create(account=account, name="Harbor North", address="1 N St")
    assert len(facility.facility_id) == 16
    assert facility.include_in_api is True
    other = services.facility_create(account=account, name="Harbor South")
    assert other.facility_id != facility.facility_id


def test_facility_update_keeps_the_facility_id(facility):
    before = facility.facility_id
    services.facility_update(facility=facility, name="Renamed", address="2 Main St")
    facility.refresh_from_db()
    assert (facility.name, facility.facility_id) == ("Renamed", before)


def test_lock_create_records_one_event(facility, owner):
    lock = services.lock_create(
        facility=facility, serial="HD009999", unlock_code="0042", user=owner, ip=IP
    )
    assert lock.unlock_code == "0042"
    assert "0042" not in lock.unlock_code_encrypted
    event = _only_event(lock)
    assert (event.kind, event.actor_user, event.to_status, event.ip) == (
        LockEvent.Kind.CREATED,
        owner,
        LockStatus.AVAILABLE,
        IP,
    )


def test_lock_assign_records_one_event_with_who_from_to_unit_and_ip(lock, unit, owner):
    services.lock_assign(
        lock=lock, unit=unit, status=LockStatus.ASSIGNED_OVERLOCK, user=owner, ip=IP
    )
    lock.refresh_from_db()
    assert (lock.unit, lock.status) == (unit, LockStatus.ASSIGNED_OVERLOCK)
    event = _only_event(lock)
    assert event.kind == LockEvent.Kind.ASSIGNED
    assert event.actor_type == LockEvent.Actor.USER and event.actor_user == owner
    assert (event.from_status, event.to_status) == ("available", "assigned_overlock")
    assert (event.unit, event.ip) == (unit, IP)


def test_assigning_moves_a_lock_from_another_facility_of_the_account(account, unit, owner):
    elsewhere = LockFactory(facility=Facility.objects.create(account=account, name="Annex"))
    services.lock_assign(
        lock=elsewhere, unit=unit, status=LockStatus.ASSIGNED_VACANT, user=owner, ip=IP
    )
    elsewhere.refresh_from_db()
    assert elsewhere.facility == unit.facility
    assert _only_event(elsewhere).details == {"moved_from_facility": "Annex"}


@pytest.mark.parametrize(
    ("status", "code"),
    [(LockStatus.AVAILABLE, "status_not_on_unit"), (LockStatus.DAMAGED, "status_not_on_unit")],
)
def test_assign_needs_an_on_unit_status(lock, unit, owner, status, code):
    with pytest.raises(ValidationError) as exc:
        services.lock_assign(lock=lock, unit=unit, status=status, user=owner, ip=IP)
    assert exc.value.code == code
    assert not LockEvent.objects.exists()


def test_assign_refuses_a_lock_that_is_not_available(facility, unit, owner):
    damaged = LockFactory(facility=facility, status=LockStatus.DAMAGED)
    with pytest.raises(ValidationError) as exc:
        services.lock_assign(
            lock=damaged, unit=unit, status=LockStatus.ASSIGNED_OVERLOCK, user=owner, ip=IP
        )
    assert exc.value.code == "lock_not_available"


def test_assign_refuses_a_unit_that_has_a_lock(facility, overlocked, owner):
    spare = LockFactory(facility=facility)
    with pytest.raises(ValidationError) as exc:
        services.lock_assign(
            lock=spare, unit=overlocked.unit, status=LockStatus.ASSIGNED_VACANT, user=owner, ip=IP
        )
    assert exc.value.code == "unit_has_lock"
    assert not LockEvent.objects.exists()


def test_assign_refuses_another_accounts_unit(lock, other_unit, owner):
    with pytest.raises(ValidationError):
        services.lock_assign(
            lock=lock, unit=other_unit, status=LockStatus.ASSIGNED_VACANT, user=owner, ip=IP
        )


def test_status_change_records_one_event(overlocked, manager):
    services.lock_status_change(
        lock=overlocked, status=LockStatus.ASSIGNED_AUCTION, actor=Actor.for_user(manager, ip=IP)
    )
    event = _only_event(overlocked)
    assert event.kind == LockEvent.Kind.STATUS_CHANGED
    assert (event.from_status, event.to_status) == ("assigned_overlock", "assigned_auction")
    assert (event.actor_user, event.unit, event.ip) == (manager, overlocked.unit, IP)


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("overlocked", LockStatus.AVAILABLE), ("lock", LockStatus.ASSIGNED_OVERLOCK)],
)
def test_status_change_never_moves_a_lock_on_or_off_a_unit(request, owner, fixture, status):
    lock = request.getfixturevalue(fixture)
    with pytest.raises(ValidationError) as exc:
        services.lock_status_change(lock=lock, status=status, actor=Actor.for_user(owner, ip=IP))
    assert exc.value.code == "status_changes_unit"


def test_status_change_to_the_same_status_is_refused(lock, owner):
    with pytest.raises(ValidationError) as exc:
        services.lock_status_change(
            lock=lock, status=LockStatus.AVAILABLE, actor=Actor.for_user(owner, ip=IP)
        )
    assert exc.value.code == "status_unchanged"
    assert not LockEvent.objects.exists()


@pytest.mark.parametrize("status", [LockStatus.AVAILABLE, LockStatus.ON_DROPBOX, LockStatus.SOLD])
def test_unassign_records_one_event_naming_the_unit_it_left(overlocked, owner, status):
    unit = overlocked.unit
    services.lock_unassign(lock=overlocked, status=status, user=owner, ip=IP)
    overlocked.refresh_from_db()
    assert (overlocked.unit, overlocked.status) == (None, status)
    event = _only_event(overlocked)
    assert (event.kind, event.unit, event.from_status, event.to_status) == (
        LockEvent.Kind.UNASSIGNED,
        unit,
        "assigned_overlock",
        status,
    )


def test_unassign_refuses_other_statuses_and_free_locks(overlocked, lock, owner):
    with pytest.raises(ValidationError):
        services.lock_unassign(
            lock=overlocked, status=LockStatus.RETURNED_TO_DROPBOX, user=owner, ip=IP
        )
    with pytest.raises(ValidationError):
        services.lock_unassign(lock=lock, status=LockStatus.AVAILABLE, user=owner, ip=IP)
    assert not LockEvent.objects.exists()


def test_code_set_on_a_free_lock_records_one_event(lock, owner):
    services.lock_code_set(lock=lock, unlock_code="8080", user=owner, ip=IP)
    lock.refresh_from_db()
    assert lock.unlock_code == "8080"
    assert _only_event(lock).kind == LockEvent.Kind.CODE_SET


def test_code_of_an_assigned_lock_cannot_change(overlocked, owner):
    with pytest.raises(ValidationError) as exc:
        services.lock_code_set(lock=overlocked, unlock_code="8080", user=owner, ip=IP)
    assert "code_locked" in [e.code for e in exc.value.error_dict["unlock_code"]]
    overlocked.refresh_from_db()
    assert overlocked.unlock_code == "2468"
    assert not LockEvent.objects.exists()


def test_retyping_the_code_of_an_assigned_lock_is_refused_too(overlocked, owner):
    # Otherwise "Set code" would answer yes/no to a guess of an assigned lock's code.
    with pytest.raises(ValidationError) as exc:
        services.lock_code_set(lock=overlocked, unlock_code="2468", user=owner, ip=IP)
    assert "code_locked" in [e.code for e in exc.value.error_dict["unlock_code"]]
    assert not LockEvent.objects.exists()


def test_reveal_records_one_event_and_returns_the_code(overlocked, owner):
    membership = Membership.objects.get(user=owner)
    code = services.lock_code_reveal(lock=overlocked, user=owner, membership=membership, ip=IP)
    assert code == "2468"
    event = _only_event(overlocked)
    assert (event.kind, event.actor_user, event.unit, event.ip) == (
        LockEvent.Kind.CODE_REVEALED,
        owner,
        overlocked.unit,
        IP,
    )


def test_call_center_users_never_get_an_auction_code(auction_lock, call_center_user, owner):
    membership = Membership.objects.get(user=call_center_user)
    with pytest.raises(PermissionDenied):
        services.lock_code_reveal(
            lock=auction_lock, user=call_center_user, membership=membership, ip=IP
        )
    assert not LockEvent.objects.exists()
    owner_membership = Membership.objects.get(user=owner)
    assert (
        services.lock_code_reveal(lock=auction_lock, user=owner, membership=owner_membership, ip=IP)
        == "1357"
    )


def test_reveal_refuses_another_accounts_lock(other_lock, owner):
    with pytest.raises(PermissionDenied):
        services.lock_code_reveal(
            lock=other_lock, user=owner, membership=Membership.objects.get(user=owner), ip=IP
        )


def test_unit_create_and_update(facility):
    unit = services.unit_create(facility=facility, unit_number="007", tenant_name="Jo")
    services.unit_update(
        unit=unit,
        unit_number="007",
        tenant_name="Jo Bloggs",
        tenant_email="jo@example.com",
        tenant_phone="(603) 555-0100",
    )
    unit.refresh_from_db()
    assert (unit.unit_number, unit.tenant_name) == ("007", "Jo Bloggs")


def test_unit_numbers_stay_unique_in_a_facility(unit):
    with pytest.raises(ValidationError):
        services.unit_create(facility=unit.facility, unit_number=unit.unit_number)


def test_lock_events_record_many_only_adds(lock, owner):
    event = LockEvent(lock=lock, kind=LockEvent.Kind.IMPORTED, actor_type="user")
    history.lock_events_record_many(events=[event])
    with pytest.raises(TypeError):
        history.lock_events_record_many(events=[event])


def test_units_are_in_the_account_boundary(unit, other_unit, account):
    from facilities.models import Unit

    assert list(Unit.objects.for_account(account)) == [unit]
    assert list(Unit.objects.for_account(other_unit.facility.account)) == [other_unit]
