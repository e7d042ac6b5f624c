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
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from davinci.accounts import permissions
from davinci.accounts.permissions import KeyPermission
from facilities.history import Actor, lock_event_by, lock_event_record
from facilities.models import Facility, Lock, LockEvent, Unit
from facilities.notices import Notice, tenant_notice_send
from facilities.retention import retention_cutoff
from facilities.services import lock_release, lock_status_change
from integrations.api import statements
from integrations.models import ApiKey

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def facilities_in_scope(*, api_key: ApiKey) -> QuerySet[Facility]:
    """The key's facilities in the order the API lists them: by name, then Facility ID (the
    list's keyset: what a page's cursor carries)."""
    return api_key.facilities_in_scope().order_by("name", "facility_id")


@dataclass(frozen=True)
class FacilityPage:
    facilities: list[Facility]
    # The last facility's (name, Facility ID) when there is another page.
    next_after: tuple[str, str] | None


def facility_page(
    *, api_key: ApiKey, after: tuple[str, str] | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> FacilityPage:
    """One page of the key's facilities, as the unit list pages its units (keyset pagination
    on the account's index by name: one query whatever the page size or position)."""
    facilities = facilities_in_scope(api_key=api_key)
    if after is not None:
        name, facility_id = after
        facilities = facilities.filter(Q(name__gt=name) | Q(name=name, facility_id__gt=facility_id))
    rows = list(facilities[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if has_more else None
    return FacilityPage(facilities=rows, next_after=(last.name, last.facility_id) if last else None)


def _one(queryset: QuerySet) -> Any:
    """The single row of a unique lookup, or None; no ORDER BY."""
    return next(iter(queryset.order_by()[:1]), None)


def facility_in_scope(*, api_key: ApiKey, facility_id: str) -> Facility | None:
    return _one(facilities_in_scope(api_key=api_key).filter(facility_id=facility_id))


def _scope_of(api_key: ApiKey, facility_id: str) -> QuerySet[Facility]:
    """The facility with this Facility ID if the key may read it (a subquery for others)."""
    return api_key.facilities_in_scope().filter(facility_id=facility_id)


def _units_of(api_key: ApiKey, facility_id: str) -> QuerySet[Unit]:
    return Unit.objects.filter(facility__in=_scope_of(api_key, facility_id))


def unit_in_scope(*, api_key: ApiKey, facility_id: str, unit_number: str) -> Unit | None:
    """The unit, with its facility, if the key may see it (no code is read)."""
    units = _units_of(api_key, facility_id).filter(unit_number=unit_number)
    return _one(units.select_related("facility"))


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
    updated_since: datetime | None = None,
) -> UnitPage:
    """One page of a facility's units with their locks, in unit-number order (keyset
    pagination: one query whatever the page size or position)."""
    units = (
        _units_of(api_key, facility.facility_id)
        .select_related("facility", "lock__facility")
        .only(  # never the codes
            "unit_number",
            "facility__facility_id",
            "lock__serial",
            "lock__status",
            "lock__updated_at",
            "lock__unit_id",
            "lock__facility__facility_id",
        )
        .order_by("unit_number")
    )
    if status:
        units = units.filter(lock__status=status)
    if q:
        units = units.filter(Q(unit_number__icontains=q) | Q(lock__serial__icontains=q))
    if updated_since is not None:  # the unit or its lock (a facility's units: no index needed)
        units = units.filter(
            Q(updated_at__gte=updated_since) | Q(lock__updated_at__gte=updated_since)
        )
    if after is not None:
        units = units.filter(unit_number__gt=after)
    rows = list(units[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return UnitPage(units=rows, next_after=rows[-1].unit_number if has_more else None)


def _record(lock: Lock, *, api_key: ApiKey, ip: str | None, lookup: str) -> None:
    """The LockEvent of a code given out; a withheld code is not recorded."""
    if permissions.key_can_view_code(lock.status):
        lock_event_record(
            lock=lock,
            kind=LockEvent.Kind.CODE_LOOKED_UP,
            actor_type=LockEvent.Actor.API_KEY,
            api_key=api_key,
            unit=lock.unit,
            ip=ip,
            details={"lookup": lookup, "facility_id": lock.facility.facility_id},
        )


def _read_and_record(
    *, lookup: str, match: str, api_key: ApiKey, facility_id: str, ip: str | None
) -> tuple[Unit | None, Lock | None]:
    """The unit and lock found through the key's scope, the code's LockEvent written.

    PostgreSQL: one statement reads and records (integrations/api/statements.py). Elsewhere:
    the ORM, the read and the insert in one transaction."""
    if connection.vendor == "postgresql":
        hit = statements.read_and_record(
            lookup=lookup,
            match=match,
            facility_id=facility_id,
            account_id=api_key.account_id,
            key_id=api_key.pk,
            all_facilities=api_key.all_facilities,
            ip=ip,
        )
        if hit is None:
            return None, None
        lock = hit.lock
        if lock is not None and permissions.key_can_view_code(lock.status) and not hit.recorded:
            raise RuntimeError("the lookup's LockEvent was not written")  # never the code
        return hit.unit, lock
    scope = _scope_of(api_key, facility_id)
    # savepoint=False: inside an enclosing transaction a failure rolls the whole thing back
    # anyway, and no SAVEPOINT keeps the lookup's queries to the read and the insert.
    with transaction.atomic(savepoint=False):
        if lookup == "unit":
            unit = _one(
                Unit.objects.filter(facility__in=scope, unit_number=match).select_related(
                    "facility", "lock__facility"
                )
            )
            lock = getattr(unit, "lock", None)
        else:
            lock = _one(
                Lock.objects.filter(facility__in=scope, serial=match).select_related(
                    "facility", "unit__facility"
                )
            )
            unit = lock.unit if lock else None
        if lock is not None:
            _record(lock, api_key=api_key, ip=ip, lookup=lookup)
    return unit, lock


def unit_look_up(
    *, api_key: ApiKey, facility_id: str, unit_number: str, ip: str | None
) -> Unit | None:
    """The unit with its lock (`unit.lock`), its code's read recorded, or None if the key
    cannot see such a unit. The answer is `serializers.unit_data(unit)`."""
    unit, _ = _read_and_record(
        lookup="unit", match=unit_number, api_key=api_key, facility_id=facility_id, ip=ip
    )
    return unit


def lock_look_up(*, api_key: ApiKey, facility_id: str, serial: str, ip: str | None) -> Lock | None:
    """The lock with its unit (`lock.unit`), its code's read recorded, or None if the key
    cannot see such a lock. The answer is `serializers.lock_data(lock)`."""
    _, lock = _read_and_record(
        lookup="lock", match=serial, api_key=api_key, facility_id=facility_id, ip=ip
    )
    return lock


def recent_lookups(*, api_key: ApiKey, limit: int = 20) -> list[LockEvent]:
    """The codes this key read most recently, newest first: one query."""
    return list(
        LockEvent.objects.filter(api_key=api_key, kind=LockEvent.Kind.CODE_LOOKED_UP)
        .select_related("lock__facility", "unit")
        .order_by("-created_at", "-id")[:limit]
    )


# --- The event feed ------------------------------------------------------------------------

# What the feed carries: a lock's changes, never a code shown or sent (LockEvent kinds).
FEED_KINDS = (
    LockEvent.Kind.STATUS_CHANGED,
    LockEvent.Kind.RELEASED,
    LockEvent.Kind.ASSIGNED,
    LockEvent.Kind.UNASSIGNED,
)
# Only events older than this are served. The feed pages by (created_at, id); a LockEvent's
# created_at is taken when it is written, and the transaction that writes it commits within
# milliseconds (the lock services are short transactions), so once an event is this old every
# event up to it is visible: none can appear later behind a cursor already handed out.
FEED_SETTLING = timedelta(seconds=2)


@dataclass(frozen=True)
class EventPage:
    events: list[LockEvent]
    next_after: tuple[datetime, int]  # where the next call starts: always given, to poll
    kept_since: datetime  # the retention cutoff: older events are no longer kept


class CursorExpired(Exception):
    """The cursor points before the account's retention cutoff."""


def event_page(
    *,
    api_key: ApiKey,
    after: tuple[datetime, int] | None,
    kinds: list[str],
    limit: int = DEFAULT_PAGE_SIZE,
    now: datetime | None = None,
) -> EventPage:
    """The key's scope's lock events of `kinds` after `after` (created_at, id), oldest
    first, settled (older than FEED_SETTLING). One query for the first page, two after a
    cursor; the cursor's events must still be kept (CursorExpired otherwise)."""
    now = now or timezone.now()
    kept_since = retention_cutoff(account=api_key.account, now=now)
    if after is not None and after[0] < kept_since:
        raise CursorExpired
    events = LockEvent.objects.filter(
        lock__facility__in=api_key.facilities_in_scope(),
        kind__in=kinds,
        created_at__gte=kept_since,
        created_at__lt=now - FEED_SETTLING,
    )
    if after is None:
        rows = list(_feed_order(events)[:limit])
    else:
        # The keyset (created_at, id) > after as two plain ranges, not one OR: the OR hid the
        # index's order from the planner (a parallel scan and a sort: 23 ms, not 2 ms).
        created_at, pk = after
        rows = list(_feed_order(events.filter(created_at=created_at, pk__gt=pk))[:limit])
        if len(rows) < limit:
            later = events.filter(created_at__gt=created_at)
            rows += _feed_order(later)[: limit - len(rows)]
    last = (rows[-1].created_at, rows[-1].pk) if rows else after
    return EventPage(events=rows, next_after=last or (kept_since, 0), kept_since=kept_since)


def _feed_order(events: QuerySet[LockEvent]) -> QuerySet[LockEvent]:
    return (
        events.select_related("lock__facility", "unit")
        .only(  # never a code, never a contact
            "created_at",
            "kind",
            "actor_type",
            "lock",
            "unit",
            "from_status",
            "to_status",
            "lock__serial",
            "lock__status",  # Lock reads it when loaded (its status-change bookkeeping)
            "lock__facility__facility_id",
            "unit__unit_number",
        )
        .order_by("created_at", "pk")
    )


# --- Writes ------------------------------------------------------------------------------


class InvalidTransition(Exception):
    """The lock, as it is now, cannot make this change: `409 invalid_transition`."""

    def __init__(self, message: str, *, status: str):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Released:
    unit: Unit  # with the released lock (`unit.lock`)
    notice_channels: list[str]  # where "Unlock and Delinquency Paid" goes; empty: not sent
    notice_not_sent: str | None  # why it was not sent, when it was asked for and could not be


def unit_with_lock(*, api_key: ApiKey, facility_id: str, unit_number: str) -> Unit | None:
    """The unit through the key's scope with its lock (`unit.lock`), or None. Reads no code."""
    return _one(
        _units_of(api_key, facility_id)
        .filter(unit_number=unit_number)
        .select_related("facility", "lock__facility")
    )


def lock_in_scope(*, api_key: ApiKey, facility_id: str, serial: str) -> Lock | None:
    """The lock through the key's scope with its unit, or None. Reads no code."""
    return _one(
        Lock.objects.filter(
            facility__in=_scope_of(api_key, facility_id), serial=serial
        ).select_related("facility", "unit__facility")
    )


def _invalid(lock: Lock, message: str) -> InvalidTransition:
    return InvalidTransition(
        f"{message} The lock is {lock.status} ({lock.get_status_display()}).", status=lock.status
    )


def _record_code(lock: Lock, *, actor: Actor, lookup: str) -> None:
    """A write's answer gives the code out only to a key with `read`: recorded as a read."""
    if permissions.key_can_view_code(lock.status):
        lock_event_by(
            actor,
            lock=lock,
            kind=LockEvent.Kind.CODE_LOOKED_UP,
            unit=lock.unit,
            details={"lookup": lookup, "facility_id": lock.facility.facility_id},
        )


@transaction.atomic
def unit_release(*, api_key: ApiKey, unit: Unit, notify_tenant: bool, ip: str | None) -> Released:
    """Release overlock through the API: the portal's `lock_release` (Assigned Overlock →
    Returned to Dropbox, one LockEvent naming the key and its IP) and, when asked, its
    "Unlock and Delinquency Paid" notice to the contacts on file. A unit with no contact is
    still released; the answer says the notice was not sent and why. For a key with `read`
    the code in the answer is recorded as a read. InvalidTransition for any other status."""
    actor = Actor.for_api_key(api_key, ip=ip)
    lock = getattr(unit, "lock", None)
    if lock is None:
        raise InvalidTransition(f"Unit {unit.unit_number} has no lock to release.", status="")
    try:
        lock = lock_release(lock=lock, actor=actor)
    except ValidationError:
        raise _invalid(
            lock_fresh(lock), "Only an Assigned Overlock lock can be released."
        ) from None
    channels, not_sent = [], None
    if notify_tenant:
        try:
            channels = tenant_notice_send(lock=lock, notice=Notice.DELINQUENCY_PAID, actor=actor)
        except ValidationError as exc:
            not_sent = " ".join(exc.messages)
    if api_key.has_permission(KeyPermission.READ):
        _record_code(lock, actor=actor, lookup="release")
    unit.lock = lock
    lock.unit = unit
    return Released(unit=unit, notice_channels=[str(c) for c in channels], notice_not_sent=not_sent)


@transaction.atomic
def lock_status_set(*, api_key: ApiKey, lock: Lock, status: str, ip: str | None) -> Lock:
    """Set lock status through the API: what a Client Call Center may set in the portal
    (`permissions.key_can_set_status`, asked of the lock as it is under its row lock), through
    the portal's `lock_status_change`. InvalidTransition for any other change."""
    actor = Actor.for_api_key(api_key, ip=ip)
    current = lock_fresh(lock, for_update=True)
    if not permissions.key_can_set_status(current.status, status):
        raise _invalid(current, f"An API key cannot set this lock to {status}.")
    try:
        changed = lock_status_change(lock=current, status=status, actor=actor)
    except ValidationError as exc:
        raise _invalid(current, " ".join(exc.messages)) from None
    if api_key.has_permission(KeyPermission.READ):
        _record_code(changed, actor=actor, lookup="status")
    return changed


def lock_fresh(lock: Lock, *, for_update: bool = False) -> Lock:
    """The lock as it is now in the database, with its unit and facility."""
    locks = Lock.objects.select_related("facility", "unit__facility")
    if for_update:
        locks = locks.select_for_update(of=("self",))
    return locks.get(pk=lock.pk)
