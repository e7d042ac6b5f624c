"""Integrations → Webhooks as owners and admins use it: one allowed and one refused request
per view, invalid input as form errors. Anonymous visitors and other accounts:
tests/core/test_url_walk.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from davinci.accounts.models import AuditEvent
from tests.factories import WebhookEndpointFactory
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _form(receiver, **more) -> dict:
    return {
        "url": receiver.url,
        "description": "Billing system",
        "event_types": ["overlock.released", "lock.status_changed"],
        "all_facilities": "on",
        **more,
    }


def test_add_endpoint_shows_the_secret_once(owner_client, receiver):
    response = owner_client.post(reverse("webhooks:endpoint_create"), _form(receiver))
    endpoint = Endpoint.objects.get()
    assert response.url == reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    page = owner_client.get(response.url)
    assert endpoint.secret() in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    again = owner_client.get(response.url)
    assert endpoint.secret() not in again.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_CREATED).exists()


def test_add_endpoint_needs_events_and_a_url(owner_client, receiver):
    response = owner_client.post(reverse("webhooks:endpoint_create"), {"url": "not a url"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"url", "event_types"}
    assert not Endpoint.objects.exists()


def test_personnel_cannot_open_webhooks(manager_client):
    assert manager_client.get(reverse("webhooks:endpoint_list")).status_code == 403


def test_the_list_shows_the_accounts_endpoints_in_few_queries(
    owner_client, account, django_assert_max_num_queries
):
    for n in range(5):
        WebhookEndpointFactory(account=account, url=f"https://hooks{n}.example.com/")
    with django_assert_max_num_queries(12):
        response = owner_client.get(reverse("webhooks:endpoint_list"))
    assert response.content.decode().count("hooks") >= 5


def test_a_restricted_admin_may_not_add_an_all_facilities_endpoint(
    facility_restricted_client, receiver, second_facility, facility
):
    url = reverse("webhooks:endpoint_create")
    response = facility_restricted_client.post(url, _form(receiver))
    assert response.context["form"].has_error("all_facilities", "all_facilities_not_allowed")
    outside = _form(receiver, all_facilities="", facilities=facility.facility_id)
    response = facility_restricted_client.post(url, outside)
    assert response.context["form"].has_error("facilities")
    mine = _form(receiver, all_facilities="", facilities=second_facility.facility_id)
    assert facility_restricted_client.post(url, mine).status_code == 302
    assert list(Endpoint.objects.get().facilities.all()) == [second_facility]


def test_show_secret_asks_for_the_password_then_shows_and_audits(owner_client, account, password):
    endpoint = WebhookEndpointFactory(account=account)
    url = reverse("webhooks:endpoint_reveal", args=[endpoint.pk])
    asked = owner_client.post(url)
    assert endpoint.plain_secret not in asked.content.decode()
    assert "Confirm and Show Secret" in asked.content.decode()
    shown = owner_client.post(url, {"password": password})
    assert endpoint.plain_secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert "Content-Encoding" not in shown
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_REVEALED).count() == 1
    assert owner_client.get(url).status_code == 405


def test_roll_disable_enable_and_delete(owner_client, account):
    endpoint = WebhookEndpointFactory(account=account)
    detail = reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    roll = reverse("webhooks:endpoint_roll", args=[endpoint.pk])
    assert owner_client.get(roll).status_code == 200
    assert owner_client.post(roll, {"keep_previous": "1"}).url == detail
    endpoint.refresh_from_db()
    assert endpoint.in_grace_period and endpoint.secret() != endpoint.plain_secret
    assert owner_client.post(roll, {"keep_previous": "maybe"}).status_code == 200
    owner_client.post(reverse("webhooks:endpoint_disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    test = owner_client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]), follow=True)
    assert "enable it to send a test event" in test.content.decode()
    owner_client.post(reverse("webhooks:endpoint_enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    delete = reverse("webhooks:endpoint_delete", args=[endpoint.pk])
    assert owner_client.get(delete).status_code == 200
    assert owner_client.post(delete).url == reverse("webhooks:endpoint_list")
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None and endpoint.secret_encrypted == ""
    assert owner_client.get(detail).status_code == 404
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"webhook_rolled", "webhook_disabled", "webhook_enabled", "webhook_deleted"} <= actions


def test_edit_saves_and_refuses_a_private_url(owner_client, account, monkeypatch):
    endpoint = WebhookEndpointFactory(account=account, url="https://93.184.216.34/hooks")
    url = reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    data = {
        "url": "https://10.0.0.1/",
        "event_types": ["overlock.released"],
        "all_facilities": "on",
    }
    response = owner_client.post(url, data)
    assert response.status_code == 200 and response.context["form"].has_error("url")
    data["url"] = "https://93.184.216.34/other"
    assert owner_client.post(url, data).status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (data["url"], ["overlock.released"])


def test_the_delivery_log_pages_by_id(owner_client, account, django_assert_max_num_queries):
    from django.utils import timezone

    from webhooks import events
    from webhooks.models import Attempt, Delivery

    endpoint = WebhookEndpointFactory(account=account)
    event = events.test_publish(endpoint=endpoint)
    delivery = Delivery.objects.get(event=event)
    Attempt.objects.bulk_create(
        Attempt(endpoint=endpoint, delivery=delivery, number=n, started_at=timezone.now())
        for n in range(1, 61)
    )
    url = reverse("webhooks:endpoint_log", args=[endpoint.pk])
    with django_assert_max_num_queries(10):
        first = owner_client.get(url)
    assert len(first.context["rows"]) == 50 and first.context["older"]
    second = owner_client.get(url, {"before": first.context["older"]})
    assert len(second.context["rows"]) == 10 and second.context["older"] is None
    assert owner_client.get(url, {"before": "x" * 40}).status_code == 200
