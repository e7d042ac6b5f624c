"""No HTML ever reaches an API client: unknown paths, other methods, bugs and a database
outage all answer JSON, and session/CSRF middleware stay out of the way."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings

from tests.api.conftest import error_code


@pytest.fixture
def database_down(db):
    """Every query fails the way it does when PostgreSQL is unreachable (undone before the
    test database rolls back)."""

    def refuse(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", refuse):
        yield


API_URLS = [
    "/api/v1/facilities/",
    "/api/v1/facilities/abc/",
    "/api/v1/facilities/abc/units/",
    "/api/v1/facilities/abc/units/A101/",
    "/api/v1/facilities/abc/locks/HD000001/",
]


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v2/facilities/", "/api/v1/units/", "/api/v1/facilities/a/b/c/d/e/"]
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_path_under_api_is_json_404(api, db, path, method):
    response = api.call(path, method=method)
    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_missing_slash_gets_a_hint(api, db):
    response = api.call("/api/v1/facilities")
    assert response.status_code == 404
    assert "/api/v1/facilities/" in response.data["error"]["message"]


@override_settings(DEBUG=True)
def test_unknown_path_is_json_even_with_debug_on(api, db):
    response = api.call("/api/nothing/here")
    assert (response.status_code, error_code(response)) == (404, "not_found")


@pytest.mark.parametrize("url", [*API_URLS, "/api/v1/openapi.json", "/api/docs/"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "head"])
def test_other_methods_are_json_405(world, api, url, method):
    response = getattr(api, method)(
        url, HTTP_X_API_KEY=world.key.api_key, HTTP_X_API_SECRET=world.key.plain_secret
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response["Content-Type"] == "application/json"


def test_post_with_a_session_cookie_and_no_csrf_token_is_405_not_403(world, owner):
    from tests.api.conftest import ApiClient

    client = ApiClient(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(owner)
    response = client.call("/api/v1/facilities/", world.key, method="post")
    assert (response.status_code, error_code(response)) == (405, "method_not_allowed")


def test_no_login_redirect_and_no_session_cookie(world, api):
    response = api.call("/api/v1/facilities/")
    assert response.status_code == 401
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


@pytest.mark.parametrize("url", API_URLS)
def test_database_down_is_json_503(world, api, database_down, url):
    response = api.call(url, world.key)
    assert (response.status_code, error_code(response)) == (503, "unavailable")
    assert int(response["Retry-After"]) > 0


def test_database_down_in_another_middleware_is_json_503(world, api, owner, database_down):
    """With a session cookie, the session and account middleware query the database before
    the view runs; their failure must still be the API's JSON 503."""
    # Any session cookie makes the session middleware go to the database.
    api.cookies["sessionid"] = "x" * 32
    response = api.call("/api/v1/facilities/", world.key)
    assert (response.status_code, error_code(response)) == (503, "unavailable")


BROKEN_ERROR_PAGES = {
    # As in production before collectstatic: Django's HTML error pages cannot render.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


@override_settings(STORAGES=BROKEN_ERROR_PAGES)
def test_database_down_is_json_503_even_when_the_html_error_page_fails(world, api, database_down):
    api.cookies["sessionid"] = "x" * 32
    response = api.call("/api/v1/facilities/", world.key)
    assert (response.status_code, error_code(response)) == (503, "unavailable")


@override_settings(STORAGES=BROKEN_ERROR_PAGES)
def test_a_bug_is_json_500_even_when_the_html_error_page_fails(world, api, monkeypatch):
    monkeypatch.setattr("integrations.api.services.unit_page", lambda **kw: 1 / 0)
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/", world.key)
    assert (response.status_code, error_code(response)) == (500, "internal_error")


def test_database_down_on_an_unknown_path_is_still_json(api, db, database_down):
    response = api.call("/api/v1/nothing/")
    assert response["Content-Type"] == "application/json"


def test_a_bug_is_json_500(world, api, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("integrations.api.services.unit_page", crash)
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/", world.key)
    assert (response.status_code, error_code(response)) == (500, "internal_error")
    assert "a bug" not in response.content.decode()


@override_settings(DEBUG=True)
def test_a_bug_is_json_500_even_with_debug_on(world, api, monkeypatch):
    monkeypatch.setattr("integrations.api.services.unit_page", lambda **kw: 1 / 0)
    response = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/", world.key)
    assert (response.status_code, error_code(response)) == (500, "internal_error")


def test_disallowed_host_is_json_400(api, db):
    response = api.call("/api/v1/facilities/", HTTP_HOST="evil.example")
    assert (response.status_code, error_code(response)) == (400, "bad_request")


def test_portal_pages_keep_their_html_errors(client, db):
    response = client.get("/facilities/does-not-exist/nowhere/")
    assert not response["Content-Type"].startswith("application/json")
    assert connection.vendor  # the portal is untouched by the API's middleware
