"""Headers and cookies of production, read from the real server (gunicorn, davinci.settings
with DEBUG off and the SECURE_* defaults, behind a TLS-terminating proxy): on the sign-in
page, a signed-in portal page, an API answer and an API error."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from tests.security.conftest import ProductionServer

ONE_YEAR = 60 * 60 * 24 * 365


def _csp(response) -> dict[str, list[str]]:
    policy = response.getheader("Content-Security-Policy")
    assert policy, "no Content-Security-Policy"
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_security_headers(response) -> None:
    csp = _csp(response)
    everything = " ".join(source for sources in csp.values() for source in sources)
    assert "'unsafe-inline'" not in everything
    assert "'unsafe-eval'" not in everything
    assert "*" not in everything.split()
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "same-origin"
    assert response.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert "camera=()" in response.getheader("Permissions-Policy")
    assert response.getheader("Strict-Transport-Security") == (
        f"max-age={ONE_YEAR}; includeSubDomains; preload"
    )
    assert response.getheader("Server", "").lower() in ("", "gunicorn")  # no version


def _cookies(response) -> dict[str, dict[str, str]]:
    cookies = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            cookies[name] = {
                "value": morsel.value,
                "secure": bool(morsel["secure"]),
                "httponly": bool(morsel["httponly"]),
                "samesite": morsel["samesite"],
            }
    return cookies


@pytest.fixture(scope="module")
def signed_in(production_server: ProductionServer):
    """Sign in through the real form; returns (sign-in page, sign-in answer, cookies)."""
    page = production_server.request("GET", "/accounts/sign-in/")
    csrf_cookie = _cookies(page)["csrftoken"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.data).group(1)
    answer = production_server.request(
        "POST",
        "/accounts/sign-in/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie['value']}",
            "Origin": f"https://127.0.0.1:{production_server.port}",
        },
        body=urlencode(
            {
                "csrfmiddlewaretoken": token.decode(),
                "username": "owner@example.com",
                "password": production_server.password,
            }
        ).encode(),
    )
    return page, answer, {**_cookies(page), **_cookies(answer)}


def test_sign_in_page_headers_and_csrf_cookie(signed_in):
    page, _, cookies = signed_in
    assert page.status == 200
    assert_security_headers(page)
    csrf = cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"


def test_session_cookie_is_secure_httponly_and_lax(signed_in):
    _, answer, cookies = signed_in
    assert answer.status == 302, answer.data[:300]
    session = cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_portal_page_headers(production_server, signed_in):
    _, _, cookies = signed_in
    response = production_server.request(
        "GET",
        "/facilities/",
        headers={"Cookie": f"sessionid={cookies['sessionid']['value']}"},
    )
    assert response.status == 200
    assert b"Harbor Downtown" in response.data
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/accounts/sign-in/", "/accounts/password-reset/"])
def test_public_pages_have_no_inline_script_or_style(production_server, path):
    html = production_server.request("GET", path).data.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_api_answer_headers(production_server):
    response = production_server.request(
        "GET", production_server.unit_path, headers=production_server.headers()
    )
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("application/json")
    assert response.getheader("Cache-Control") == "no-store"
    assert response.getheader("Set-Cookie") is None
    assert_security_headers(response)


def test_api_error_headers(production_server):
    response = production_server.request("GET", production_server.unit_path)
    assert response.status == 401
    assert response.getheader("Content-Type").startswith("application/json")
    assert response.getheader("Cache-Control") == "no-store"
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/accounts/sign-in/", "/api/v1/facilities/"])
def test_plain_http_is_redirected_to_https(production_server, path):
    response = production_server.request("GET", path, https=False)
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{production_server.port}{path}"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_answer_plain_http(production_server, path):
    """The load balancer probes over plain HTTP on the private network."""
    response = production_server.request("GET", path, https=False)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("application/json")
