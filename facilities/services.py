"""Facilities services: everything that changes facilities, units and locks, with side effects.

Each function that changes a lock writes exactly one LockEvent for it, in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from davinci.accounts import permissions
from davinci.accounts.models import Account, Membership
from facilities import imports
from facilities.history import Actor, lock_event_by, lock_event_record
from facilities.models import (
    UNIT_STATUSES,
    Facility,
    Lock,
    LockEvent,
    LockStatus,
    Unit,
)

if TYPE_CHECKING:
    from davinci.accounts.models import User

# Where a lock taken off a unit can go: back on the shelf first, else to the drop box or out
# of use. Returned to Dropbox is not among them: that lock keeps its unit (Release overlock).
UNASSIGN_STATUSES = tuple(status for status in LockStatus if status not in UNIT_STATUSES)


def _user_event(
    *, lock: Lock, kind: LockEvent.Kind, user: User, ip: str | None, **fields: Any
) -> LockEvent:
    return lock_event_record(
        lock=lock, kind=kind, actor_type=LockEvent.Actor.USER, user=user, ip=ip, **fields
    )


# --- Facilities -------------------------------------------------------------------------------


@transaction.atomic
def facility_create(
    *, account: Account, name: str, address: str = "", created_by: Membership | None = None
) -> Facility:
    """A new facility with a freshly generated Facility ID, included in the API by default
    (so it is in every "All Facilities" key's scope at once).

    Members with chosen facilities do not get new facilities, except the one who creates it
    (who would otherwise lose it the moment it exists).
    """
    facility = Facility(account=account, name=name, address=address)
    facility.full_clean()
    facility.save()
    if created_by is not None and not created_by.all_facilities:
        created_by.facilities.add(facility)
    return facility


@transaction.atomic
def facility_update(*, facility: Facility, name: str, address: str) -> Facility:
    """Name and address only: the Facility ID never changes."""
    facility.name = name
    facility.address = address
    facility.full_clean()
    facility.save(update_fields=["name", "address"])
    return facility


# --- Units ------------------------------------------------------------------------------------


@transaction.atomic
def unit_create(
    *,
    facility: Facility,
    unit_number: str,
    tenant_name: str = "",
    tenant_email: str = "",
    tenant_phone: str = "",
) -> Unit:
    unit = Unit(
        facility=facility,
        unit_number=unit_number,
        tenant_name=tenant_name,
        tenant_email=tenant_email,
        tenant_phone=tenant_phone,
    )
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def unit_update(
    *,
    unit: Unit,
    unit_number: str,
    tenant_name: str,
    tenant_email: str,
    tenant_phone: str,
) -> Unit:
    unit.unit_number = unit_number
    unit.tenant_name = tenant_name
    unit.tenant_email = tenant_email
    unit.tenant_phone = tenant_phone
    unit.full_clean()
    unit.save()
    return unit


# --- Locks ------------------------------------------------------------------------------------


def _locked(lock: Lock) -> Lock:
    """The lock row re-read under SELECT … FOR UPDATE, so two edits cannot interleave."""
    locked = Lock.objects.select_for_update(of=("self",)).select_related("unit", "facility")
    return locked.get(pk=lock.pk)


@transaction.atomic
def lock_create(
    *,
    facility: Facility,
    serial: str,
    unlock_code: str,
    status: str = LockStatus.AVAILABLE,
    user: User,
    ip: str | None,
) -> Lock:
    """Add a lock to a facility's inventory (off any unit) and record it."""
    lock = Lock(account_id=facility.account_id, facility=facility, serial=serial, status=status)
    lock.unlock_code = unlock_code
    lock.full_clean()
    lock.save()
    _user_event(lock=lock, kind=LockEvent.Kind.CREATED, user=user, ip=ip, to_status=status)
    return lock


@transaction.atomic
def lock_assign(*, lock: Lock, unit: Unit, status: str, user: User, ip: str | None) -> Lock:
    """Put an available lock on a unit's door in an Assigned… / Tenant Using Lock status.

    A lock kept at another facility of the same account moves to the unit's facility.
    """
    lock = _locked(lock)
    if lock.account_id != unit.facility.account_id:
        raise ValidationError("The unit belongs to another account.", code="wrong_account")
    if status not in UNIT_STATUSES:
        raise ValidationError("Choose a status for a lock on a unit.", code="status_not_on_unit")
    if lock.unit_id is not None or lock.status != LockStatus.AVAILABLE:
        raise ValidationError(
            f"Lock {lock.serial} is {lock.get_status_display()}; only Available locks can be "
            "assigned.",
            code="lock_not_available",
        )
    # The unit row is locked too, so two assigns to one door cannot both pass this check.
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    if Lock.objects.filter(unit=unit).exists():
        raise ValidationError(f"Unit {unit.unit_number} already has a lock.", code="unit_has_lock")
    from_status = lock.status
    details: dict[str, Any] = {}
    if lock.facility_id != unit.facility_id:
        details["moved_from_facility"] = lock.facility.name
        lock.facility = unit.facility
    lock.unit = unit
    lock.status = status
    lock.full_clean()
    lock.save()
    _user_event(
        lock=lock,
        kind=LockEvent.Kind.ASSIGNED,
        user=user,
        ip=ip,
        unit=unit,
        from_status=from_status,
        to_status=status,
        details=details,
    )
    return lock


@transaction.atomic
def lock_status_change(*, lock: Lock, status: str, actor: Actor) -> Lock:
    """Change the status without moving the lock: on a unit it stays on it (Assigned… /
    Tenant Using Lock), off a unit it stays off (Available, Damaged, Lost…). Whether the
    actor may make this change is the caller's question (davinci/accounts/permissions.py);
    a ValidationError says why the lock, as it is now, cannot take this status."""
    lock = _locked(lock)
    if status == lock.status:
        raise ValidationError(
            f"The lock is already {lock.get_status_display()}.", code="status_unchanged"
        )
    if (status in UNIT_STATUSES) != lock.needs_unit:
        if lock.needs_unit:
            message = "To take the lock off its unit, set it Available (Take off the unit)."
        else:
            message = "To put the lock on a unit, use Assign to a unit."
        raise ValidationError(message, code="status_changes_unit")
    return _status_set(lock=lock, status=status, kind=LockEvent.Kind.STATUS_CHANGED, actor=actor)


def _status_set(*, lock: Lock, status: str, kind: LockEvent.Kind, actor: Actor) -> Lock:
    """The new status on the (row-locked) lock, on the same side of the door, with its event."""
    from_status = lock.status
    lock.status = status
    lock.full_clean()
    lock.save(update_fields=["status", "updated_at"])
    lock_event_by(
        actor,
        lock=lock,
        kind=kind,
        unit=lock.unit,
        from_status=from_status,
        to_status=status,
    )
    return lock


@transaction.atomic
def lock_unassign(*, lock: Lock, status: str, user: User, ip: str | None) -> Lock:
    """Take a lock off its unit: back to Available (or On Dropbox, or out of use).

    This is what ends a released tenant's access to their code: the overlock-release page and
    the API find a lock through its unit.
    """
    lock = _locked(lock)
    if lock.unit_id is None:
        raise ValidationError("The lock is not on a unit.", code="not_assigned")
    if status not in UNASSIGN_STATUSES:
        labels = ", ".join(LockStatus(s).label for s in UNASSIGN_STATUSES)
        raise ValidationError(f"Choose one of: {labels}.", code="invalid_status")
    unit, from_status = lock.unit, lock.status
    lock.unit = None
    lock.status = status
    lock.full_clean()
    lock.save(update_fields=["unit", "status", "updated_at"])
    _user_event(
        lock=lock,
        kind=LockEvent.Kind.UNASSIGNED,
        user=user,
        ip=ip,
        unit=unit,
        from_status=from_status,
        to_status=status,
    )
    return lock


@transaction.atomic
def lock_release(*, lock: Lock, actor: Actor) -> Lock:
    """The tenant of the unit has paid: Assigned Overlock becomes Returned to Dropbox, and the
    lock stays on the unit, so the tenant can get the code (a notice, the release page, a call
    center through the API) until staff set the lock Available. The lock row is locked first,
    so of two releases at once exactly one passes; the other gets the ValidationError
    `not_overlocked`, as any lock in another status does."""
    lock = _locked(lock)
    if lock.status != LockStatus.ASSIGNED_OVERLOCK:
        raise ValidationError(
            f"Only an Assigned Overlock lock can be released; lock {lock.serial} is "
            f"{lock.get_status_display()}.",
            code="not_overlocked",
        )
    return _status_set(
        lock=lock, status=LockStatus.RETURNED_TO_DROPBOX, kind=LockEvent.Kind.RELEASED, actor=actor
    )


@transaction.atomic
def lock_code_set(*, lock: Lock, unlock_code: str, user: User, ip: str | None) -> Lock:
    """Set the factory code of a lock whose status does not count towards the lock limit
    (re-entering the same code is recorded too, so the form cannot test codes unseen)."""
    lock = _locked(lock)
    lock.unlock_code = unlock_code
    lock.full_clean()
    lock.save(update_fields=["unlock_code_encrypted", "updated_at"])
    _user_event(
        lock=lock,
        kind=LockEvent.Kind.CODE_SET,
        user=user,
        ip=ip,
        from_status=lock.status,
        to_status=lock.status,
    )
    return lock


@transaction.atomic
def lock_admin_save(*, lock: Lock, changed: list[str], user: User, ip: str | None) -> Lock:
    """Save a lock edited by platform staff in the Django admin, with its one LockEvent.

    `lock` carries the validated changes; `changed` names the edited fields. The event's kind
    follows the most telling change: created, code, unit, then status.
    """
    adding = lock.pk is None
    stored = None if adding else _locked(lock)
    lock.save()
    if adding:
        kind = LockEvent.Kind.CREATED
    elif "unlock_code" in changed:
        kind = LockEvent.Kind.CODE_SET
    elif stored.unit_id != lock.unit_id:
        kind = LockEvent.Kind.ASSIGNED if lock.unit_id else LockEvent.Kind.UNASSIGNED
    else:
        kind = LockEvent.Kind.STATUS_CHANGED
    _user_event(
        lock=lock,
        kind=kind,
        user=user,
        ip=ip,
        unit=lock.unit or (stored.unit if stored else None),
        from_status="" if adding else stored.status,
        to_status=lock.status,
        details={"source": "admin", "changed": sorted(changed)},
    )
    return lock


def lock_code_withheld(*, lock: Lock, membership: Membership) -> str:
    """Why the member's role may not see this lock's code."""
    return (
        f"The code of a lock that is {lock.get_status_display()} is withheld from "
        f"{membership.get_role_display()} users."
    )


@transaction.atomic
def lock_code_reveal(*, lock: Lock, user: User, membership: Membership, ip: str | None) -> str:
    """The plain code for a portal user, recorded in the lock's history like an API read."""
    if lock.account_id != membership.account_id or membership.user_id != user.pk:
        raise PermissionDenied("This lock belongs to another account.")
    if not permissions.can_view_code(membership.role, lock.status):
        raise PermissionDenied(lock_code_withheld(lock=lock, membership=membership))
    _user_event(
        lock=lock,
        kind=LockEvent.Kind.CODE_REVEALED,
        user=user,
        ip=ip,
        unit=lock.unit,
        details={"status": lock.status},
    )
    return lock.unlock_code


# --- CSV import -------------------------------------------------------------------------------


def facility_import_preview(
    *, facility: Facility, text: str, filename: str, membership: Membership | None = None
) -> imports.ImportPlan:
    """What the file would change and every row's errors; writes nothing. With `membership`,
    a row that changes a lock the member's role may not change is an error of that row."""
    return imports.plan_import(
        facility=facility, text=text, filename=filename, membership=membership
    )


@transaction.atomic
def facility_import_commit(
    *,
    facility: Facility,
    text: str,
    filename: str,
    membership: Membership | None = None,
    previewed: str | None = None,
    user: User,
    ip: str | None,
) -> tuple[imports.ImportPlan, imports.ImportResult | None]:
    """All or nothing: the file is checked again against the database as it is now (rows
    locked), and written only when every row is valid and, given the `previewed` plan's
    fingerprint, nothing the file names changed since that preview (else the file's values
    would overwrite edits the preview never showed); otherwise nothing is written and the
    plan carries the errors. Each lock created or changed gets one LockEvent."""
    plan = imports.plan_import(
        facility=facility, text=text, filename=filename, for_update=True, membership=membership
    )
    if previewed is not None and plan.fingerprint != previewed:
        plan.errors.insert(
            0,
            imports.RowError(
                0,
                "Units or locks in this file changed since the preview. Nothing was written: "
                "upload the file again to see what it would change now.",
            ),
        )
    if not plan.is_valid:
        return plan, None
    return plan, imports.apply_plan(plan, user=user, ip=ip)
