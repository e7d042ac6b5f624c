"""The email to an account's owners when one of its webhook endpoints is disabled after 3
days of failed deliveries (webhooks/delivery.py). Sent through the outbox, after the
transaction that disabled it commits; the words are in
templates/emails/webhook_endpoint_disabled*.txt (davinci/outbox/emails.py)."""

from __future__ import annotations

from django.conf import settings

from davinci import when as formats
from davinci.accounts.models import AuditEvent, Membership, Role
from davinci.outbox import emails
from davinci.outbox.tasks import notice
from webhooks.models import Attempt, Endpoint


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(account_id=account_id, role=Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


@notice("webhook_disabled")
def endpoint_disabled_send(*, audit_event_id: int) -> None:
    event = AuditEvent.objects.select_related("account").get(pk=audit_event_id)
    endpoint = (
        Endpoint.objects.filter(account=event.account, pk=int(event.target_id or 0))
        .select_related("account")
        .first()
    )
    recipients = owner_emails(event.account_id)
    if endpoint is None or not recipients:
        return
    last = Attempt.objects.filter(endpoint=endpoint).order_by("-id").first()
    if last is None:
        last_answer = "no request was made"
    elif last.status_code is not None:
        last_answer = f"HTTP {last.status_code}"
    else:
        last_answer = last.error or "no answer"
    zone = endpoint.account.zoneinfo
    context = {
        "endpoint": endpoint,
        "account": endpoint.account,
        "failing_since": formats.when(endpoint.failing_since or event.created_at, zone),
        "last_answer": last_answer,
        "portal_url": settings.PORTAL_URL.rstrip("/"),
    }
    emails.webhook_endpoint_disabled(to=recipients, context=context)
