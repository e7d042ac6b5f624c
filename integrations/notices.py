"""Emails to an account's owners when something happens to one of its API keys.

Owners hear about every event that hands out or revives credentials (created, revealed,
rolled, re-enabled): who did it, to which key, when and from which address. The secret itself
is never in a notice. The words are in templates/emails/api_key_event*.txt
(davinci/outbox/emails.py).
"""

from __future__ import annotations

from datetime import datetime

from davinci import when as formats
from davinci.accounts.models import AuditEvent, Membership, Role, User
from davinci.outbox import emails
from davinci.outbox.tasks import notice
from integrations.models import ApiKey

# The events owners are told about.
NOTIFIED_ACTIONS = frozenset(
    {
        AuditEvent.Action.KEY_CREATED,
        AuditEvent.Action.KEY_REVEALED,
        AuditEvent.Action.KEY_ROLLED,
        AuditEvent.Action.KEY_ENABLED,
    }
)


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(account_id=account_id, role=Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _who(actor: User | None) -> str:
    if actor is None:
        return "Platform staff (manage.py create_api_key)"
    return f"{actor.name} ({actor.email})" if actor.name else actor.email


def key_event_context(
    *, action: str, api_key: ApiKey, actor: User | None, ip: str | None, when: datetime
) -> dict[str, object]:
    """What the email of one event says: who, which key, when (in the account's time zone)
    and from which address."""
    return {
        "action": action,
        "key": api_key,
        "account": api_key.account,
        "who": _who(actor),
        "when": formats.when(when, api_key.account.zoneinfo),
        "ip": ip,
    }


def notify_owners(*, event: AuditEvent) -> None:
    """Queue the owners' notice of a key event, when it is one they are told about. It is sent
    by a task (davinci/outbox) after the transaction commits, so a mail server that is down
    neither undoes nor slows the action; the task carries the event's id, never the secret."""
    if event.action in NOTIFIED_ACTIONS:
        key_notice_send.queue(audit_event_id=event.pk)


@notice("key_notice")
def key_notice_send(*, audit_event_id: int) -> None:
    event = AuditEvent.objects.select_related("account", "actor").get(pk=audit_event_id)
    recipients = owner_emails(event.account_id)
    api_key = (
        ApiKey.objects.select_related("account")
        .filter(account=event.account, api_key=event.target_id)
        .first()
    )
    if not recipients or api_key is None:
        return
    context = key_event_context(
        action=event.action, api_key=api_key, actor=event.actor, ip=event.ip, when=event.created_at
    )
    emails.api_key_event(to=recipients, context=context)
