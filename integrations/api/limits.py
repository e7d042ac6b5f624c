"""Fixed-window request counters for the API's two per-minute limits, shared by every
instance when the default cache is Redis.

A window is one calendar minute; at its edge a client may briefly get up to twice its limit,
the usual price of fixed windows. Counting is count-first: a request adds one and is then
judged by the new count, so parallel requests can never get more than the limit between them.

Round trips: a successful request counts its key and reads its address's failures in ONE
round trip (`key_hit_and_failures`). On Redis that is one pipeline (INCR, EXPIRE, GET) sent
through a redis-py client of our own, made from the cache's configured LOCATION — redis-py's
public API, not the private client of Django's backend (whose `incr()` costs two round trips
and `add()` one more). The keys are the cache's own (`cache.make_and_validate_key`) and the
values plain integers, so the counters read the same through `cache.get()`. On any other
cache backend (local memory in tests and `make run`) the same counts go through Django's
public cache API (`davinci.counters.count`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache

from davinci import counters

WINDOW_SECONDS = 60
# A little longer than the window so a slow clock on another instance still finds it.
TTL_SECONDS = WINDOW_SECONDS + 5
REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def _window(now: float) -> tuple[int, int]:
    """The current window's start and the whole seconds until the next one (at least 1)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    return start, max(1, math.ceil(start + WINDOW_SECONDS - now))


def _cache_key(bucket: str, start: int) -> str:
    return f"ratelimit:{bucket}:{start}"


@lru_cache(maxsize=8)
def _client(url: str) -> redis.Redis:
    """One client (and connection pool) per server and process; redis-py's pool is
    thread-safe and starts afresh in a forked worker."""
    return redis.Redis.from_url(url)


def _redis() -> redis.Redis | None:
    """Our redis-py client for the default cache's server, or None when it is not Redis.
    Django's Redis cache writes to its first server, so we do too."""
    config = settings.CACHES["default"]
    if config.get("BACKEND") != REDIS_BACKEND:
        return None
    location = config.get("LOCATION", "")
    servers = re.split("[;,]", location) if isinstance(location, str) else list(location)
    return _client(servers[0])


def _stored(key: str) -> str:
    """The key as Django's cache stores it (KEY_PREFIX, VERSION), so both read the same."""
    return cache.make_and_validate_key(key)


def _count(key: str) -> int:
    client = _redis()
    if client is None:
        return counters.count(key, timeout=TTL_SECONDS)
    pipeline = client.pipeline(transaction=False)
    pipeline.incr(_stored(key))
    pipeline.expire(_stored(key), TTL_SECONDS)
    count, _ = pipeline.execute()
    return int(count)


def _read(key: str) -> int:
    client = _redis()
    if client is None:
        return int(cache.get(key, 0))
    return int(client.get(_stored(key)) or 0)


def hit(bucket: str, *, limit: int) -> int | None:
    """Count one request in `bucket` (one round trip). Over `limit` in this window: the
    seconds to wait (for Retry-After); otherwise None."""
    start, retry_after = _window(time.time())
    return retry_after if _count(_cache_key(bucket, start)) > limit else None


def exceeded(bucket: str, *, limit: int) -> int | None:
    """Without counting: the seconds to wait when `bucket` already reached `limit`."""
    start, retry_after = _window(time.time())
    return retry_after if _read(_cache_key(bucket, start)) >= limit else None


@dataclass(frozen=True)
class Verdict:
    """Both limits of one authenticated request; each field is Retry-After or None."""

    failures_retry_after: int | None  # the address failed to authenticate too often
    key_retry_after: int | None  # the key made too many requests


def key_hit_and_failures(
    key_bucket: str, *, key_limit: int, failure_bucket: str, failure_limit: int
) -> Verdict:
    """Count one request against `key_bucket` and read `failure_bucket`, in one round trip
    on Redis. Failures are only read: an authenticated request is not a failure."""
    start, retry_after = _window(time.time())
    counted, read = _cache_key(key_bucket, start), _cache_key(failure_bucket, start)
    client = _redis()
    if client is None:
        count, failures = counters.count(counted, timeout=TTL_SECONDS), _read(read)
    else:
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(_stored(counted))
        pipeline.expire(_stored(counted), TTL_SECONDS)
        pipeline.get(_stored(read))
        count, _, failures = pipeline.execute()
    return Verdict(
        failures_retry_after=retry_after if int(failures or 0) >= failure_limit else None,
        key_retry_after=retry_after if int(count) > key_limit else None,
    )
