"""Password reset: how often one may be asked for, and its email, sent by a task.

The task carries the user's id (and the site's host, which ALLOWED_HOSTS vetted), never the
reset link: the token is made when the email is sent, from the user as they are then. Every
request queues one, 0 standing for an address with no user, and it is handed on after the
answer: a known and an unknown address cost the request the same.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from davinci import counters
from davinci.accounts.models import User
from davinci.outbox import emails
from davinci.outbox.tasks import notice

WINDOW = 60 * 60


def password_reset_limited(*, email: str, ip: str) -> bool:
    """Counts the request first; True when this typed address or this client IP has asked
    too often this hour. Keyed on what was typed, so it says nothing about who has an account;
    and each request that was let through sent its link to the real owner of the address."""
    limits = (
        ("email", email.strip().casefold(), settings.PASSWORD_RESET_PER_EMAIL),
        ("ip", ip, settings.PASSWORD_RESET_PER_IP),
    )
    over = False
    for kind, value, limit in limits:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        over |= counters.count(f"password-reset:{kind}:{digest}", timeout=WINDOW) > limit
    return over


@notice("password_reset")
def password_reset_send(*, user_id: int, domain: str, use_https: bool) -> None:
    """The reset link to the user; nothing for 0 (an address no user may reset with)."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None or not (user.is_active and user.has_usable_password()):
        return
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": domain,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if use_https else "http",
    }
    emails.password_reset(to=user.email, context=context)
