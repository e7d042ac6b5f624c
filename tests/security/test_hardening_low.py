"""Finding 9: the low ones. Too many query parameters, credentials in the URL, query strings
in logs, no caching of pages with tenant contacts, codes or secrets, password-reset floods."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from integrations.services import api_key_create
from tests.factories import LockFactory, UnitFactory
from tests.timing import SEND_SECONDS, interleaved_medians

MANY = "&".join(f"p{n}=1" for n in range(1100))


@pytest.mark.parametrize("path", ["/accounts/sign-in/", "/release/harbor-self-storage/"])
def test_too_many_query_parameters_is_a_clear_400_on_portal_pages(account, path, settings):
    settings.DEBUG = True  # make run: the debug error page itself used to fail on it
    response = Client(raise_request_exception=False).get(f"{path}?{MANY}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Too many" in response.content


def test_too_many_query_parameters_is_a_json_400_in_the_api(account):
    response = Client(raise_request_exception=False).get(f"/api/v1/facilities/?{MANY}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    "query", ["api_key=dvk_x&api_secret=dvs_y", "X-API-Secret=dvs_y", "secret=dvs_y"]
)
def test_credentials_in_the_query_string_are_refused(account, owner, query):
    created = api_key_create(account=account, name="Call Center", actor=owner, ip=None)
    headers = {"X-API-Key": created.api_key.api_key, "X-API-Secret": created.secret}
    response = Client().get(f"/api/v1/facilities/?{query}", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert "headers" in response.json()["error"]["message"]


def test_the_development_server_log_has_no_query_strings(caplog):
    from davinci.logs import WithoutQueryString

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        "",
        0,
        '"%s" %s %s',
        ("GET /api/v1/facilities/?api_secret=dvs_y HTTP/1.1", "400", "99"),
        None,
    )
    assert WithoutQueryString().filter(record)
    assert "dvs_y" not in record.getMessage()
    assert record.getMessage() == '"GET /api/v1/facilities/ HTTP/1.1" 400 99'


@pytest.fixture
def tenant_pages(account, owner, facility):
    unit = UnitFactory(facility=facility, tenant_email="tenant@example.com")
    lock = LockFactory(facility=facility)
    key = api_key_create(account=account, name="Call Center", actor=owner, ip=None).api_key
    return [
        reverse("facilities:unit_detail", args=[unit.pk]),
        reverse("facilities:lock_detail", args=[lock.pk]),
        reverse("facilities:facility_export", args=[facility.pk]),
        reverse("facilities:release_activity"),
        reverse("integrations:api_key_detail", args=[key.pk]),
        reverse("facilities:facility_detail", args=[facility.pk]),
    ]


def test_pages_with_tenant_contacts_codes_or_secrets_are_never_cached(owner_client, tenant_pages):
    for path in tenant_pages:
        response = owner_client.get(path)
        assert response.status_code == 200, path
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, path


def test_password_reset_is_rate_limited(
    client, owner, settings, django_capture_on_commit_callbacks
):
    url = reverse("accounts:password_reset")
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [client.post(url, {"email": owner.email}).status_code for _ in range(8)]
    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_EMAIL
    assert statuses.count(302) == settings.PASSWORD_RESET_PER_EMAIL
    refused = client.post(url, {"email": owner.email})
    assert refused.status_code == 200
    assert "Too many password reset requests" in refused.content.decode()


def test_password_reset_email_is_sent_by_a_task_carrying_no_token(
    client, owner, django_capture_on_commit_callbacks
):
    from davinci.outbox.models import Notice

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": owner.email})
    notice = Notice.objects.get(kind="password_reset")
    assert notice.status == Notice.Status.SENT
    assert set(notice.arguments) == {"user_id", "domain", "use_https"}
    assert "/password-reset/" in mail.outbox[0].body


def test_make_run_logs_each_request_once(settings):
    # davinci.request logs every request; runserver's access line would repeat it.
    assert settings.LOGGING["loggers"]["django.server"]["level"] == "ERROR"
    assert "davinci.request" not in settings.LOGGING["loggers"]  # the root logger, at INFO


@pytest.mark.django_db(transaction=True)
def test_password_reset_takes_the_same_time_for_a_known_and_an_unknown_address(
    background_threads, owner, settings
):
    """In-process (`make run`) the email of a known address is built and sent off the
    request's thread, after the answer: the same work in the request for either address."""
    settings.EMAIL_BACKEND = "tests.timing.SlowEmailBackend"
    settings.PASSWORD_RESET_PER_EMAIL = settings.PASSWORD_RESET_PER_IP = 1000
    client = Client()
    url = reverse("accounts:password_reset")
    medians = interleaved_medians(
        {
            "known": lambda: client.post(url, {"email": owner.email}),
            "unknown": lambda: client.post(url, {"email": "nobody@example.com"}),
        },
        between=background_threads.join,
    )
    assert abs(medians["known"] - medians["unknown"]) < SEND_SECONDS / 3, medians
    assert len(mail.outbox) == 12 and {m.to[0] for m in mail.outbox} == {owner.email}
