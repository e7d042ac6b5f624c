"""The account's time zone: an Owner or Client Admin sets it on Your account; every time the
portal and its emails show is then in that zone, in one format ("Dec 2, 2026 14:05 EST")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from davinci import when
from davinci.accounts.models import AuditEvent
from davinci.outbox.emails import email_render
from integrations.notices import key_event_context
from integrations.services import audit_event_record
from tests.factories import ApiKeyFactory

URL = reverse("accounts:account_time_zone")
NOON_UTC = datetime(2026, 1, 15, 17, 5, tzinfo=UTC)  # 12:05 in New York (EST)


def test_one_format_with_the_zone_named():
    assert when.when(NOON_UTC) == "Jan 15, 2026 17:05 UTC"
    assert when.when(NOON_UTC, when.zone("America/New_York")) == "Jan 15, 2026 12:05 EST"
    assert when.day(NOON_UTC, when.zone("Asia/Tokyo")) == "Jan 16, 2026"
    assert when.when(None) == ""


def test_an_unknown_zone_name_falls_back_to_utc():
    assert str(when.zone("Mars/Olympus_Mons")) == "UTC"


def test_accounts_start_in_utc(account):
    assert account.time_zone == "UTC"


def test_the_owner_sets_the_time_zone(owner_client, account):
    response = owner_client.post(URL, {"time_zone": "America/New_York"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:your_account")
    account.refresh_from_db()
    assert account.time_zone == "America/New_York"
    page = owner_client.get(reverse("accounts:your_account")).content.decode()
    assert 'value="America/New_York" selected' in page


def test_an_unknown_time_zone_is_a_form_error(owner_client, account):
    response = owner_client.post(URL, {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    account.refresh_from_db()
    assert account.time_zone == "UTC"


@pytest.mark.parametrize("client_fixture", ["manager_client", "call_center_client"])
def test_only_owners_and_admins_set_it(request, client_fixture, account):
    client = request.getfixturevalue(client_fixture)
    assert client.post(URL, {"time_zone": "Asia/Tokyo"}).status_code == 403
    page = client.get(reverse("accounts:your_account")).content.decode()
    assert URL not in page
    account.refresh_from_db()
    assert account.time_zone == "UTC"


def test_admins_may_set_it(admin_client, account):
    assert admin_client.post(URL, {"time_zone": "Asia/Tokyo"}).status_code == 302


def test_get_is_405(owner_client):
    assert owner_client.get(URL).status_code == 405


def test_anonymous_is_sent_to_sign_in(client):
    response = client.post(URL, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_pages_show_times_in_the_accounts_zone(owner_client, account, owner):
    account.time_zone = "America/New_York"
    account.save()
    event = audit_event_record(
        account=account, action=AuditEvent.Action.KEY_CREATED, actor=owner, ip=None
    )
    AuditEvent.objects.filter(pk=event.pk).update(created_at=NOON_UTC)
    page = owner_client.get(reverse("integrations:activity")).content.decode()
    assert "Jan 15, 2026 12:05 EST" in page
    assert timezone.get_current_timezone_name() == "UTC"  # not left active after the request


def test_the_key_notice_email_is_in_the_accounts_zone(account, owner):
    account.time_zone = "Europe/Paris"
    account.save()
    key = ApiKeyFactory(account=account)
    context = key_event_context(
        action="key_revealed", api_key=key, actor=owner, ip=None, when=NOON_UTC
    )
    _, body = email_render("api_key_event", context)
    assert "When:     Jan 15, 2026 18:05 CET" in body
