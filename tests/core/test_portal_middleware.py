"""Lookup API requests skip the portal's middleware (davinci/portal_middleware.py); every
other request, /api/docs/ included, still gets all of it."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from davinci import portal_middleware
from davinci.portal_middleware import portal_only


class Recording:
    """A middleware that notes where it ran."""

    seen: list[str] = []

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.seen.append(f"call {request.path}")
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        self.seen.append(f"view {request.path}")


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("/api/v1/facilities/", False),
        ("/api/v1/openapi.json", False),
        ("/api/docs/", True),
        ("/api/", True),
        ("/release/harbor/", True),
        ("/facilities/", True),
    ],
)
def test_the_wrapped_middleware_runs_for_everything_but_the_lookup_api(path, runs):
    Recording.seen = []
    wrapped = portal_only(Recording)(lambda request: HttpResponse("ok"))
    request = RequestFactory().get(path)
    assert wrapped(request).content == b"ok"
    assert wrapped.process_view(request, None, (), {}) is None
    assert Recording.seen == ([f"call {path}", f"view {path}"] if runs else [])


def test_the_wrapped_middleware_is_still_the_middleware_for_djangos_checks():
    from django.contrib.sessions.middleware import SessionMiddleware

    assert issubclass(portal_middleware.SessionMiddleware, SessionMiddleware)
    assert not hasattr(portal_middleware.CurrentAccountMiddleware, "process_view")


def test_a_lookup_gets_no_session_cookie_and_the_portal_still_does(client, db):
    api = client.get("/api/v1/facilities/")
    assert api.status_code == 401 and "sessionid" not in api.cookies
    assert "Vary" not in api or "Cookie" not in api["Vary"]
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert client.get("/api/docs/").status_code == 200
