"""Sign-in throttling through Django's cache (shared across instances when it is Redis).

Sign-ins are counted per email address (someone guessing one user's password) and per
client IP (someone trying many users) in fixed windows, each attempt before its password is
checked; a right password takes its count back. Past either limit every attempt is refused,
even with the right password, until the window ends. Counting uses the cache's atomic
add/incr, so neither parallel requests nor several instances get past a limit.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from davinci import counters


def _window() -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    length = settings.SIGN_IN_THROTTLE_WINDOW
    now = int(time.time())
    return now // length, length - now % length


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    number, _left = _window()
    # Hashed: a cache key must not carry a raw email, nor spaces or odd characters.
    email_digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    ip_digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return [
        (f"signin-fail:email:{email_digest}:{number}", settings.SIGN_IN_FAILURES_PER_EMAIL),
        (f"signin-fail:ip:{ip_digest}:{number}", settings.SIGN_IN_FAILURES_PER_IP),
    ]


@dataclass(frozen=True)
class SignInAttempt:
    """One sign-in attempt, counted before its password is checked."""

    email_key: str
    ip_key: str
    # Seconds until sign-in may be tried again; 0 when this attempt may be evaluated.
    retry_after: int
    # The limits ("email", "ip") this attempt is the last one allowed by: if it fails, they
    # are reached.
    reaching: tuple[str, ...]

    def succeeded(self) -> None:
        """A right password ends the count for that address and takes back the IP's count."""
        cache.delete(self.email_key)
        counters.refund(self.ip_key)


def sign_in_attempt(*, email: str, ip: str) -> SignInAttempt:
    """Count the attempt against both limits before anything is evaluated, so parallel
    attempts cannot all slip under a limit: only the first ones in each window get through."""
    _number, left = _window()
    (email_key, email_limit), (ip_key, ip_limit) = _keys(email, ip)
    email_count = counters.count(email_key, timeout=left + 1)
    ip_count = counters.count(ip_key, timeout=left + 1)
    over = email_count > email_limit or ip_count > ip_limit
    reaching = tuple(
        kind
        for kind, number, limit in (("email", email_count, email_limit), ("ip", ip_count, ip_limit))
        if number == limit
    )
    return SignInAttempt(
        email_key=email_key,
        ip_key=ip_key,
        retry_after=left if over else 0,
        reaching=() if over else reaching,
    )


def second_factor_attempt(*, user_id: int, ip: str) -> SignInAttempt:
    """A code typed at the sign-in's second step (or when re-confirming), counted first like a
    password: per user (someone who has the password guessing codes) and per client IP, each
    in the sign-in window. A right code ends the user's count and takes back the IP's."""
    number, left = _window()
    user_key = f"2fa-fail:user:{user_id}:{number}"
    ip_key = f"2fa-fail:ip:{hashlib.sha256(ip.encode()).hexdigest()[:32]}:{number}"
    user_count = counters.count(user_key, timeout=left + 1)
    ip_count = counters.count(ip_key, timeout=left + 1)
    limits = (
        ("email", user_count, settings.TWO_FACTOR_FAILURES_PER_USER),
        ("ip", ip_count, settings.TWO_FACTOR_FAILURES_PER_IP),
    )
    over = any(number > limit for _kind, number, limit in limits)
    reaching = tuple(kind for kind, number, limit in limits if number == limit)
    return SignInAttempt(
        email_key=user_key,
        ip_key=ip_key,
        retry_after=left if over else 0,
        reaching=() if over else reaching,
    )
