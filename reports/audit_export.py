"""The audit export: an account's LockEvents or AuditEvents for a period, as CSV or JSON
Lines, streamed.

Rows are read in keyset batches of BATCH (id after the last one sent, in id order), each a
query of its own, so memory stays flat however many rows the period holds (docs/benchmarks.md
measures 5 million) and the first bytes leave after the first batch. A CSV cell a
spreadsheet would run as a formula is guarded (facilities/imports/rows.py); JSON Lines carry
the values as they are. Unlock codes are never in the history, so never in the export.
What a member may export is what they may see: their account, narrowed to their facilities
(LockEvents by the lock's facility; AuditEvents as the Activity log shows them,
integrations/activity.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from davinci.accounts.models import AuditEvent, Membership, User
from facilities.models import Facility, LockEvent
from integrations.activity import activity_visible_to
from integrations.models import ApiKey
from reports.downloads import csv_lines
from reports.usage import day_start

BATCH = 2_000

LOCK_EVENT_COLUMNS = {
    "id": "id",
    "time": "created_at",
    "event": "kind",
    "serial": "lock__serial",
    "facility_id": "lock__facility__facility_id",
    "unit_number": "unit__unit_number",
    "actor_type": "actor_type",
    "user": "actor_user__email",
    "api_key": "api_key__api_key",
    "api_key_name": "api_key__name",
    "from_status": "from_status",
    "to_status": "to_status",
    "ip": "ip",
    "details": "details",
}
AUDIT_EVENT_COLUMNS = {
    "id": "id",
    "time": "created_at",
    "action": "action",
    "user": "actor__email",
    "target_type": "target_type",
    "target_id": "target_id",
    "target": "target_repr",
    "ip": "ip",
    "details": "details",
}


def lock_events_for(
    *,
    membership: Membership,
    first: date,
    last: date,
    facility: Facility | None = None,
    actor: User | None = None,
    api_key: ApiKey | None = None,
) -> QuerySet[LockEvent]:
    events = LockEvent.objects.for_membership(membership).filter(
        created_at__gte=day_start(first), created_at__lt=day_start(last + timedelta(days=1))
    )
    if facility is not None:
        events = events.filter(lock__facility=facility)
    if actor is not None:
        events = events.filter(actor_user=actor)
    if api_key is not None:
        events = events.filter(api_key=api_key)
    return events


def audit_events_for(
    *,
    membership: Membership,
    first: date,
    last: date,
    facility: Facility | None = None,
    actor: User | None = None,
    api_key: ApiKey | None = None,
) -> QuerySet[AuditEvent]:
    events = activity_visible_to(membership).filter(
        created_at__gte=day_start(first), created_at__lt=day_start(last + timedelta(days=1))
    )
    if facility is not None:
        events = events.filter(target_type="facility", target_id=facility.facility_id)
    if actor is not None:
        events = events.filter(actor=actor)
    if api_key is not None:
        events = events.filter(target_type="api_key", target_id=api_key.api_key)
    return events


def _batches(events: QuerySet, columns: dict[str, str]) -> Iterator[dict]:
    """Every row of `events`, as {column: value}, BATCH at a time in id order."""
    last = 0
    fields = list(columns.values())
    while True:
        batch = list(events.filter(pk__gt=last).order_by("pk").values_list(*fields)[:BATCH])
        for values in batch:
            yield dict(zip(columns, values, strict=True))
        if len(batch) < BATCH:
            return
        last = batch[-1][0]


def export_lines(events: QuerySet, columns: dict[str, str], file_format: str) -> Iterator[str]:
    """The rows of `events` as CSV lines (header first) or JSON Lines."""
    rows = _batches(events, columns)
    if file_format == "jsonl":
        for row in rows:
            yield json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"
        return
    yield from csv_lines(
        list(columns),
        (
            [
                json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
                for value in row.values()
            ]
            for row in rows
        ),
    )
