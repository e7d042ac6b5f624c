"""Fixed-window request counters in Django's cache.

The counters live in the default cache, so with CACHE_URL pointing at Redis every instance
behind the load balancer counts into the same window. A window is one calendar minute; at
its edge a client may briefly get up to twice its limit, the usual price of fixed windows.

On Django's Redis backend a count is one round trip (INCR and EXPIRE in a pipeline) instead
of the three that `cache.add()` + `cache.incr()` cost there; the values are plain integers
either way, so both paths read each other's counters. Any other cache backend counts through
`davinci.counters.count()`, on the public cache API.
"""

from __future__ import annotations

import math
import time
import weakref
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from davinci import counters

WINDOW_SECONDS = 60
# A little longer than the window so a slow clock on another instance still finds it.
TTL_SECONDS = WINDOW_SECONDS + 5


def _window(now: float) -> tuple[int, int]:
    """The current window's start and the whole seconds until the next one (at least 1)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    return start, max(1, math.ceil(start + WINDOW_SECONDS - now))


def _cache_key(bucket: str, start: int) -> str:
    return f"ratelimit:{bucket}:{start}"


_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _redis(key: str):
    """The redis-py client behind Django's Redis cache and the key as stored, or None.

    Django's `get_client()` builds a new client object on every call (its set-up costs more
    CPU than the round trip); writes always go to the first server, so one client per cache
    backend and process is enough. It shares Django's connection pool and is thread-safe.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    stored = backend.make_and_validate_key(key)
    client = _clients.get(backend._cache)
    if client is None:
        client = _clients[backend._cache] = backend._cache.get_client(stored, write=True)
    return client, stored


def _count(key: str) -> int:
    redis = _redis(key)
    if redis is not None:
        client, stored = redis
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(stored)
        pipeline.expire(stored, TTL_SECONDS)
        count, _ = pipeline.execute()
        return int(count)
    return counters.count(key, timeout=TTL_SECONDS)


def hit(bucket: str, *, limit: int) -> int | None:
    """Count one request in `bucket`. Over `limit` in this window: the seconds to wait
    (for Retry-After); otherwise None."""
    start, retry_after = _window(time.time())
    return retry_after if _count(_cache_key(bucket, start)) > limit else None


def exceeded(bucket: str, *, limit: int) -> int | None:
    """Without counting: the seconds to wait when `bucket` already reached `limit`."""
    start, retry_after = _window(time.time())
    key = _cache_key(bucket, start)
    redis = _redis(key)
    if redis is not None:
        client, stored = redis
        count = int(client.get(stored) or 0)
    else:
        count = cache.get(key, 0)
    return retry_after if count >= limit else None
