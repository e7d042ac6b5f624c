"""Hostile HTTP against the real server (gunicorn + production settings): oversized headers,
request lines and bodies, invalid UTF-8 in the path, the query string and the headers, a
forged Host. Never a 5xx. What reaches Django under /api/ answers JSON; what gunicorn itself
refuses before Django (a request line or header over its limits) is a plain 4xx."""

from __future__ import annotations

import base64
import json

import pytest

from tests.security.conftest import ProductionServer


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _request(server: ProductionServer, target: bytes, headers: list[bytes] = (), body=b""):
    lines = [
        b"GET " + target + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"X-Forwarded-Proto: https",
        b"Connection: close",
        *headers,
    ]
    if body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return _parse(server.raw(b"\r\n".join(lines) + b"\r\n\r\n" + body))


def _assert_api_answer(status: int, headers: dict[str, str], body: bytes, expected: set[int]):
    assert status in expected, (status, body[:300])
    if "x-request-id" in headers:  # Django answered: JSON, the documented error shape
        assert headers["content-type"].startswith("application/json"), body[:300]
        assert b'"error"' in body or status == 200
    assert b"Traceback" not in body


def _key_headers(server: ProductionServer) -> list[bytes]:
    return [f"X-API-Key: {server.api_key}".encode(), f"X-API-Secret: {server.secret}".encode()]


def test_the_server_answers_a_plain_lookup(production_server):
    status, _, body = _request(
        production_server, production_server.unit_path.encode(), _key_headers(production_server)
    )
    assert status == 200, body
    assert b'"unlock_code": "7391"' in body


INVALID_UTF8_TARGETS = [
    b"/api/v1/facilities/%FF%FE/",
    b"/api/v1/facilities/%C0%AF/units/",
    b"/api/v1/facilities/{fid}/units/%ED%A0%80/",  # a lone surrogate, encoded
    b"/api/v1/facilities/{fid}/units/A%FF101/",
    b"/api/v1/facilities/{fid}/locks/%F0%28%8C%BC/",
    b"/api/v1/facilities/{fid}/units/?q=%FF%FE&status=%C3%28",
    b"/api/v1/facilities/{fid}/units/?cursor=%FF&limit=%EF%BF%BF",
    b"/api/v1/facilities/{fid}/units/%00/",
    b"/api/v1/facilities/{fid}/units/?q=%00",
    b"/api/%FF%FE%FD/",
]


@pytest.mark.parametrize("target", INVALID_UTF8_TARGETS)
def test_invalid_utf8_percent_encoded_is_a_json_4xx(production_server, target):
    target = target.replace(b"{fid}", production_server.facility_id.encode())
    status, headers, body = _request(production_server, target, _key_headers(production_server))
    _assert_api_answer(status, headers, body, {200, 400, 404})
    assert "x-request-id" in headers  # it reached Django, which answered


@pytest.mark.parametrize(
    "target",
    [b"/api/v1/facilities/\xff\xfe/", b"/api/v1/facilities/x/units/\xc3\x28/", b"/\xed\xa0\x80"],
)
def test_raw_invalid_utf8_in_the_request_line_is_a_4xx(production_server, target):
    status, headers, body = _request(production_server, target, _key_headers(production_server))
    _assert_api_answer(status, headers, body, {400, 404})


@pytest.mark.parametrize(
    "header",
    [
        b"X-API-Key: \xff\xfe\xfd",
        b"X-API-Secret: \xc3\x28\xa0\xa1",
        b"Authorization: Basic " + base64.b64encode(b"\xff\xfe:\xc3\x28"),
        b"Authorization: Basic \xff\xfe",
        b"Authorization: \xe2\x82\xac\xe2\x82\xac",
    ],
)
def test_invalid_utf8_in_credentials_is_json_401(production_server, header):
    status, headers, body = _request(
        production_server, production_server.unit_path.encode(), [header]
    )
    _assert_api_answer(status, headers, body, {401})


