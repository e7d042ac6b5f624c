"""The emails of two-factor: to the user whose two-factor changed, queued in the outbox
(davinci.outbox) with ids only, sent once the change commits. Their words are in
templates/emails/ (davinci/outbox/emails.py)."""

from __future__ import annotations

from davinci.accounts.models import User
from davinci.outbox import emails
from davinci.outbox.tasks import notice

# The email of each AuditEvent action the user is told of.
EMAILS = {
    "two_factor_enabled": emails.two_factor_enabled,
    "two_factor_disabled": emails.two_factor_disabled,
    "two_factor_reset": emails.two_factor_reset,
    "recovery_code_used": emails.recovery_code_used,
    "passkey_added": emails.passkey_added,
}


@notice("two_factor_changed")
def two_factor_notice_send(*, user_id: int, action: str, actor_id: int = 0, left: int = 0) -> None:
    user = User.objects.get(pk=user_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    who = "Platform staff" if actor is None else actor.get_full_name()
    EMAILS[action](to=user.email, context={"who": who, "left": left})
