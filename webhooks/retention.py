"""How the delivery log stays bounded: every lock change writes an Event and a Delivery per
endpoint that wants it, and every request an Attempt, so at the largest operator's size
these rows would grow without end. `delivery_log_expire()` (beat, daily) deletes what is
finished and old:

1. deliveries delivered or given up that were written more than
   settings.WEBHOOKS_LOG_RETENTION_DAYS ago, with their attempts;
2. then the events older than that which no delivery needs any more (an old event resent
   lately keeps its row: its new delivery still needs it).

A pending delivery is never deleted, however old (a disabled endpoint's queue waits for it to
be enabled), nor its event. Rows go BATCH_SIZE at a time, each batch its own transaction, so
no statement holds locks on a day's worth of rows; the age columns are indexed, so finding a
batch reads only old rows.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from webhooks.models import Delivery, Event

BATCH_SIZE = 1000


def delivery_log_expire() -> int:
    """Delete the finished deliveries (with their attempts) and the unneeded events older
    than the retention period, BATCH_SIZE rows per transaction; never a pending delivery.
    Returns the number of deliveries deleted."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_LOG_RETENTION_DAYS)
    finished = Delivery.objects.filter(created_at__lt=cutoff).exclude(
        status=Delivery.Status.PENDING
    )
    deleted = 0
    while ids := list(finished.values_list("pk", flat=True)[:BATCH_SIZE]):
        with transaction.atomic():
            # Django deletes their attempts first: one DELETE … WHERE delivery_id IN (ids).
            finished.filter(pk__in=ids).delete()
        deleted += len(ids)
    unneeded = Event.objects.filter(created_at__lt=cutoff).exclude(
        Exists(Delivery.objects.filter(event=OuterRef("pk")))
    )
    while ids := list(unneeded.values_list("pk", flat=True)[:BATCH_SIZE]):
        with transaction.atomic():
            unneeded.filter(pk__in=ids).delete()
    return deleted
