"""Counters in Django's cache: with CACHE_URL pointing at Redis, every instance counts into the
same one. The throttles and rate limits of sign-in, Show Key, the API and the overlock-release
page count through `count()` (the API's per-minute limits take a one-round-trip shortcut on
Redis, integrations/ratelimit.py, into the same counters)."""

from django.core.cache import cache


def count(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` and return its new value. A counter starts at its first
    count and lives `timeout` seconds from then; `incr` is atomic, so no count is lost."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=timeout)
        return 1
