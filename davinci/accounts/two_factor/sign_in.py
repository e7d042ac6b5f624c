"""The sign-in's second step: after the right password, a user with two-factor is not signed
in yet. The session holds who gave the password (and where to go next) for a few minutes;
a code of the authenticator app, a recovery code or a passkey then signs them in."""

from __future__ import annotations

import time

from django.contrib.auth import login
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django_otp.models import Device

from davinci.accounts.models import User

PENDING = "two_factor_pending"
# Seconds between the password and the second factor.
PENDING_SECONDS = 5 * 60


def pending_start(*, request: HttpRequest, user: User, next_url: str) -> None:
    """Remember the user who gave the right password; a new session key, so a session id
    fixed before the password cannot ride along."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "hash": user.get_session_auth_hash(),
        "at": time.time(),
        "next": next_url,
    }


def pending_user(request: HttpRequest) -> User | None:
    """The user halfway through signing in, or None (nobody, too late, or their password
    changed meanwhile)."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or not 0 <= time.time() - pending.get("at", 0) < (
        PENDING_SECONDS
    ):
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or not constant_time_compare(
        pending.get("hash", ""), user.get_session_auth_hash()
    ):
        return None
    user.backend = pending["backend"]
    return user


def pending_next(request: HttpRequest) -> str:
    return request.session.get(PENDING, {}).get("next", "/")


def sign_in_complete(*, request: HttpRequest, user: User, device: Device) -> str:
    """Sign the user in, verified by `device` (django-otp keeps it in the session); returns
    where to go next."""
    next_url = pending_next(request)
    request.session.pop(PENDING, None)
    user.otp_device = device  # django_otp's user_logged_in receiver keeps it in the session
    login(request, user, backend=user.backend)
    return next_url
