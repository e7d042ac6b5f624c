"""The emails of two-factor: to the user whose two-factor changed, queued in the outbox
(davinci.outbox) with ids only, sent once the change commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from davinci.accounts.models import User
from davinci.outbox.tasks import notice

# What each email says, by the AuditEvent action it follows.
MESSAGES = {
    "two_factor_enabled": (
        "Two-factor authentication is on",
        "Two-factor authentication is now on for your DaVinci Lock account: signing in asks "
        "for a code from your authenticator app (or a passkey, or a recovery code) after your "
        "password.",
    ),
    "two_factor_disabled": (
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your DaVinci Lock account: signing in "
        "asks for your password only.",
    ),
    "two_factor_reset": (
        "Your two-factor authentication was reset",
        "{who} reset the two-factor authentication of your DaVinci Lock account: your "
        "authenticator app, recovery codes and passkeys no longer work. Set it up again "
        "under Your account.",
    ),
    "recovery_code_used": (
        "A recovery code was used to sign in",
        "One of your recovery codes was just used to sign in to your DaVinci Lock account. "
        "It works no more; {left} of your codes are left. Make new ones under Your account if "
        "you are running out.",
    ),
    "passkey_added": (
        "A passkey was added",
        "A passkey was added to your DaVinci Lock account. It can now be used instead of a "
        "code from your authenticator app.",
    ),
}
WARNING = "\n\nIf this was not you, reset your password at once and tell the owner of your account."


@notice("two_factor_changed")
def two_factor_notice_send(*, user_id: int, action: str, actor_id: int = 0, left: int = 0) -> None:
    user = User.objects.get(pk=user_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    who = "Platform staff" if actor is None else (actor.get_full_name())
    subject, body = MESSAGES[action]
    send_mail(
        f"[DaVinci Lock] {subject}",
        body.format(who=who, left=left) + WARNING,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
