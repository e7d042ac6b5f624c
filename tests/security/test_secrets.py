"""No API secret, unlock code or password reaches a log record or an error report.

Every log record of every logger (the request log, django.request, SQL queries included) and
every email (owners' notices, and the error reports an operator gets with ADMINS set) is
captured while keys are created, revealed and rolled, the API is called rightly and wrongly,
and codes are revealed in the portal and read through the API. Each flow is also run with a
failure injected at its worst moment (the secret or code already in hand), because that is
when an error report with every frame's local variables is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.log import AdminEmailHandler

from davinci import crypto
from davinci.logs import JsonFormatter
from facilities.models import LockStatus
from integrations.models import ApiKey
from tests.api.conftest import basic_headers, fail_to_record, key_headers
from tests.conftest import confirmed, signed_in
from tests.factories import PASSWORD, ApiKeyFactory, UnitFactory, assigned_lock

CODES = ["7391", "0486", "5820"]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        """Each record as the console would print it (JSON, with its traceback), as plain
        text, and every attribute it carries (args and extras included)."""
        json_formatter, plain = JsonFormatter(), logging.Formatter("%(message)s")
        out = []
        for record in self.records:
            out += [json_formatter.format(record), plain.format(record), repr(vars(record))]
        return out


@pytest.fixture
def captured(settings) -> Iterator[Capture]:
    """Attach a catch-all handler to the root logger and to every logger that exists (some,
    like django.request, do not propagate); log as with LOG_LEVEL=DEBUG (the most any
    deployment can be configured to log); log every SQL query the database receives; and
    mail error reports to ADMINS the way an operator would turn them on."""
    settings.ADMINS = [("Operations", "ops@example.com")]
    capture = Capture()
    reports = AdminEmailHandler(include_html=True)
    reports.setLevel(logging.ERROR)
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
    ]
    root_level = logging.root.level
    logging.root.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(capture)
    logging.getLogger("django.request").addHandler(reports)
    connection.force_debug_cursor = True
    try:
        yield capture
    finally:
        connection.force_debug_cursor = False
        logging.getLogger("django.request").removeHandler(reports)
        for logger in loggers:
            logger.removeHandler(capture)
        logging.root.setLevel(root_level)


def _mail_texts() -> list[str]:
    out = []
    for message in mail.outbox:
        out += [message.subject, message.body]
        out += [content for content, _ in getattr(message, "alternatives", [])]
    return out


def assert_nothing_leaked(capture: Capture, *, secrets=(), codes=(), passwords=()) -> None:
    texts = capture.texts() + _mail_texts()
    assert capture.records, "nothing was captured: the capture is broken"
    needles = [("API secret", re.escape(secret)) for secret in secrets]
    # A secret's random middle too: a truncated or re-encoded copy is still a leak.
    needles += [("part of an API secret", re.escape(secret[8:28])) for secret in secrets]
    needles += [("unlock code", rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])") for code in codes]
    needles += [("password", re.escape(password)) for password in passwords]
    for what, pattern in needles:
        leaks = [match for text in texts if (match := _around(pattern, text))]
        assert not leaks, f"{what} in {len(leaks)} log record(s)/email(s), e.g. …{leaks[0]}…"


def _around(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return text[max(0, match.start() - 400) : match.end() + 100] if match else ""


@pytest.fixture
def lock(facility):
    unit = UnitFactory(facility=facility, unit_number="A101")
    return assigned_lock(unit, serial="HD000001", code=CODES[0])


def _secret(key: ApiKey) -> str:
    key.refresh_from_db()
    return crypto.decrypt(key.secret_encrypted)


# --- API keys in the portal ---------------------------------------------------------------------


def test_create_reveal_and_roll_leave_no_secret_anywhere(
    owner, facility, captured, django_capture_on_commit_callbacks
):
    client = signed_in(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/integrations/keys/new/",
            {"name": "Call Center", "all_facilities": "on", "permissions": "read"},
        )
    assert response.status_code == 302
    key = ApiKey.objects.get(name="Call Center")
    first = _secret(key)
    reveal = f"/integrations/keys/{key.pk}/reveal/"

    with django_capture_on_commit_callbacks(execute=True):
        assert first not in client.post(reveal, {"password": "wrong"}).content.decode()
        assert first in client.post(reveal, {"password": PASSWORD}).content.decode()
        response = client.post(f"/integrations/keys/{key.pk}/roll/", {"grace_hours": "1"})
        assert response.status_code == 302
        second = _secret(key)
        assert second in client.post(reveal).content.decode()
    assert len(mail.outbox) >= 4  # the owners were told of the creation, reveals and roll

    assert_nothing_leaked(captured, secrets=[first, second], passwords=[PASSWORD])


def test_failures_while_a_secret_is_in_hand_leave_it_in_no_error_report(owner, captured):
    client = signed_in(owner)
    client.raise_request_exception = False
    key = ApiKeyFactory(account=owner.memberships.get().account)
    reveal = f"/integrations/keys/{key.pk}/reveal/"
    client.post(reveal, {"password": PASSWORD})  # the password is now confirmed

    with mock.patch("integrations.views.render", side_effect=RuntimeError("template broke")):
        assert client.post(reveal).status_code == 500
    with mock.patch("integrations.services._record", side_effect=RuntimeError("audit broke")):
        assert (
            client.post(f"/integrations/keys/{key.pk}/roll/", {"grace_hours": "0"}).status_code
            == 500
        )
        response = client.post(
            "/integrations/keys/new/",
            {"name": "Another", "all_facilities": "on", "permissions": "read"},
        )
        assert response.status_code == 500
    assert len([m for m in mail.outbox if "ops@example.com" in m.to]) == 3  # the reports

    assert_nothing_leaked(captured, secrets=[key.plain_secret], passwords=[PASSWORD])


# --- The lookup API -----------------------------------------------------------------------------


def test_api_calls_right_and_wrong_leave_no_secret_or_code(
    account, facility, lock, captured, settings
):
    settings.API_RATE_LIMIT_PER_MINUTE = 8
    key = ApiKeyFactory(account=account)
    other = ApiKeyFactory(account=account)
    disabled = ApiKeyFactory(account=account, is_active=False)
    expired = ApiKeyFactory(account=account, expires_at=timezone.now() - timedelta(days=1))
    walled = ApiKeyFactory(account=account, allowed_ips=["203.0.113.0/24"])
    client = Client()
    unit_url = f"/api/v1/facilities/{facility.facility_id}/units/A101/"
    lock_url = f"/api/v1/facilities/{facility.facility_id}/locks/HD000001/"
    wrong = key.plain_secret[:-1] + ("A" if key.plain_secret[-1] != "A" else "B")

    headers = key_headers(key)
    assert CODES[0] in client.get(unit_url, **headers).content.decode()
    assert (
        CODES[0]
        in client.get(lock_url, **basic_headers(key.api_key, key.plain_secret)).content.decode()
    )
    assert client.get(unit_url, **key_headers(key, wrong)).status_code == 401
    assert client.get(unit_url, **key_headers(other, key.plain_secret)).status_code == 401
    assert client.get(unit_url, **basic_headers(key.api_key, wrong)).status_code == 401
    # A client that puts credentials in the URL: a clear 400, and the query string is not logged.
    assert (
        client.get(f"{unit_url}?api_key={key.api_key}&api_secret={key.plain_secret}").status_code
        == 400
    )
    for refused in (disabled, expired, walled):
        assert client.get(unit_url, **key_headers(refused)).status_code in (401, 403)
    for _ in range(8):  # over the key's limit
        client.get(unit_url, **headers)
    assert client.get(unit_url, **headers).status_code == 429

    secrets = [k.plain_secret for k in (key, other, disabled, expired, walled)] + [wrong]
    assert_nothing_leaked(captured, secrets=secrets, codes=[CODES[0]])
    logged_keys = {
        getattr(r, "api_key", None) for r in captured.records if r.name == "davinci.request"
    }
    assert key.api_key in logged_keys  # the request log names the key by its public id


def test_a_failure_after_the_code_was_read_leaves_it_in_no_error_report(
    account, facility, lock, captured, monkeypatch
):
    key = ApiKeyFactory(account=account)
    client = Client(raise_request_exception=False)
    headers = key_headers(key)
    with monkeypatch.context() as patched:
        fail_to_record(patched, RuntimeError("history broke"))
        for path in ("units/A101", "locks/HD000001"):
            response = client.get(f"/api/v1/facilities/{facility.facility_id}/{path}/", **headers)
            assert response.status_code == 500
            assert CODES[0] not in response.content.decode()
    with (
        mock.patch(
            "integrations.api.services.api_response",
            side_effect=RuntimeError("json broke"),
            create=True,
        ),
        mock.patch("integrations.api.views.api_response", side_effect=RuntimeError("json broke")),
    ):
        assert (
            client.get(
                f"/api/v1/facilities/{facility.facility_id}/units/A101/", **headers
            ).status_code
            == 500
        )
    assert len([m for m in mail.outbox if "ops@example.com" in m.to]) == 3

    assert_nothing_leaked(captured, secrets=[key.plain_secret], codes=[CODES[0]])


# --- Codes in the portal ------------------------------------------------------------------------


def test_portal_code_reveals_and_changes_leave_no_code(owner, facility, lock, captured):
    client = confirmed(signed_in(owner))
    assert CODES[0] in client.post(f"/facilities/locks/{lock.pk}/reveal/").content.decode()
    spare = assigned_lock(UnitFactory(facility=facility), serial="HD000002", code="1111")
    spare_unit = spare.unit
    client.post(
        f"/facilities/locks/{spare.pk}/unassign/",
        {"status": LockStatus.AVAILABLE, "confirm_unreleased": "on"},
    )
    response = client.post(f"/facilities/locks/{spare.pk}/code/", {"unlock_code": CODES[1]})
    assert response.status_code == 302, response.content[:500]
    spare.refresh_from_db()
    assert spare.unlock_code == CODES[1]
    assert spare_unit.pk

    assert_nothing_leaked(captured, codes=[CODES[0], CODES[1]])


def test_failures_while_a_code_is_in_hand_leave_it_in_no_error_report(
    owner, facility, lock, captured
):
    client = confirmed(signed_in(owner))
    client.raise_request_exception = False
    with mock.patch("facilities.views.locks.lock_page", side_effect=RuntimeError("page broke")):
        assert client.post(f"/facilities/locks/{lock.pk}/reveal/").status_code == 500
    spare = assigned_lock(UnitFactory(facility=facility), serial="HD000002", code="1111")
    client.post(
        f"/facilities/locks/{spare.pk}/unassign/",
        {"status": LockStatus.AVAILABLE, "confirm_unreleased": "on"},
    )
    # Deep inside the service, after the code was set on the lock.
    with mock.patch("facilities.services._user_event", side_effect=RuntimeError("history broke")):
        response = client.post(f"/facilities/locks/{spare.pk}/code/", {"unlock_code": CODES[2]})
        assert response.status_code == 500
    assert len([m for m in mail.outbox if "ops@example.com" in m.to]) == 2

    assert_nothing_leaked(captured, codes=[CODES[0], CODES[2]])


CSV = (
    "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n"
    "B201,Ann Lee,ann@example.com,,HD000009,{code},assigned_overlock\n"
)


def _upload(client, facility, code: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("units.csv", CSV.format(code=code).encode(), "text/csv")
    return client.post(f"/facilities/{facility.pk}/import/", {"file": file})


def test_csv_import_leaves_no_code_even_when_it_fails(owner, facility, captured):
    client = signed_in(owner)
    client.raise_request_exception = False
    preview = _upload(client, facility, CODES[1])
    assert preview.status_code == 200
    payload = re.search(r'name="payload" value="([^"]+)"', preview.content.decode()).group(1)
    with (
        mock.patch("facilities.services._user_event", side_effect=RuntimeError("broke")),
        mock.patch("facilities.services.lock_event_record", side_effect=RuntimeError("broke")),
        mock.patch(
            "facilities.imports.write.lock_events_record_many", side_effect=RuntimeError("broke")
        ),
    ):
        response = client.post(f"/facilities/{facility.pk}/import/commit/", {"payload": payload})
    assert response.status_code == 500
    with mock.patch(
        "facilities.services.facility_import_preview", side_effect=RuntimeError("broke")
    ):
        assert _upload(client, facility, CODES[2]).status_code == 500
    assert len([m for m in mail.outbox if "ops@example.com" in m.to]) == 2

    assert_nothing_leaked(captured, codes=[CODES[1], CODES[2]])


def test_a_failing_request_with_credentials_in_its_url_logs_no_secret(
    account, facility, lock, captured
):
    """A client that wrongly puts its secret in the query string (under a name
    the API does not refuse outright), on a request that fails:
    the production log line (JSON) names the method and path, never the query string."""
    key = ApiKeyFactory(account=account)
    client = Client(raise_request_exception=False)
    url = f"/api/v1/facilities/{facility.facility_id}/units/A101/?token={key.plain_secret}"
    with mock.patch("integrations.api.views.services.unit_look_up", side_effect=RuntimeError("x")):
        response = client.get(url, HTTP_X_API_KEY=key.api_key, HTTP_X_API_SECRET=key.plain_secret)
    assert response.status_code == 500
    lines = [JsonFormatter().format(r) for r in captured.records]
    assert any('"request": "GET /api/v1/facilities/' in line for line in lines)
    assert not [line for line in lines if key.plain_secret in line]
