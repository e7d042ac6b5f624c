"""Celery tasks of webhooks (found by the app's autodiscovery), and how an endpoint is handed
to one: `dispatch(endpoint_id)` once a transaction that wrote deliveries commits, again after
a failure's backoff, and from the beat sweep (settings.CELERY_BEAT_SCHEDULE) for endpoints
whose deliveries never reached a worker (the broker was down). The tasks carry an
endpoint's id, never an event or a secret. `log_expire` (beat, daily) keeps the delivery log
to its retention period (webhooks/retention.py)."""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from davinci.outbox import after_response
from webhooks.delivery import SWEEP_GRACE, endpoint_deliver
from webhooks.models import Delivery, Endpoint
from webhooks.retention import delivery_log_expire

logger = logging.getLogger(__name__)


def dispatch(endpoint_id: int, *, countdown: float = 0) -> None:
    """Give the endpoint to a worker. Without a broker (`make run`), a thread of its own
    sends, so the request that made the change never waits for the endpoint; a broker that
    cannot be reached is logged, not raised: the sweep finds the deliveries later."""
    if deliver.app.conf.task_always_eager:
        if countdown:
            timer = threading.Timer(countdown, dispatch, args=(endpoint_id,))
            timer.daemon = True
            timer.start()
        else:
            after_response.in_background(endpoint_deliver_and_retry, endpoint_id)
        return
    try:
        deliver.apply_async((endpoint_id,), countdown=countdown or None)
    except Exception as exc:
        logger.warning(
            "Webhook endpoint %s waits for the sweep: the broker is unreachable (%s).",
            endpoint_id,
            type(exc).__name__,
        )


def endpoint_deliver_and_retry(endpoint_id: int) -> None:
    retry_in = endpoint_deliver(endpoint_id)
    if retry_in is not None:
        dispatch(endpoint_id, countdown=retry_in)


def webhooks_sweep() -> int:
    """Dispatch every receiving endpoint with a delivery waiting longer than SWEEP_GRACE
    whose backoff, if any, is over; returns how many."""
    now = timezone.now()
    waiting = Delivery.objects.filter(
        status=Delivery.Status.PENDING, created_at__lte=now - SWEEP_GRACE
    ).values("endpoint_id")
    due = list(
        Endpoint.objects.receiving()
        .filter(pk__in=waiting)
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", flat=True)[:1000]
    )
    for endpoint_id in due:
        dispatch(endpoint_id)
    return len(due)


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(endpoint_id: int) -> None:
    endpoint_deliver_and_retry(endpoint_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    return webhooks_sweep()


@shared_task(name="webhooks.log_expire", ignore_result=True)
def log_expire() -> int:
    return delivery_log_expire()
