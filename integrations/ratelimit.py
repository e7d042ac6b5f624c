"""Fixed-window request counters in Django's cache.

The counters live in the default cache, so with CACHE_URL pointing at Redis every instance
behind the load balancer counts into the same window. A window is one calendar minute; at
its edge a client may briefly get up to twice its limit, the usual price of fixed windows and
cheap enough here (one cache round trip for a read, two for a count).
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def _window(now: float) -> tuple[int, int]:
    """The current window's start and the whole seconds until the next one (at least 1)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    return start, max(1, math.ceil(start + WINDOW_SECONDS - now))


def _cache_key(bucket: str, start: int) -> str:
    return f"ratelimit:{bucket}:{start}"


def hit(bucket: str, *, limit: int) -> int | None:
    """Count one request in `bucket`. Over `limit` in this window: the seconds to wait
    (for Retry-After); otherwise None."""
    start, retry_after = _window(time.time())
    key = _cache_key(bucket, start)
    # A little longer than the window so a slow clock on another instance still finds it.
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
    return retry_after if count > limit else None


def exceeded(bucket: str, *, limit: int) -> int | None:
    """Without counting: the seconds to wait when `bucket` already reached `limit`."""
    start, retry_after = _window(time.time())
    count = cache.get(_cache_key(bucket, start), 0)
    return retry_after if count >= limit else None
