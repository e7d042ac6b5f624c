"""Emails to an account's owners when something happens to one of its API keys.

Owners hear about every event that hands out or revives credentials (created, revealed,
rolled, re-enabled): who did it, to which key, when and from which address. The secret itself
is never in a notice.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail

from davinci import when as formats
from davinci.accounts.models import AuditEvent, Membership, Role, User
from davinci.outbox.tasks import notice
from integrations.models import ApiKey

# The events owners are told about: (what the subject says, the verb of the first line).
NOTIFIED_ACTIONS: dict[str, tuple[str, str]] = {
    AuditEvent.Action.KEY_CREATED: ("API key “{name}” created", "created"),
    AuditEvent.Action.KEY_REVEALED: ("API Secret of “{name}” shown", "revealed the secret of"),
    AuditEvent.Action.KEY_ROLLED: ("API Secret of “{name}” rolled", "rolled the secret of"),
    AuditEvent.Action.KEY_ENABLED: ("API key “{name}” re-enabled", "re-enabled"),
}


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


def compose(
    *, action: str, api_key: ApiKey, actor: User | None, ip: str | None, when: datetime
) -> tuple[str, str]:
    """The subject and body of the notice for one event."""
    subject_template, verb = NOTIFIED_ACTIONS[action]
    subject = "[DaVinci Lock] " + subject_template.format(name=api_key.name)
    lines = [
        f"{_who(actor)} {verb} the API key “{api_key.name}” of {api_key.account.name}.",
        "",
        f"API Key:  {api_key.api_key}",
        f"When:     {formats.when(when, api_key.account.zoneinfo)}",
        f"From IP:  {ip or 'not recorded (command line)'}",
        "",
        "If you did not expect this, open Integrations → API Settings in the DaVinci Lock "
        "portal, disable the key and create a new one for the third party.",
        "",
        "You receive this email because you are an owner of this account.",
    ]
    return subject, "\n".join(lines)


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
    subject, body = compose(
        action=event.action, api_key=api_key, actor=event.actor, ip=event.ip, when=event.created_at
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
