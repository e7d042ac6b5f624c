"""Writing a valid import plan: bulk statements, one LockEvent per lock created or changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from davinci import crypto
from facilities.history import lock_events_record_many
from facilities.imports.plan import ImportPlan
from facilities.imports.rows import TENANT_COLUMNS
from facilities.models import Lock, LockEvent, LockStatus, Unit

if TYPE_CHECKING:
    from davinci.accounts.models import User

BATCH = 500


@dataclass(frozen=True)
class ImportResult:
    units_created: int
    units_updated: int
    locks_created: int
    locks_updated: int
    events: int


def apply_plan(plan: ImportPlan, *, user: User, ip: str | None) -> ImportResult:
    """Write a valid plan. Call inside a transaction (services.facility_import_commit)."""
    if not plan.is_valid:
        raise ValueError("An import with errors is never applied.")
    facility, now = plan.facility, timezone.now()

    new_units = [
        Unit(facility=facility, unit_number=row.unit_number, **row.values)
        for row in plan.units
        if row.existing is None
    ]
    Unit.objects.bulk_create(new_units, batch_size=BATCH)
    changed_units = []
    for row in plan.units:
        if row.existing is not None:
            for name in row.changes:
                setattr(row.existing, name, row.values[name])
            row.existing.updated_at = now
            changed_units.append(row.existing)
    Unit.objects.bulk_update(changed_units, [*TENANT_COLUMNS, "updated_at"], batch_size=BATCH)

    unit_ids = dict(plan.unit_ids)
    unit_ids.update((unit.unit_number, unit.pk) for unit in new_units)

    # Locks leaving a unit first step off it (a valid state on its own), so a lock can take
    # a unit another lock of the same file leaves, whatever order the rows came in.
    moving = [
        row.existing.pk
        for row in plan.locks
        if row.existing is not None and "unit" in row.changes and row.existing.unit_id
    ]
    for start in range(0, len(moving), BATCH):
        Lock.objects.filter(pk__in=moving[start : start + BATCH]).update(
            unit=None, status=LockStatus.AVAILABLE
        )

    events: list[LockEvent] = []
    changed_locks, new_locks = [], []
    for row in plan.locks:
        unit_id = unit_ids[row.unit_number] if row.unit_number else None
        event_unit_id = unit_id or (row.existing.unit_id if row.existing else None)
        from_status = row.from_status
        if row.existing is None:
            lock = Lock(
                account_id=facility.account_id,
                facility=facility,
                serial=row.serial,
                status=row.status,
                unit_id=unit_id,
                unlock_code_encrypted=crypto.encrypt(row.unlock_code),
            )
            new_locks.append(lock)
        else:
            lock = row.existing
            lock.status, lock.unit_id, lock.updated_at = row.status, unit_id, now
            if "unlock_code" in row.changes:
                lock.unlock_code_encrypted = crypto.encrypt(row.unlock_code)
            changed_locks.append(lock)
        events.append(
            LockEvent(
                lock=lock,
                kind=LockEvent.Kind.IMPORTED,
                actor_type=LockEvent.Actor.USER,
                actor_user=user,
                from_status=from_status,
                to_status=row.status,
                unit_id=event_unit_id,
                ip=ip,
                details={"file": plan.filename, "line": row.line, "changes": row.changes},
            )
        )
    Lock.objects.bulk_update(
        changed_locks, ["status", "unit", "unlock_code_encrypted", "updated_at"], batch_size=BATCH
    )
    Lock.objects.bulk_create(new_locks, batch_size=BATCH)
    for event in events:
        event.lock_id = event.lock.pk  # primary keys of new locks are known only now

    lock_events_record_many(events=events)
    return ImportResult(
        units_created=len(new_units),
        units_updated=len(changed_units),
        locks_created=len(new_locks),
        locks_updated=len(changed_locks),
        events=len(events),
    )
