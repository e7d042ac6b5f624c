"""Returned to Dropbox keeps its unit (DaVinci's definition): the status now counts as "on a
unit", so a paid tenant's code stays reachable through the unit.

Before this migration such a lock had been taken off its unit. The new CHECK constraint is
added by 0005, in its own transaction: PostgreSQL cannot alter a table with the row updates of
this one still pending their foreign-key checks. `place_returned_locks` puts each
one back on the unit it last left (read from its history) when that unit has no other lock;
any lock it cannot place is set Available, since the new rule lets no Returned to Dropbox lock
be on no unit. Every move is a LockEvent by the system, and the migration prints what it did.
"""

from django.db import migrations, models

REASON = "Returned to Dropbox now keeps its unit"


def _event(LockEvent, lock, *, kind, unit, to_status, details):
    LockEvent.objects.create(
        lock=lock,
        actor_type="system",
        kind=kind,
        from_status="returned_to_dropbox",
        to_status=to_status,
        unit=unit,
        details={"source": "migration 0004", "reason": REASON, **details},
    )


def place_returned_locks(apps, schema_editor):
    Lock = apps.get_model("facilities", "Lock")
    LockEvent = apps.get_model("facilities", "LockEvent")
    returned = Lock.objects.filter(status="returned_to_dropbox", unit__isnull=True).order_by("id")
    placed, unplaced = [], []
    for lock in returned:
        last = LockEvent.objects.filter(lock=lock, unit__isnull=False).order_by("-id").first()
        unit = last.unit if last is not None else None
        if unit is None:
            why = "its history names no unit"
        elif unit.facility_id != lock.facility_id:
            why = f"unit {unit.unit_number} is at another facility now"
        elif Lock.objects.filter(unit=unit).exists():
            why = f"unit {unit.unit_number} has another lock now"
        else:
            why = ""
        if why:
            lock.status = "available"
            lock.save(update_fields=["status"])
            _event(
                LockEvent,
                lock,
                kind="status_changed",
                unit=None,
                to_status="available",
                details={"not_placed": why},
            )
            unplaced.append(f"{lock.serial} ({why}): set Available")
        else:
            lock.unit = unit
            lock.save(update_fields=["unit"])
            _event(
                LockEvent,
                lock,
                kind="assigned",
                unit=unit,
                to_status="returned_to_dropbox",
                details={},
            )
            placed.append(f"{lock.serial} on unit {unit.unit_number}")
    if placed or unplaced:
        print(f"\n  Returned to Dropbox locks put back on their unit: {len(placed)}")
        for line in placed:
            print(f"    {line}")
        print(f"  Returned to Dropbox locks that could not be placed: {len(unplaced)}")
        for line in unplaced:
            print(f"    {line}")


def take_returned_locks_off(apps, schema_editor):
    """Back to the old rule: a Returned to Dropbox lock is on no unit."""
    Lock = apps.get_model("facilities", "Lock")
    Lock.objects.filter(status="returned_to_dropbox").update(unit=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("facilities", "0003_release_attempt"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="lock",
            name="lock_unit_matches_status",
        ),
        migrations.AlterField(
            model_name="lockevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Added to inventory"),
                    ("assigned", "Assigned to unit"),
                    ("status_changed", "Status changed"),
                    ("unassigned", "Unassigned"),
                    ("code_set", "Code changed"),
                    ("code_revealed", "Code revealed in the portal"),
                    ("code_looked_up", "Code looked up through the API"),
                    ("code_sent", "Code sent to tenant"),
                    ("code_send_failed", "Code could not be sent"),
                    ("released", "Overlock released"),
                    ("imported", "Imported"),
                ],
                max_length=32,
            ),
        ),
        migrations.RunPython(place_returned_locks, take_returned_locks_off),
    ]
