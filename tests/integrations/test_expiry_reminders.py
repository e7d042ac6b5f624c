"""Key expiry reminders (integrations/reminders.py) with a frozen clock."""

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from integrations.models import ExpiryReminder
from integrations.reminders import expiry_reminder_send, send_key_expiry_reminders
from tests.factories import ApiKeyFactory, MembershipFactory, UserFactory

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    frozen = Clock(START)
    with mock.patch("django.utils.timezone.now", lambda: frozen.now):
        yield frozen


@pytest.fixture
def key(clock, account, owner, admin_user, manager, call_center_user):
    return ApiKeyFactory(account=account, expires_at=START + timedelta(days=20))


def subjects():
    return [message.subject for message in mail.outbox]


def test_each_threshold_is_emailed_once_to_owners_and_admins(clock, key):
    sent = []
    for _run in range(4 * 25):  # every 6 hours for 25 days: through the expiry and past it
        send_key_expiry_reminders()
        call_command("send_key_expiry_reminders", stdout=mock.MagicMock())
        sent.extend((clock.now, m.subject, sorted(m.to)) for m in mail.outbox)
        mail.outbox.clear()
        clock.advance(hours=6)

    assert [subject for _, subject, _ in sent] == [
        "API key “Call Center” expires in 14 days",
        "API key “Call Center” expires in 3 days",
        "API key “Call Center” expires in 1 day",
        "API key “Call Center” expired",
    ]
    assert {tuple(to) for _, _, to in sent} == {("admin@example.com", "owner@example.com")}
    days_before = [(key.expires_at.date() - when.date()).days for when, _, _ in sent]
    assert days_before == [14, 3, 1, 0]
    assert sent[-1][0] >= key.expires_at
    assert ExpiryReminder.objects.filter(api_key=key).count() == 4


def test_a_key_first_seen_inside_a_threshold_gets_only_the_most_urgent_one(clock, account, owner):
    ApiKeyFactory(account=account, expires_at=START + timedelta(days=2))
    send_key_expiry_reminders()
    send_key_expiry_reminders()
    # The 3-day reminder (the 14-day one is skipped), saying how long is really left.
    assert subjects() == ["API key “Call Center” expires in 2 days"]
    assert ExpiryReminder.objects.get(recipients=1).days_before == 3
    clock.advance(days=1)
    send_key_expiry_reminders()
    assert subjects()[1:] == ["API key “Call Center” expires in 1 day"]


def test_a_new_expiry_date_starts_the_reminders_again(clock, key):
    clock.advance(days=6)
    send_key_expiry_reminders()
    key.expires_at = clock.now + timedelta(days=10)
    key.save()
    send_key_expiry_reminders()
    clock.advance(days=7)
    send_key_expiry_reminders()
    assert subjects() == [
        "API key “Call Center” expires in 14 days",
        "API key “Call Center” expires in 10 days",  # the new date's 14-day reminder
        "API key “Call Center” expires in 3 days",
    ]


@pytest.mark.parametrize("state", ["disabled", "deleted"])
def test_never_for_disabled_or_deleted_keys(clock, key, owner, state):
    key.disable(by=owner) if state == "disabled" else key.soft_delete(by=owner)
    key.save()
    for _day in range(25):
        send_key_expiry_reminders()
        clock.advance(days=1)
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()


def test_keys_that_never_expire_or_expired_long_ago_get_nothing(clock, account, owner):
    ApiKeyFactory(account=account, expires_at=None)
    ApiKeyFactory(account=account, expires_at=START - timedelta(days=30))
    send_key_expiry_reminders()
    assert mail.outbox == []


def test_a_failed_send_is_retried_by_the_next_run(clock, key):
    clock.advance(days=6)
    with mock.patch("davinci.outbox.emails.EmailMessage.send", side_effect=OSError("SMTP down")):
        send_key_expiry_reminders()
    assert not ExpiryReminder.objects.exists()
    send_key_expiry_reminders()
    assert subjects() == ["API key “Call Center” expires in 14 days"]


def test_the_email_links_to_the_key_page(clock, key, settings):
    settings.PORTAL_URL = "https://portal.example.com/"
    clock.advance(days=17)
    send_key_expiry_reminders()
    body = mail.outbox[0].body
    path = reverse("integrations:api_key_detail", args=[key.pk])
    assert f"https://portal.example.com{path}" in body
    assert key.api_key in body
    assert key.plain_secret not in body


def test_other_accounts_and_inactive_users_or_memberships_get_nothing(clock, key, other_account):
    MembershipFactory(account=other_account, role="owner", user=UserFactory(email="x@rival.test"))
    gone = UserFactory(email="gone@example.com", is_active=False)
    MembershipFactory(account=key.account, role="client_admin", user=gone)
    left = UserFactory(email="left@example.com")
    MembershipFactory(account=key.account, role="client_admin", user=left, is_active=False)
    clock.advance(days=6)
    send_key_expiry_reminders()
    assert sorted(mail.outbox[0].to) == ["admin@example.com", "owner@example.com"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(clock, account, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with concurrent writers (PostgreSQL: DATABASE_URL)")
    ApiKeyFactory(account=account, expires_at=START + timedelta(days=3))
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            send_key_expiry_reminders()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert subjects() == ["API key “Call Center” expires in 3 days"]
    assert ExpiryReminder.objects.filter(days_before=3).count() == 1


def test_key_page_and_list_say_when_the_key_expires(account, owner_client):
    key = ApiKeyFactory(account=account, expires_at=timezone.now() + timedelta(days=10))
    detail = owner_client.get(reverse("integrations:api_key_detail", args=[key.pk]))
    listing = owner_client.get(reverse("integrations:api_settings"))
    assert "(expires in 10 days)" in detail.content.decode()
    assert "expires in 10 days" in listing.content.decode()


def test_the_email_says_the_expiry_in_the_accounts_time_zone(clock, key, account):
    account.time_zone = "America/New_York"
    account.save()
    clock.advance(days=17)
    send_key_expiry_reminders()
    # START + 20 days is Mar 21, 2026 09:00 UTC: 05:00 in New York (EDT since Mar 8).
    assert "Mar 21, 2026 05:00 EDT" in mail.outbox[0].body
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_reminder_sent_late_is_dropped_for_a_key_disabled_meanwhile(clock, key, owner):
    """The outbox may send a reminder minutes after its claim (a retry): by then the key may
    be disabled, and the email would be wrong."""
    clock.advance(days=6)
    send_key_expiry_reminders()
    mail.outbox.clear()
    key.disable(by=owner)
    key.save()
    expiry_reminder_send(reminder_id=ExpiryReminder.objects.get(days_before=14).pk)
    assert mail.outbox == []
