"""Sending an endpoint's deliveries: in order, one request at a time, retried with backoff.

Why not the outbox (davinci/outbox) that sends emails? Its notices are independent, each
retried 5 times within minutes, with only the error's type kept. A webhook endpoint needs
what it does not have: the endpoint's events in the order written, one request in flight per
endpoint, retries for about a day, and each request's status, time and answer in a log. So
this module keeps its own small queue, and borrows the outbox's ways: rows written in the
change's transaction, handed to a worker on commit, claimed with one conditional UPDATE, a
beat sweep for what never reached a worker (webhooks/tasks.py), and in-process sending after
the response when there is no broker (`make run`).

`endpoint_deliver(endpoint_id)`:
1. claims the endpoint (`lease_until`): one UPDATE that only one worker wins, and only when
   the endpoint is active and not backing off;
2. sends its oldest pending delivery, then the next, until none is left or one fails;
3. after a failure the endpoint backs off (30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then
   every 6 h) and its oldest delivery is retried first, so order holds. A delivery still
   failing a day after it was written is given up and the next one goes;
4. an endpoint whose every request failed for 3 days is disabled, and its owners emailed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from davinci.accounts.models import AuditEvent
from davinci.accounts.services import audit_event_record
from webhooks import notices, payloads, transport
from webhooks.models import Attempt, Delivery, Endpoint

logger = logging.getLogger(__name__)

# A claim lasts this long; it is renewed before each request (10 s at most each).
LEASE = timedelta(seconds=60)
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=6),
]
DISABLE_AFTER = timedelta(days=3)
# A delivery waiting this long never reached a worker (the broker was down): swept.
SWEEP_GRACE = timedelta(seconds=30)

Status = Delivery.Status


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th failed request in a row."""
    return BACKOFF[min(failures, len(BACKOFF)) - 1]


def signed_headers(*, endpoint: Endpoint, message_id: str, when: datetime, body: bytes) -> dict:
    """The Standard Webhooks headers: one `v1,<signature>` per signing secret, separated by
    spaces (two for 24 h after "Roll secret")."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=when, data=body)
        for secret in endpoint.signing_secrets()
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _claim(endpoint_id: int) -> bool:
    now = timezone.now()
    return bool(
        Endpoint.objects.receiving()
        .filter(pk=endpoint_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .update(lease_until=now + LEASE)
    )


def _pending(endpoint_id: int):
    return Delivery.objects.filter(endpoint_id=endpoint_id, status=Status.PENDING)


def endpoint_deliver(endpoint_id: int) -> float | None:
    """Send what the endpoint has waiting, in order. Returns the seconds before it should be
    tried again (after a failure), or None."""
    while _claim(endpoint_id):
        try:
            retry_in = _send_queue(endpoint_id)
        finally:
            Endpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
        if retry_in is not None:
            return retry_in
        # A delivery written while this worker held the claim found the endpoint taken and
        # left it to this worker: look once more before letting go.
        if not _pending(endpoint_id).exists():
            return None
    return None


def _send_queue(endpoint_id: int) -> float | None:
    while True:
        Endpoint.objects.filter(pk=endpoint_id).update(lease_until=timezone.now() + LEASE)
        endpoint = Endpoint.objects.select_related("account").get(pk=endpoint_id)
        if not endpoint.is_active:
            return None
        head = _pending(endpoint_id).select_related("event").order_by("id").first()
        if head is None:
            return None
        if not attempt_send(endpoint=endpoint, delivery=head):
            return _failed(endpoint)


def attempt_send(*, endpoint: Endpoint, delivery: Delivery) -> bool:
    """One request of `delivery`, recorded in the delivery log. True when it was delivered."""
    body = payloads.body(delivery.event)
    started = timezone.now()
    headers = signed_headers(
        endpoint=endpoint, message_id=delivery.event.message_id, when=started, body=body
    )
    try:
        answer = transport.post(
            endpoint.url, body=body, headers=headers, keep=Attempt.RESPONSE_KEPT
        )
    except transport.RefusedAddress as exc:
        answer = transport.Response(None, "", 0, error=f"Not sent: {exc}"[:200])
    delivered = answer.status is not None and 200 <= answer.status < 300
    number = delivery.attempts + 1
    with transaction.atomic():
        Attempt.objects.create(
            endpoint=endpoint,
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=answer.duration_ms,
            status_code=answer.status,
            error=answer.error,
            response_body=answer.body[: Attempt.RESPONSE_KEPT],
        )
        if delivered:
            status = Status.DELIVERED
        elif timezone.now() >= delivery.give_up_at:
            status = Status.FAILED
        else:
            status = Status.PENDING
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=number,
            status=status,
            delivered_at=timezone.now() if delivered else None,
        )
        if delivered:
            Endpoint.objects.filter(pk=endpoint.pk).update(
                failures=0, retry_at=None, failing_since=None
            )
    if not delivered:
        logger.info(
            "Webhook delivery %s to endpoint %s failed (%s).",
            delivery.pk,
            endpoint.pk,
            answer.status or answer.error,
        )
    return delivered


def _failed(endpoint: Endpoint) -> float | None:
    """After a failed request: back off, or disable the endpoint after 3 days of failures."""
    now = timezone.now()
    failing_since = endpoint.failing_since or now
    if now - failing_since >= DISABLE_AFTER:
        endpoint_disable_failing(endpoint=endpoint)
        return None
    wait = backoff(endpoint.failures + 1)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failures=F("failures") + 1, retry_at=now + wait, failing_since=failing_since
    )
    return wait.total_seconds()


@transaction.atomic
def endpoint_disable_failing(*, endpoint: Endpoint) -> None:
    """3 days of failed requests: the endpoint is disabled (nothing more is written for it),
    recorded in the Activity log, and the account's owners are emailed."""
    endpoint.disable(by=None, reason=Endpoint.DisabledReason.FAILING)
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason"])
    event = audit_event_record(
        account=endpoint.account,
        action=AuditEvent.Action.WEBHOOK_DISABLED,
        actor=None,
        ip=None,
        target=endpoint,
        details={"reason": "3 days of failed deliveries"},
    )
    notices.endpoint_disabled_send.queue(audit_event_id=event.pk)
