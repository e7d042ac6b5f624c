"""Sign-in throttling through Django's cache (shared across instances when it is Redis).

Failed sign-ins are counted per email address (someone guessing one user's password) and per
client IP (someone trying many users) in fixed windows. Past either limit every attempt is
refused, even with the right password, until the window ends. Counting uses the cache's atomic
add/incr, so several instances never lose a failure.
"""

from __future__ import annotations

import hashlib
import time

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


def sign_in_retry_after(*, email: str, ip: str) -> int:
    """Seconds until sign-in may be tried again; 0 when it is not throttled."""
    keys = _keys(email, ip)
    counts = cache.get_many([key for key, _limit in keys])
    if any(counts.get(key, 0) >= limit for key, limit in keys):
        return _window()[1]
    return 0


def sign_in_failed(*, email: str, ip: str) -> list[str]:
    """Count one failure; returns which limits ("email", "ip") this very failure reached."""
    _number, left = _window()
    reached = []
    for (key, limit), kind in zip(_keys(email, ip), ("email", "ip"), strict=True):
        if counters.count(key, timeout=left + 1) == limit:
            reached.append(kind)
    return reached


def sign_in_succeeded(*, email: str) -> None:
    """A right password ends the count for that address (not for the IP)."""
    key, _limit = _keys(email, "")[0]
    cache.delete(key)
