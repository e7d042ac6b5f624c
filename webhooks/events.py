"""How events are written: in the transaction of the change, one Event and one Delivery per
endpoint that wants it (its events, its facilities in scope, Include in API on), handed to
webhooks/delivery.py once the transaction commits. A change that is rolled back takes its
rows with it, so nothing is sent for it; a broker that is down loses nothing (the sweep).

- Lock changes arrive through `facilities.signals.lock_events_recorded`
  (`lock_events_publish`, connected in WebhooksConfig.ready()).
- Other apps call `publish()` (automations: `automation.ran`, with
  `webhooks.payloads.automation_ran_data`).
- "Send test event" calls `test_publish()`: to one endpoint, whatever it subscribes to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from davinci.accounts.models import Account
from facilities.models import Facility, LockEvent
from webhooks import payloads, tasks
from webhooks.models import Delivery, Endpoint, Event, EventType

# A delivery is retried for about a day, then given up (webhooks/delivery.py).
RETRY_WINDOW = timedelta(days=1)


def endpoints_wanting(*, account_id: int, facility: Facility | None, type: str) -> list[Endpoint]:
    """The account's receiving endpoints subscribed to `type` whose scope holds `facility`
    (with Include in API on). An event of no facility goes to All Facilities endpoints."""
    if facility is not None and not facility.include_in_api:
        return []
    endpoints = Endpoint.objects.receiving().filter(account_id=account_id)
    if facility is None:
        endpoints = endpoints.filter(all_facilities=True)
    else:
        endpoints = endpoints.filter(Q(all_facilities=True) | Q(facilities=facility)).distinct()
    # An account has a handful of endpoints: their events are read here rather than matched
    # inside a JSON column, which SQLite and PostgreSQL query differently.
    return [endpoint for endpoint in endpoints.order_by("id") if type in endpoint.event_types]


def _write(
    *, account_id: int, facility: Facility | None, type: str, data: dict[str, Any], to: list
) -> Event | None:
    if not to:
        return None
    event = Event.objects.create(account_id=account_id, facility=facility, type=type, data=data)
    deliveries_write(event=event, endpoints=to)
    return event


def deliveries_write(*, event: Event, endpoints: Iterable[Endpoint]) -> list[Delivery]:
    """Queue `event` for each endpoint, and hand each endpoint to a sender once the
    transaction commits."""
    give_up_at = timezone.now() + RETRY_WINDOW
    rows = Delivery.objects.bulk_create(
        [Delivery(endpoint=endpoint, event=event, give_up_at=give_up_at) for endpoint in endpoints]
    )
    for endpoint_id in {row.endpoint_id for row in rows}:
        transaction.on_commit(lambda endpoint_id=endpoint_id: tasks.dispatch(endpoint_id))
    return rows


def publish(
    *, account: Account, facility: Facility | None, type: str, data: dict[str, Any]
) -> Event | None:
    """Announce `type` with `data` (built by webhooks.payloads) to every endpoint of the
    account that wants it, in the caller's transaction. Returns the Event, or None when no
    endpoint wants it (nothing is written then)."""
    if type not in EventType.values or type == EventType.WEBHOOK_TEST:
        raise ValueError(f"Not an event endpoints subscribe to: {type!r}.")
    to = endpoints_wanting(account_id=account.pk, facility=facility, type=type)
    return _write(account_id=account.pk, facility=facility, type=type, data=data, to=to)


def test_publish(*, endpoint: Endpoint) -> Event:
    """ "Send test event": a `webhook.test` event to this endpoint only."""
    now = timezone.now()
    event = Event.objects.create(
        account_id=endpoint.account_id,
        type=EventType.WEBHOOK_TEST,
        data=payloads.webhook_test_data(endpoint_id=endpoint.pk, when=now),
    )
    deliveries_write(event=event, endpoints=[endpoint])
    return event


def lock_events_publish(sender: object, *, events: list[LockEvent], **kwargs: object) -> None:
    """The receiver of `lock_events_recorded`: the webhook events of those lines of lock
    history. Lines that announce nothing (a code revealed or looked up) cost no query."""
    announced = [(event, types) for event in events if (types := payloads.lock_event_types(event))]
    if not announced:
        return
    facility_ids = {event.lock.facility_id for event, _ in announced}
    facilities = Facility.objects.in_bulk(facility_ids)
    wanting: dict[tuple[int, str], list[Endpoint]] = defaultdict(list)
    for facility in facilities.values():
        for type in {type for _, types in announced for type in types}:
            wanting[facility.pk, type] = endpoints_wanting(
                account_id=facility.account_id, facility=facility, type=type
            )
    for event, types in announced:
        lock = event.lock
        facility = facilities[lock.facility_id]
        for type in types:
            to = wanting[facility.pk, type]
            if not to:
                continue
            data = payloads.lock_event_data(
                type, event=event, lock=lock, unit=event.unit, facility=facility
            )
            _write(account_id=facility.account_id, facility=facility, type=type, data=data, to=to)
