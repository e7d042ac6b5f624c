"""Migration 0004 on a database built with the old rule (Returned to Dropbox on no unit): each
such lock goes back on the unit it last left, when that unit has no other lock; any other is set
Available, and the migration says which."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from davinci import crypto
from facilities.models import Lock, LockEvent, LockStatus

BEFORE = [("facilities", "0003_release_attempt")]
AFTER = [("facilities", "0005_lock_unit_matches_status")]


def _old_world(apps):
    """Locks as today's rules (before 0004) left them."""
    Account = apps.get_model("accounts", "Account")
    Facility = apps.get_model("facilities", "Facility")
    Unit = apps.get_model("facilities", "Unit")
    OldLock = apps.get_model("facilities", "Lock")
    OldEvent = apps.get_model("facilities", "LockEvent")
    account = Account.objects.create(name="Harbor", slug="harbor")
    facility = Facility.objects.create(account=account, name="Downtown")
    elsewhere = Facility.objects.create(account=account, name="Eastside")
    units = {n: Unit.objects.create(facility=facility, unit_number=n) for n in ("U1", "U2", "U3")}
    far = Unit.objects.create(facility=elsewhere, unit_number="E1")

    def lock(serial, status="returned_to_dropbox", unit=None, left=None, place=facility):
        made = OldLock.objects.create(
            account=account,
            facility=place,
            serial=serial,
            status=status,
            unit=unit,
            unlock_code_encrypted=crypto.encrypt("1234"),
        )
        for event_unit in left or []:
            OldEvent.objects.create(
                lock=made, actor_type="system", kind="unassigned", unit=event_unit
            )
        return made

    lock("RT000001", left=[units["U3"], units["U1"]])  # last left U1, which is free
    lock("RT000002", left=[units["U2"]])  # U2 has another lock now
    lock("OC000002", status="assigned_overlock", unit=units["U2"])
    lock("RT000003")  # no history
    lock("RT000004", left=[units["U3"]])  # U3 free: placed
    lock("RT000005", left=[units["U3"]])  # U3 again: taken by RT000004 just before
    lock("RT000006", left=[far])  # the unit it left is at another facility


@pytest.mark.django_db(transaction=True)
def test_returned_locks_go_back_on_the_unit_they_left(capsys):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    _old_world(executor.loader.project_state(BEFORE).apps)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    where = {
        lock.serial: (lock.status, lock.unit.unit_number if lock.unit_id else None)
        for lock in Lock.objects.select_related("unit")
    }
    assert where == {
        "RT000001": (LockStatus.RETURNED_TO_DROPBOX, "U1"),
        "RT000002": (LockStatus.AVAILABLE, None),
        "OC000002": (LockStatus.ASSIGNED_OVERLOCK, "U2"),
        "RT000003": (LockStatus.AVAILABLE, None),
        "RT000004": (LockStatus.RETURNED_TO_DROPBOX, "U3"),
        "RT000005": (LockStatus.AVAILABLE, None),
        "RT000006": (LockStatus.AVAILABLE, None),
    }
    moves = LockEvent.objects.filter(
        actor_type=LockEvent.Actor.SYSTEM, details__source="migration 0004"
    )
    assert moves.count() == 6
    output = capsys.readouterr().out
    assert "put back on their unit: 2" in output
    assert "could not be placed: 4" in output
    assert "RT000002 (unit U2 has another lock now): set Available" in output
    assert "RT000003 (its history names no unit): set Available" in output
    assert "RT000006 (unit E1 is at another facility now): set Available" in output
