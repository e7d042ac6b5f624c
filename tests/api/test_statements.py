"""The lookup's one SQL statement on PostgreSQL (integrations/api/statements.py) held against
the Python rules it encodes: the key's scope (`ApiKey.facilities_in_scope()`), the withheld
codes (`permissions.key_can_view_code()`) and the LockEvent that `lock_event_record()` writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from davinci.accounts import permissions
from facilities.history import lock_event_record
from facilities.models import UNIT_STATUSES, LockEvent, LockStatus
from integrations.api import statements
from tests.factories import ApiKeyFactory, LockFactory, UnitFactory, assigned_lock

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the statement is PostgreSQL's (SQLite takes the ORM path): set DATABASE_URL",
    ),
]


def _run(key, facility, *, lookup="unit", match="A101", ip="203.0.113.9"):
    return statements.read_and_record(
        lookup=lookup,
        match=match,
        facility_id=facility.facility_id,
        account_id=key.account_id,
        key_id=key.pk,
        all_facilities=key.all_facilities,
        ip=ip,
    )


def _chosen_key(account, *facilities):
    key = ApiKeyFactory(account=account, all_facilities=False)
    key.facilities.set(facilities)
    return key


SCOPES = {
    # name: (key for the world, the facility asked for)
    "all facilities, its own": (lambda w: w.key, lambda w: w.facility),
    "all facilities, a sibling": (lambda w: w.key, lambda w: w.sibling),
    "all facilities, one out of the API": (lambda w: w.key, lambda w: w.excluded),
    "all facilities, another account's": (lambda w: w.key, lambda w: w.rival),
    "chosen, the chosen one": (
        lambda w: _chosen_key(w.facility.account, w.facility),
        lambda w: w.facility,
    ),
    "chosen, one not chosen": (
        lambda w: _chosen_key(w.facility.account, w.facility),
        lambda w: w.sibling,
    ),
    "chosen, chosen but out of the API": (
        lambda w: _chosen_key(w.facility.account, w.excluded),
        lambda w: w.excluded,
    ),
    "chosen, another account's facility chosen": (
        lambda w: _chosen_key(w.facility.account, w.rival),
        lambda w: w.rival,
    ),
}


@pytest.mark.parametrize("lookup", ["unit", "lock"])
@pytest.mark.parametrize("case", SCOPES)
def test_the_statement_sees_exactly_the_keys_scope(world, case, lookup):
    make_key, facility_of = SCOPES[case]
    key, facility = make_key(world), facility_of(world)
    in_scope = key.facilities_in_scope().filter(pk=facility.pk).exists()
    match = "A101" if lookup == "unit" else facility.locks.get().serial
    hit = _run(key, facility, lookup=lookup, match=match)
    assert (hit is not None) == in_scope
    assert LockEvent.objects.filter(api_key=key).count() == (1 if in_scope else 0)


@pytest.mark.parametrize("status", list(LockStatus))
def test_the_statement_records_exactly_the_codes_it_does_not_withhold(world, status):
    if status in UNIT_STATUSES:
        unit = UnitFactory(facility=world.facility, unit_number="S1")
        lock = assigned_lock(unit, status, serial="HS000001")
    else:
        lock = LockFactory(facility=world.facility, status=status, serial="HS000001")
    hit = _run(world.key, world.facility, lookup="lock", match=lock.serial)
    assert hit.lock.status == status
    assert hit.recorded == permissions.key_can_view_code(status)
    assert LockEvent.objects.filter(lock=lock).count() == (
        1 if permissions.key_can_view_code(status) else 0
    )


def test_the_statements_lock_event_is_the_one_lock_event_record_writes(world):
    hit = _run(world.key, world.facility, ip="203.0.113.9")
    written = LockEvent.objects.get(api_key=world.key)
    expected = lock_event_record(
        lock=world.lock,
        kind=LockEvent.Kind.CODE_LOOKED_UP,
        actor_type=LockEvent.Actor.API_KEY,
        api_key=world.key,
        unit=world.unit,
        ip="203.0.113.9",
        details={"lookup": "unit", "facility_id": world.facility.facility_id},
    )
    fields = [f.name for f in LockEvent._meta.concrete_fields if f.name not in {"id", "created_at"}]
    assert {f: getattr(written, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert abs(written.created_at - expected.created_at) < timedelta(seconds=5)
    assert hit.recorded and hit.unit.unit_number == "A101" and hit.lock.serial == world.lock.serial


def test_a_unit_without_a_lock_is_found_and_records_nothing(world):
    UnitFactory(facility=world.facility, unit_number="EMPTY")
    hit = _run(world.key, world.facility, match="EMPTY")
    assert hit.unit.unit_number == "EMPTY" and hit.lock is None and not hit.recorded
    assert not LockEvent.objects.exists()


def test_a_lock_on_no_unit_is_found_by_serial(world):
    lock = world.lock
    lock.unit, lock.status = None, LockStatus.AVAILABLE
    lock.save()
    hit = _run(world.key, world.facility, lookup="lock", match=lock.serial)
    assert hit.unit is None and hit.lock.unit is None and hit.recorded
