"""The delivery log does not grow forever: deliveries delivered or given up more than
WEBHOOKS_LOG_RETENTION_DAYS ago are deleted with their attempts, then the events no
delivery needs any more, in batches, by a beat task. A pending delivery is never deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import WebhookEndpointFactory
from webhooks import events, retention, tasks
from webhooks.models import Attempt, Delivery, Event

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def _delivery(endpoint, *, status: str, days_ago: float, attempts: int = 1) -> Delivery:
    """A delivery of a new test event, written `days_ago`, with its attempts."""
    event = events.test_publish(endpoint=endpoint)
    delivery = event.deliveries.get()
    written = timezone.now() - timedelta(days=days_ago)
    Attempt.objects.bulk_create(
        Attempt(endpoint=endpoint, delivery=delivery, number=n, started_at=written)
        for n in range(1, attempts + 1)
    )
    Event.objects.filter(pk=event.pk).update(created_at=written)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=attempts, created_at=written
    )
    return delivery


@pytest.fixture
def endpoint(account):
    return WebhookEndpointFactory(account=account)


def test_old_delivered_and_given_up_rows_go_pending_and_recent_ones_stay(endpoint):
    old_delivered = _delivery(endpoint, status=Status.DELIVERED, days_ago=31, attempts=2)
    old_failed = _delivery(endpoint, status=Status.FAILED, days_ago=40, attempts=8)
    old_pending = _delivery(endpoint, status=Status.PENDING, days_ago=45, attempts=3)
    recent = _delivery(endpoint, status=Status.DELIVERED, days_ago=29)

    assert retention.delivery_log_expire() == 2

    assert set(Delivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert set(Event.objects.values_list("pk", flat=True)) == {
        old_pending.event_id,
        recent.event_id,
    }
    assert Attempt.objects.filter(delivery=old_pending).count() == 3
    assert not Attempt.objects.filter(delivery_id__in=[old_delivered.pk, old_failed.pk]).exists()


def test_an_old_event_resent_lately_keeps_its_event(endpoint):
    old = _delivery(endpoint, status=Status.DELIVERED, days_ago=60)
    resent = events.deliveries_write(event=old.event, endpoints=[endpoint])[0]

    assert retention.delivery_log_expire() == 1

    assert list(Delivery.objects.values_list("pk", flat=True)) == [resent.pk]
    assert Event.objects.filter(pk=old.event_id).exists()


def test_the_retention_period_is_a_setting(endpoint, settings):
    settings.WEBHOOKS_LOG_RETENTION_DAYS = 7
    _delivery(endpoint, status=Status.DELIVERED, days_ago=8)
    kept = _delivery(endpoint, status=Status.DELIVERED, days_ago=6)
    assert retention.delivery_log_expire() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [kept.pk]


def test_rows_are_deleted_in_batches(endpoint, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    for _ in range(5):
        _delivery(endpoint, status=Status.DELIVERED, days_ago=31)
    with CaptureQueriesContext(connection) as queries:
        assert retention.delivery_log_expire() == 5
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    delivery_deletes = [sql for sql in deletes if 'FROM "webhooks_delivery"' in sql]
    event_deletes = [sql for sql in deletes if 'FROM "webhooks_event"' in sql]
    assert (len(delivery_deletes), len(event_deletes)) == (3, 3)
    assert not Delivery.objects.exists() and not Event.objects.exists()


def test_the_beat_runs_it_daily_and_the_default_is_30_days():
    entry = django_settings.CELERY_BEAT_SCHEDULE["webhooks-log-expire"]
    assert entry["task"] == "webhooks.log_expire" == tasks.log_expire.name
    assert django_settings.WEBHOOKS_LOG_RETENTION_DAYS == 30


def test_the_delivery_log_says_how_long_it_keeps(owner_client, endpoint, settings):
    settings.WEBHOOKS_LOG_RETENTION_DAYS = 45
    response = owner_client.get(reverse("webhooks:endpoint_log", args=[endpoint.pk]))
    assert "kept for 45 days" in response.content.decode()
