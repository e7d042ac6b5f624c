"""Emails to an account's owners when something happens to one of its API keys.

Owners hear about every event that hands out or revives credentials (created, revealed,
rolled, re-enabled): who did it, to which key, when and from which address. The secret itself
is never in a notice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from davinci.accounts.models import Membership, Role, User
from integrations.models import ApiKey, AuditEvent

logger = logging.getLogger(__name__)

# The events owners are told about: (what the subject says, the verb of the first line).
NOTIFIED_ACTIONS: dict[str, tuple[str, str]] = {
    AuditEvent.Action.KEY_CREATED: ("API key “{name}” created", "created"),
    AuditEvent.Action.KEY_REVEALED: ("API Secret of “{name}” shown", "revealed the secret of"),
    AuditEvent.Action.KEY_ROLLED: ("API Secret of “{name}” rolled", "rolled the secret of"),
    AuditEvent.Action.KEY_ENABLED: ("API key “{name}” re-enabled", "re-enabled"),
}


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.filter(account_id=account_id, role=Role.OWNER, user__is_active=True)
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
    local_when = timezone.localtime(when)
    subject = "[DaVinci Lock] " + subject_template.format(name=api_key.name)
    lines = [
        f"{_who(actor)} {verb} the API key “{api_key.name}” of {api_key.account.name}.",
        "",
        f"API Key:  {api_key.api_key}",
        f"When:     {local_when:%Y-%m-%d %H:%M:%S %Z}",
        f"From IP:  {ip or 'not recorded (command line)'}",
        "",
        "If you did not expect this, open Integrations → API Settings in the DaVinci Lock "
        "portal, disable the key and create a new one for the third party.",
        "",
        "You receive this email because you are an owner of this account.",
    ]
    return subject, "\n".join(lines)


def notify_owners(
    *, action: str, api_key: ApiKey, actor: User | None, ip: str | None, when: datetime
) -> None:
    """Email the account's owners once the current transaction commits.

    A mail server that is down must not undo or break the action itself: the failure is
    logged (without the secret, which this module never sees) and the request carries on.
    """
    if action not in NOTIFIED_ACTIONS:
        return
    subject, body = compose(action=action, api_key=api_key, actor=actor, ip=ip, when=when)
    account_id = api_key.account_id

    def send() -> None:
        recipients = owner_emails(account_id)
        if not recipients:
            return
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:
            logger.exception("Could not email owners of account %s about %s", account_id, action)

    transaction.on_commit(send)
