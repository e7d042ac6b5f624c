"""A database that cannot be reached: portal pages answer a friendly 503 page, the API its JSON
503; never a traceback or the generic 500 page. bench/db_outage.py does the same against a
real PostgreSQL that is stopped and started again."""

from __future__ import annotations

import json
import logging
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from tests.conftest import signed_in

OUTAGE = OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@pytest.fixture
def owner_browser(owner) -> Client:
    client = signed_in(owner)
    client.raise_request_exception = False
    return client


@pytest.fixture
def session_cannot_load(owner_browser):
    """From here on every session read fails the way it does when PostgreSQL is down."""
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load", side_effect=OUTAGE
    ) as patched:
        yield patched


def _assert_friendly_503(response) -> None:
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert "The portal is temporarily unavailable" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "127.0.0.1" not in body  # nothing about the database leaks
    # The rewritten page keeps every security header of the response.
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


@pytest.mark.parametrize("path", ["/facilities/", "/integrations/", "/accounts/switch/"])
def test_portal_page_answers_friendly_503_when_the_session_cannot_load(
    owner_browser, session_cannot_load, path
):
    _assert_friendly_503(owner_browser.get(path))


def test_sign_in_post_answers_friendly_503_when_the_database_is_down(db, owner, password):
    client = Client(raise_request_exception=False)
    with mock.patch("django.contrib.auth.forms.authenticate", side_effect=InterfaceError("gone")):
        response = client.post(
            "/accounts/sign-in/", {"username": "owner@example.com", "password": password}
        )
    _assert_friendly_503(response)


def test_outage_is_one_warning_and_a_request_log_line_without_a_user(
    owner_browser, session_cannot_load, caplog
):
    with caplog.at_level(logging.INFO, logger="davinci.request"):
        response = owner_browser.get("/facilities/")
    assert response.status_code == 503
    lines = [r for r in caplog.records if r.name == "davinci.request"]
    assert any("database unavailable" in r.getMessage() for r in lines)
    request_line = next(r for r in lines if getattr(r, "status", None) is not None)
    assert request_line.status == 503
    assert request_line.user_id is None
    assert request_line.request_id == response["X-Request-ID"]


def test_the_api_never_loads_a_session_so_its_outage_cannot_reach_it(
    owner_browser, session_cannot_load
):
    # A browser that also holds a portal session cookie calls the API: the API reads no
    # cookie (integrations/api/errors.py), loads no session, and answers as always, in JSON.
    response = owner_browser.get("/api/v1/facilities/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["error"]["code"] == "missing_credentials"


def test_a_bug_is_still_the_500_page_not_the_outage_page(owner_browser):
    with mock.patch(
        "davinci.accounts.middleware.current_membership", side_effect=RuntimeError("bug")
    ):
        response = owner_browser.get("/facilities/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# --- Redis (CACHE_URL) down ------------------------------------------------------------------

REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }
}


@pytest.fixture
def _fresh_cache():
    """Replaces the suite's fixture: clearing the cache would itself fail here."""
    yield


@pytest.fixture
def redis_down(settings):
    from django.core.cache import caches

    settings.CACHES = REDIS_DOWN
    yield
    caches["default"].close()


def test_redis_down_is_a_503_on_the_api_not_a_500(db, account, redis_down):
    from tests.factories import ApiKeyFactory

    key = ApiKeyFactory(account=account)
    response = Client(raise_request_exception=False).get(
        "/api/v1/facilities/", HTTP_X_API_KEY=key.api_key, HTTP_X_API_SECRET=key.plain_secret
    )
    assert response.status_code == 503
    error = json.loads(response.content)["error"]
    assert error["code"] == "unavailable"
    assert response["Retry-After"] == "5"
    # It names what is down, as /readyz does: the cache, not the database.
    assert "cache" in error["message"] and "database" not in error["message"]


def test_redis_down_is_the_503_page_on_sign_in_not_a_500(db, owner, password, redis_down, caplog):
    with caplog.at_level(logging.WARNING):
        response = Client(raise_request_exception=False).post(
            "/accounts/sign-in/", {"username": "owner@example.com", "password": password}
        )
    _assert_friendly_503(response)
    body = response.content.decode()
    assert "Its cache cannot be reached" in body and "database" not in body
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


def test_a_database_outage_says_database(db, owner, password):
    client = Client(raise_request_exception=False)
    with mock.patch("django.contrib.auth.forms.authenticate", side_effect=InterfaceError("gone")):
        response = client.post(
            "/accounts/sign-in/", {"username": "owner@example.com", "password": password}
        )
    assert "Its database cannot be reached" in response.content.decode()
    with mock.patch("integrations.api.auth._authenticate", side_effect=OUTAGE):
        response = Client(raise_request_exception=False).get(
            "/api/v1/facilities/", HTTP_X_API_KEY="dvk_x", HTTP_X_API_SECRET="dvs_y"
        )
    assert response.status_code == 503
    assert "database cannot be reached" in json.loads(response.content)["error"]["message"]


def test_readyz_says_which_backend_is_down(db, redis_down):
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {"database": "ok", "cache": "unavailable"}