def test_a_long_header_under_the_server_limit_is_json_401(production_server):
    header = b"X-API-Key: dvk_" + b"A" * 7000
    secret = f"X-API-Secret: {production_server.secret}".encode()
    status, headers, body = _request(
        production_server, production_server.unit_path.encode(), [header, secret]
    )
    _assert_api_answer(status, headers, body, {401})


@pytest.mark.parametrize(
    "headers",
    [
        [b"X-API-Secret: " + b"s" * 100_000],
        [b"Authorization: Basic " + base64.b64encode(b"k" * 60_000 + b":" + b"s" * 60_000)],
        [f"X-Junk-{n}: {n}".encode() for n in range(300)],
    ],
    ids=["100 KB header", "160 KB Basic credentials", "300 headers"],
)
def test_oversized_headers_are_refused_with_a_4xx(production_server, headers):
    status, _, body = _request(production_server, production_server.unit_path.encode(), headers)
    assert 400 <= status < 500, (status, body[:300])
    assert b"Traceback" not in body


def test_a_long_unit_number_under_the_line_limit_is_json_404(production_server):
    target = production_server.unit_path.replace("A101", "A" * 3000).encode()
    status, headers, body = _request(production_server, target, _key_headers(production_server))
    _assert_api_answer(status, headers, body, {404})


def test_an_oversized_request_line_is_refused_with_a_4xx(production_server):
    target = production_server.unit_path.replace("A101", "A" * 20_000).encode()
    status, _, body = _request(production_server, target, _key_headers(production_server))
    assert 400 <= status < 500, (status, body[:300])


@pytest.mark.parametrize("size", [10_000, 3_000_000])
def test_a_body_on_a_lookup_is_ignored(production_server, size):
    status, headers, body = _request(
        production_server,
        production_server.unit_path.encode(),
        [*_key_headers(production_server), b"Content-Type: application/json"],
        body=b"{" + b"x" * size,
    )
    _assert_api_answer(status, headers, body, {200})


@pytest.mark.parametrize("size", [10_000, 3_000_000])
def test_a_large_post_to_the_api_is_json_405(production_server, size):
    response = production_server.request(
        "POST",
        production_server.unit_path,
        headers={**production_server.headers(), "Content-Type": "application/json"},
        body=b"[" * size,
    )
    assert response.status == 405
    assert response.getheader("Content-Type").startswith("application/json")


def test_a_large_post_to_a_portal_form_is_a_400_page_not_a_500(production_server):
    """Over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) Django refuses the body before the form."""
    response = production_server.request(
        "POST",
        "/accounts/sign-in/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"username=" + b"a" * 3_000_000 + b"&password=x",
    )
    assert 400 <= response.status < 500
    assert b"Traceback" not in response.data


@pytest.mark.parametrize(
    "header",
    [b"Content-Length: -1", b"Content-Length: abc", b"Transfer-Encoding: chunked, identity"],
)
def test_malformed_framing_is_refused_with_a_4xx(production_server, header):
    status, _, body = _request(production_server, production_server.unit_path.encode(), [header])
    assert 400 <= status < 500, (status, body[:300])


@pytest.mark.parametrize("path", ["/api/v1/facilities/", "/accounts/sign-in/"])
def test_a_forged_host_is_a_400(production_server, path):
    response = production_server.request("GET", path, headers={"Host": "evil.example.com"})
    assert response.status == 400
    if path.startswith("/api/"):
        assert response.getheader("Content-Type").startswith("application/json")


def test_the_server_logged_no_5xx_and_no_error_but_the_forged_hosts(production_server):
    """Last in this module: nothing above was a server error. (Django logs each forged Host
    on django.security.DisallowedHost, with its traceback: that one is expected.)"""
    lines = [
        json.loads(line)
        for line in production_server.log.read_text(errors="replace").splitlines()
        if line.startswith("{")
    ]
    assert [line for line in lines if line.get("status", 0) >= 500] == []
    errors = [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert {line["logger"] for line in errors} <= {"django.security.DisallowedHost"}, errors
    assert production_server.secret not in production_server.log.read_text()
