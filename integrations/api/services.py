"""What the lookup API reads, always through the key's scope, and the record it leaves.

Every read starts from `api_key.facilities_in_scope()` (integrations/models.py), the one
rule for what a key may see, evaluated on each call. Anything outside it looks
exactly like something that does not exist: the functions return None and the view answers
404 either way.

A lookup that hands out an unlock code appends a LockEvent naming the key, the IP and the
unit in the same transaction as the read, so no code leaves without its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from facilities.models import Facility, Lock, LockEvent, Unit
from facilities.services import lock_event_record
from integrations.models import ApiKey

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def facilities_in_scope(*, api_key: ApiKey) -> QuerySet[Facility]:
    """The key's facilities in the order the API lists them."""
    return api_key.facilities_in_scope().order_by("name", "id")


def _one(queryset: QuerySet) -> Any:
    """The single row of a unique lookup, or None; no ORDER BY."""
    return next(iter(queryset.order_by()[:1]), None)


def facility_in_scope(*, api_key: ApiKey, facility_id: str) -> Facility | None:
    return _one(facilities_in_scope(api_key=api_key).filter(facility_id=facility_id))


def _units_of(api_key: ApiKey, facility_id: str) -> QuerySet[Unit]:
    scope = api_key.facilities_in_scope().filter(facility_id=facility_id)
    return Unit.objects.filter(facility__in=scope)


def lock_summary(lock: Lock | None) -> dict[str, Any] | None:
    """A lock in a list: serial and status, never its code."""
    if lock is None:
        return None
    return {
        "serial": lock.serial,
        "status": lock.status,
        "status_label": lock.get_status_display(),
        "updated_at": lock.updated_at.isoformat(),
    }


@dataclass(frozen=True)
class UnitPage:
    units: list[Unit]
    next_after: str | None  # the last unit number of this page when there is another


def unit_page(
    *,
    api_key: ApiKey,
    facility: Facility,
    status: str | None = None,
    q: str = "",
    after: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> UnitPage:
    """One page of a facility's units with their locks, in unit-number order (keyset
    pagination: one query whatever the page size or position)."""
    units = (
        _units_of(api_key, facility.facility_id)
        .select_related("lock")
        .only(
            "unit_number",
            "facility_id",
            "lock__serial",
            "lock__status",
            "lock__updated_at",
            "lock__unit_id",
        )
        .order_by("unit_number")
    )
    if status:
        units = units.filter(lock__status=status)
    if q:
        units = units.filter(Q(unit_number__icontains=q) | Q(lock__serial__icontains=q))
    if after is not None:
        units = units.filter(unit_number__gt=after)
    rows = list(units[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return UnitPage(units=rows, next_after=rows[-1].unit_number if has_more else None)


def _disclose(lock: Lock, *, api_key: ApiKey, ip: str | None, lookup: str) -> dict[str, Any]:
    """The lock with its code, or with the reason it is withheld. Only a code that is
    actually returned is recorded."""
    data = lock.to_api_dict()
    if lock.code_withheld:
        data["unlock_code"] = None
        data["unlock_code_withheld"] = lock.status
        return data
    data["unlock_code"] = lock.unlock_code
    data["unlock_code_withheld"] = None
    lock_event_record(
        lock=lock,
        kind=LockEvent.Kind.CODE_LOOKED_UP,
        actor_type=LockEvent.Actor.API_KEY,
        api_key=api_key,
        unit=lock.unit,
        ip=ip,
        details={"lookup": lookup, "facility_id": lock.facility.facility_id},
    )
    return data


# savepoint=False: inside an enclosing transaction a failure must roll the whole thing back
# anyway, and skipping the SAVEPOINT keeps a lookup at 4 queries (key, touch, read, insert).
@transaction.atomic(savepoint=False)
def unit_look_up(
    *, api_key: ApiKey, facility_id: str, unit_number: str, ip: str | None
) -> dict[str, Any] | None:
    """The unit and its lock with the unlock code (recorded), or None if the key cannot
    see such a unit. One query for the unit, its lock and the scope."""
    unit = _one(
        _units_of(api_key, facility_id)
        .filter(unit_number=unit_number)
        .select_related("facility", "lock__facility")
    )
    if unit is None:
        return None
    lock = getattr(unit, "lock", None)
    return {
        "unit_number": unit.unit_number,
        "facility_id": unit.facility.facility_id,
        "lock": _disclose(lock, api_key=api_key, ip=ip, lookup="unit") if lock else None,
    }


@transaction.atomic(savepoint=False)
def lock_look_up(
    *, api_key: ApiKey, facility_id: str, serial: str, ip: str | None
) -> dict[str, Any] | None:
    """The lock (with its unit number) and the unlock code (recorded), or None if the key
    cannot see such a lock. One query for the lock, its unit and the scope."""
    scope = api_key.facilities_in_scope().filter(facility_id=facility_id)
    lock = _one(
        Lock.objects.filter(facility__in=scope, serial=serial).select_related("facility", "unit")
    )
    if lock is None:
        return None
    return _disclose(lock, api_key=api_key, ip=ip, lookup="lock")


def recent_lookups(*, api_key: ApiKey, limit: int = 20) -> list[LockEvent]:
    """The codes this key read most recently, newest first: one query."""
    return list(
        LockEvent.objects.filter(api_key=api_key, kind=LockEvent.Kind.CODE_LOOKED_UP)
        .select_related("lock__facility", "unit")
        .order_by("-created_at", "-id")[:limit]
    )
