"""Every object the lookup API answers, built from model instances: the one place that knows
what a facility, a unit or a lock looks like in JSON.

Each TypedDict is a schema of integrations/api/openapi.json with the same name less `Data`
(tests/api/test_openapi.py holds their fields against the document's). The views and the
lookups' services hand model instances here, whether the ORM loaded them or the PostgreSQL
statement built them (integrations/api/statements.py); nothing else writes these dicts.

Only `lock_data` (a lookup's answer) carries a code, and it decrypts it: its caller has
recorded the read (integrations/api/services.py). Whether a key may see the code is
`permissions.key_can_view_code`; when it may not, the lock's status is the reason given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from automations.models import AutomationRun, FmsEvent
from davinci.accounts import permissions
from facilities.models import Facility, Lock, LockEvent, Unit


class FacilityData(TypedDict):
    facility_id: str
    name: str
    address: str


class LockSummaryData(TypedDict):
    """A lock in a list of units: never its code."""

    serial: str
    status: str
    status_label: str
    unit_number: str | None
    facility_id: str
    updated_at: str


class LockData(LockSummaryData):
    """A looked-up lock: its code, or why it is withheld (exactly one of the two is null)."""

    unlock_code: str | None
    unlock_code_withheld: str | None


class UnitListItemData(TypedDict):
    unit_number: str
    facility_id: str
    lock: LockSummaryData | None


class UnitData(TypedDict):
    unit_number: str
    facility_id: str
    lock: LockData | None


class TenantNoticeData(TypedDict):
    """What became of the "Unlock and Delinquency Paid" notice a release asked for."""

    requested: bool
    channels: list[str]  # where it is on its way: email, sms; empty when not sent
    not_sent_reason: str | None


class ReleaseData(TypedDict):
    """A release's answer: the unit with its lock (its code only for a key with `read`)."""

    data: UnitData | UnitListItemData
    tenant_notice: TenantNoticeData


class LockStatusChangeData(TypedDict):
    """A status change's answer: the lock (its code only for a key with `read`)."""

    data: LockData | LockSummaryData


class FacilityPageData(TypedDict):
    data: list[FacilityData]
    next: str | None


class UnitPageData(TypedDict):
    data: list[UnitListItemData]
    next: str | None


class AutomationRunData(TypedDict):
    """What one rule did with an FMS event (or, with no rule, why nothing was done)."""

    rule_id: int | None
    result: str
    reason: str
    serial: str | None
    from_status: str | None
    to_status: str | None
    notice: str | None
    notice_sent: bool


class FmsEventData(TypedDict):
    """An FMS event as recorded, and what the rules did: never a code or a contact."""

    id: int
    type: str
    occurred_at: str
    reference: str
    received_at: str
    facility_id: str
    unit_number: str
    contact_updated: bool
    runs: list[AutomationRunData]


def automation_run_data(run: AutomationRun) -> AutomationRunData:
    return {
        "rule_id": run.rule_id,
        "result": run.result,
        "reason": run.reason,
        "serial": run.lock.serial if run.lock_id else None,
        "from_status": run.from_status or None,
        "to_status": run.to_status or None,
        "notice": run.notice or None,
        "notice_sent": run.notice_sent,
    }


def fms_event_data(event: FmsEvent) -> FmsEventData:
    runs = event.runs.select_related("lock").order_by("id")
    return {
        "id": event.pk,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "reference": event.reference,
        "received_at": event.received_at.isoformat(),
        "facility_id": event.facility.facility_id,
        "unit_number": event.unit.unit_number,
        "contact_updated": event.contact_updated,
        "runs": [automation_run_data(run) for run in runs],
    }


def facility_data(facility: Facility) -> FacilityData:
    return {"facility_id": facility.facility_id, "name": facility.name, "address": facility.address}


def lock_summary_data(lock: Lock) -> LockSummaryData:
    """The lock with its unit's number (`lock.unit`, loaded with it) and no code."""
    unit = lock.unit
    return {
        "serial": lock.serial,
        "status": lock.status,
        "status_label": lock.get_status_display(),
        "unit_number": unit.unit_number if unit is not None else None,
        "facility_id": lock.facility.facility_id,
        "updated_at": lock.updated_at.isoformat(),
    }


def lock_data(lock: Lock) -> LockData:
    """The lock with its code, or the reason the code is withheld from API keys."""
    readable = permissions.key_can_view_code(lock.status)
    return {
        **lock_summary_data(lock),
        "unlock_code": lock.unlock_code if readable else None,
        "unlock_code_withheld": None if readable else lock.status,
    }


def _lock_of(unit: Unit) -> Lock | None:
    return getattr(unit, "lock", None)  # loaded with the unit (select_related, or the statement)


def unit_list_item_data(unit: Unit) -> UnitListItemData:
    lock = _lock_of(unit)
    return {
        "unit_number": unit.unit_number,
        "facility_id": unit.facility.facility_id,
        "lock": lock_summary_data(lock) if lock is not None else None,
    }


def unit_data(unit: Unit) -> UnitData:
    """A looked-up unit with its lock's code (or the reason it is withheld)."""
    lock = _lock_of(unit)
    return {
        "unit_number": unit.unit_number,
        "facility_id": unit.facility.facility_id,
        "lock": lock_data(lock) if lock is not None else None,
    }


def facility_page_data(facilities: Iterable[Facility], next_url: str | None) -> FacilityPageData:
    return {"data": [facility_data(facility) for facility in facilities], "next": next_url}


def unit_page_data(units: Iterable[Unit], next_url: str | None) -> UnitPageData:
    return {"data": [unit_list_item_data(unit) for unit in units], "next": next_url}


class EventData(TypedDict):
    """A lock's change in the event feed: never a code, never a tenant's contact."""

    id: int
    type: str
    occurred_at: str
    actor: str
    serial: str
    facility_id: str
    unit_number: str | None
    from_status: str | None
    to_status: str | None


class EventPageData(TypedDict):
    data: list[EventData]
    next: str
    retention_months: int
    kept_since: str


def event_data(event: LockEvent) -> EventData:
    """The event with its lock and unit (loaded with it)."""
    return {
        "id": event.pk,
        "type": event.kind,
        "occurred_at": event.created_at.isoformat(),
        "actor": event.actor_type,
        "serial": event.lock.serial,
        "facility_id": event.lock.facility.facility_id,
        "unit_number": event.unit.unit_number if event.unit is not None else None,
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
    }


def event_page_data(
    events: Iterable[LockEvent], next_url: str, *, retention_months: int, kept_since: str
) -> EventPageData:
    return {
        "data": [event_data(event) for event in events],
        "next": next_url,
        "retention_months": retention_months,
        "kept_since": kept_since,
    }


def release_data(
    unit: Unit, *, with_code: bool, requested: bool, channels: list[str], not_sent: str | None
) -> ReleaseData:
    return {
        "data": unit_data(unit) if with_code else unit_list_item_data(unit),
        "tenant_notice": {
            "requested": requested,
            "channels": channels,
            "not_sent_reason": not_sent,
        },
    }


def lock_status_data(lock: Lock, *, with_code: bool) -> LockStatusChangeData:
    return {"data": lock_data(lock) if with_code else lock_summary_data(lock)}
