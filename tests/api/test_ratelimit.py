"""Rate limits through the cache: per key, and per client IP for failed authentication."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from integrations.api import limits as ratelimit
from integrations.secrets import generate_api_secret
from tests.api.conftest import error_code, key_headers
from tests.factories import ApiKeyFactory


@pytest.fixture
def frozen_time(monkeypatch):
    """time.time() for the rate limiter, settable; starts 10 s into a window."""
    now = {"t": 1_700_000_000 // 60 * 60 + 10.0}
    monkeypatch.setattr(ratelimit.time, "time", lambda: now["t"])
    return now


@override_settings(API_RATE_LIMIT_PER_MINUTE=3)
def test_key_over_its_limit_gets_429_with_retry_after(world, api, frozen_time):
    for _ in range(3):
        assert api.call("/api/v1/facilities/", world.key).status_code == 200
    response = api.call("/api/v1/facilities/", world.key)
    assert (response.status_code, error_code(response)) == (429, "rate_limited")
    assert response["Retry-After"] == "50"
    # Another key of the same account has its own allowance.
    other = ApiKeyFactory(account=world.facility.account)
    assert api.call("/api/v1/facilities/", other).status_code == 200
    # The next minute starts afresh.
    frozen_time["t"] += 50
    assert api.call("/api/v1/facilities/", world.key).status_code == 200


@override_settings(API_AUTH_FAILURE_LIMIT_PER_MINUTE=2)
def test_failed_authentications_pause_the_ip_even_for_a_correct_secret(world, api, frozen_time):
    wrong = key_headers(world.key, generate_api_secret())
    for _ in range(2):
        response = api.call("/api/v1/facilities/", **wrong, REMOTE_ADDR="192.0.2.66")
        assert error_code(response) == "invalid_credentials"
    response = api.call("/api/v1/facilities/", world.key, REMOTE_ADDR="192.0.2.66")
    assert (response.status_code, error_code(response)) == (429, "rate_limited")
    assert response["Retry-After"] == "50"
    # Other addresses are not affected.
    assert api.call("/api/v1/facilities/", world.key, REMOTE_ADDR="192.0.2.67").status_code == 200
    frozen_time["t"] += 50
    assert api.call("/api/v1/facilities/", world.key, REMOTE_ADDR="192.0.2.66").status_code == 200


@override_settings(API_AUTH_FAILURE_LIMIT_PER_MINUTE=2)
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Basic !!!"},
        {"HTTP_X_API_KEY": "dvk_unknown", "HTTP_X_API_SECRET": "nope"},
    ],
)
def test_malformed_and_unknown_credentials_count_as_failures(world, api, headers):
    for _ in range(2):
        api.call("/api/v1/facilities/", **headers)
    assert api.call("/api/v1/facilities/", world.key).status_code == 429


@override_settings(API_AUTH_FAILURE_LIMIT_PER_MINUTE=2)
def test_missing_credentials_and_refused_keys_do_not_count(world, api):
    disabled = ApiKeyFactory(account=world.facility.account, is_active=False)
    for _ in range(3):
        api.call("/api/v1/facilities/")
        api.call("/api/v1/facilities/", disabled)
    assert api.call("/api/v1/facilities/", world.key).status_code == 200


def test_limits_default_to_600_and_20(settings):
    assert settings.API_RATE_LIMIT_PER_MINUTE == 600
    assert settings.API_AUTH_FAILURE_LIMIT_PER_MINUTE == 20


def test_counter_survives_eviction_between_add_and_incr(monkeypatch, frozen_time):
    from django.core.cache import cache

    monkeypatch.setattr(ratelimit, "_redis", lambda: None)  # the generic cache path
    assert ratelimit.hit("evicted", limit=1) is None
    monkeypatch.setattr(cache, "incr", lambda key: (_ for _ in ()).throw(ValueError(key)))
    monkeypatch.setattr(cache, "add", lambda *a, **k: False)
    assert ratelimit.hit("evicted", limit=1) is None  # counted as the first of a new window


def _redis_reachable() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/9",
        "KEY_PREFIX": "test-api-ratelimit",
    }
}


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES=REDIS_CACHE)
def test_redis_counters_are_one_window_shared_with_the_cache_api(frozen_time):
    """On Redis the counters take the pipelined path; they still expire with the window and
    read the same through Django's cache API (what another instance would see)."""
    from django.core.cache import caches

    cache = caches["default"]
    assert ratelimit._redis() is not None
    bucket = f"redis-test-{frozen_time['t']}"
    key = ratelimit._cache_key(bucket, int(frozen_time["t"] // 60 * 60))
    # Redis outlives the test run: start both windows this test counts in from zero, or a
    # rerun within a minute finds the previous run's counts.
    next_key = ratelimit._cache_key(bucket, int(frozen_time["t"] // 60 * 60) + 60)
    cache.delete_many([key, next_key])
    assert [ratelimit.hit(bucket, limit=2) for _ in range(3)] == [None, None, 50]
    assert cache.get(key) == 3
    assert 0 < ratelimit._redis().ttl(cache.make_and_validate_key(key)) <= ratelimit.TTL_SECONDS
    assert ratelimit.exceeded(bucket, limit=3) == 50
    assert ratelimit.exceeded(bucket, limit=4) is None
    frozen_time["t"] += 50  # the next window starts empty
    assert ratelimit.hit(bucket, limit=2) is None
    cache.delete(key)


class _CountingClient:
    """Wraps our redis-py client and counts round trips (a pipeline is one)."""

    def __init__(self, client):
        self.client, self.round_trips = client, 0

    def pipeline(self, **kwargs):
        pipeline = self.client.pipeline(**kwargs)
        execute = pipeline.execute

        def counted():
            self.round_trips += 1
            return execute()

        pipeline.execute = counted
        return pipeline

    def get(self, key):
        self.round_trips += 1
        return self.client.get(key)


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_a_lookup_costs_one_redis_round_trip_for_both_limits(world, api, monkeypatch, settings):
    # A prefix of its own: counters from an earlier run (they live 65 s) cannot interfere.
    settings.CACHES = {"default": {**REDIS_CACHE["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    settings.API_AUTH_FAILURE_LIMIT_PER_MINUTE = 1
    counting = _CountingClient(ratelimit._redis())
    monkeypatch.setattr(ratelimit, "_redis", lambda: counting)
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    assert api.call(url, world.key, REMOTE_ADDR="192.0.2.80").status_code == 200
    assert counting.round_trips == 1
    # The failure limit is still read in that trip: one failure pauses the address.
    wrong = key_headers(world.key, generate_api_secret())
    assert api.call(url, **wrong, REMOTE_ADDR="192.0.2.80").status_code == 401
    assert api.call(url, world.key, REMOTE_ADDR="192.0.2.80").status_code == 429
