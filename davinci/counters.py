"""Counters in Django's cache: with CACHE_URL pointing at Redis, every instance counts into the
same one. The throttles and rate limits of sign-in, Show Key, the API and the overlock-release
page count through `count()` (the API's per-minute limits take a one-round-trip shortcut on
Redis, integrations/api/limits.py, into the same counters).

A throttle counts first and decides on the count it got back (`count(...) > limit`), never
on a value read before: the count is atomic, so of any number of parallel attempts only the
first `limit` are let through to be evaluated. A success that should not count gives its
count back with `refund()`."""

import contextlib

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


def refund(key: str) -> None:
    """Take back one count of `key` (an attempt counted first that turned out not to count)."""
    with contextlib.suppress(ValueError):  # the counter expired meanwhile: nothing to take
        cache.decr(key)
