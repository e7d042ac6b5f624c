"""A lock's history: LockEvent rows, only ever appended. Every change and every disclosure of
an unlock code (portal reveal, API lookup, tenant notice) writes its line through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model

from facilities.models import Lock, LockEvent, Unit
from facilities.signals import lock_events_recorded

if TYPE_CHECKING:
    from davinci.accounts.models import User


def lock_event_record(
    *,
    lock: Lock,
    kind: LockEvent.Kind,
    actor_type: LockEvent.Actor,
    user: User | None = None,
    api_key: Model | None = None,  # an integrations.ApiKey
    unit: Unit | None = None,
    from_status: str = "",
    to_status: str = "",
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> LockEvent:
    """Append one line to a lock's history.

    Every disclosure of an unlock code (portal reveal, API lookup, tenant-page send) calls
    this inside the same transaction as the read, so no code leaves without its record.
    Receivers of `facilities.signals.lock_events_recorded` hear of it in that transaction.
    """
    event = LockEvent.objects.create(
        lock=lock,
        kind=kind,
        actor_type=actor_type,
        actor_user=user,
        api_key=api_key,
        unit=unit,
        from_status=from_status,
        to_status=to_status,
        ip=ip,
        details=details or {},
    )
    lock_events_recorded.send(sender=LockEvent, events=[event])
    return event


def lock_events_record_many(*, events: list[LockEvent]) -> list[LockEvent]:
    """Append many history lines in a few INSERTs (CSV import). Rows are only ever added."""
    for event in events:
        if event.pk is not None:
            raise TypeError("Lock events are append-only.")
    created = LockEvent.objects.bulk_create(events, batch_size=500)
    lock_events_recorded.send(sender=LockEvent, events=created)
    return created
