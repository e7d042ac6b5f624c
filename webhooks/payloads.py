"""What an endpoint is sent: one module builds every event's `data` and the body around it.

The body follows the Standard Webhooks shape, `{"type", "timestamp", "data"}`, its JSON
written the same way each time from the Event row, so a resend signs the same bytes.
`data` carries ids, statuses, the unit number, the Facility ID and times: never an unlock
code, never a tenant's name, email or phone (tests/webhooks/test_payloads.py scans them all).
The JSON Schema of each type is in the OpenAPI document's `webhooks` section
(integrations/api/openapi.json), and tests hold the two together.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from facilities.models import Facility, Lock, LockEvent, LockStatus, Unit
from webhooks.models import Event, EventType


def iso(moment: datetime) -> str:
    """UTC, to the millisecond, with a Z: `2026-03-01T14:05:09.123Z`."""
    return timezone.localtime(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lock_event_types(event: LockEvent) -> list[str]:
    """The webhook events a line of a lock's history announces. A release is a status change
    too (Assigned Overlock → Returned to Dropbox): it is announced as both, so an endpoint
    that follows status changes alone misses none."""
    types = []
    if event.from_status and event.to_status and event.from_status != event.to_status:
        types.append(EventType.LOCK_STATUS_CHANGED)
    if event.kind == LockEvent.Kind.RELEASED:
        types.append(EventType.OVERLOCK_RELEASED)
    elif event.kind == LockEvent.Kind.CODE_SENT:
        types.append(EventType.RELEASE_CODE_SENT)
    return types


def _status(value: str) -> dict[str, str] | None:
    return {"value": value, "label": LockStatus(value).label} if value else None


def lock_event_data(
    type: str, *, event: LockEvent, lock: Lock, unit: Unit | None, facility: Facility
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lock_event_id": event.pk,
        "serial": lock.serial,
        "facility_id": facility.facility_id,
        "unit_number": unit.unit_number if unit is not None else None,
        "actor": event.actor_type,
        "occurred_at": iso(event.created_at),
    }
    if type == EventType.RELEASE_CODE_SENT:
        details = event.details or {}
        data["status"] = _status(lock.status)
        # How it went out (email or text message), never where to.
        data["channel"] = details.get("channel", "")
        data["notice"] = details.get("notice", "")
    else:
        data["from_status"] = _status(event.from_status)
        data["to_status"] = _status(event.to_status)
    return data


def automation_ran_data(
    *,
    rule_id: int,
    trigger: str,
    result: str,
    lock: Lock | None,
    unit: Unit | None,
    facility: Facility,
    occurred_at: datetime,
    ran_at: datetime,
) -> dict[str, Any]:
    """An automation rule ran: the rule, the event that triggered it (payment_received,
    move_in, move_out), what it did (`result`: acted, skipped or failed, as
    automations.models.AutomationRun.Result), on which lock and unit, and when."""
    return {
        "rule_id": rule_id,
        "trigger": trigger,
        "result": result,
        "serial": lock.serial if lock is not None else None,
        "status": _status(lock.status) if lock is not None else None,
        "unit_number": unit.unit_number if unit is not None else None,
        "facility_id": facility.facility_id,
        "occurred_at": iso(occurred_at),
        "ran_at": iso(ran_at),
    }


def webhook_test_data(*, endpoint_id: int, when: datetime) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "message": "A test event from DaVinci Lock: your endpoint receives and verifies it.",
        "sent_at": iso(when),
    }


def body(event: Event) -> bytes:
    """The request body, exactly the bytes that are signed and sent."""
    document = {"type": event.type, "timestamp": iso(event.created_at), "data": event.data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
