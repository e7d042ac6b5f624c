"""Every type of event, as sent: no unlock code, no tenant's name, email or phone; and each
body matches its JSON Schema in the OpenAPI document's `webhooks` section."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from facilities import services as facility_services
from facilities.history import Actor, lock_event_record
from facilities.models import LockEvent, LockStatus
from integrations.api.openapi import document_json
from tests.factories import UnitFactory, assigned_lock
from webhooks import events, payloads
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_event(account, facility, owner):
    from tests.factories import WebhookEndpointFactory

    WebhookEndpointFactory(account=account)
    unit = UnitFactory(
        facility=facility,
        unit_number="B207",
        tenant_name="Marguerite Okonkwo",
        tenant_email="marguerite@example.net",
        tenant_phone="+16035550199",
    )
    lock = assigned_lock(unit, code="7391")
    facility_services.lock_release(lock=lock, actor=Actor.for_user(owner, ip="203.0.113.9"))
    lock_event_record(
        lock=lock,
        kind=LockEvent.Kind.CODE_SENT,
        actor_type=LockEvent.Actor.USER,
        user=owner,
        unit=unit,
        details={"notice": "delinquency_paid", "channel": "email", "to": "marguerite@example.net"},
    )
    events.publish(
        account=account,
        facility=facility,
        type=EventType.AUTOMATION_RAN,
        data=payloads.automation_ran_data(
            rule_id=3,
            trigger="payment_received",
            result="acted",
            lock=lock,
            unit=unit,
            facility=facility,
            occurred_at=timezone.now(),
            ran_at=timezone.now(),
        ),
    )
    endpoint = account.webhook_endpoints.get()
    events.test_publish(endpoint=endpoint)
    return {"unit": unit, "lock": lock}


def test_every_type_is_written(every_event):
    assert set(Event.objects.values_list("type", flat=True)) == set(EventType.values)


def test_no_payload_carries_a_code_or_a_contact(every_event):
    forbidden = ["7391", "Marguerite", "Okonkwo", "marguerite@example.net", "6035550199"]
    for event in Event.objects.all():
        body = payloads.body(event).decode()
        assert [word for word in forbidden if word in body] == [], event.type
        assert "unlock_code" not in body and "tenant" not in body


def test_every_body_matches_its_schema_in_the_openapi_document(every_event):
    from openapi_schema_validator import OAS31Validator

    document = json.loads(document_json())
    schemas = document["components"]["schemas"]
    for event in Event.objects.all():
        operation = document["webhooks"][event.type]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        validator = OAS31Validator({**schema, "components": {"schemas": schemas}})
        validator.validate(json.loads(payloads.body(event)))


def test_the_document_names_every_event_type():
    assert set(json.loads(document_json())["webhooks"]) == set(EventType.values)


def test_the_body_is_the_same_bytes_each_time(every_event):
    event = Event.objects.first()
    assert payloads.body(event) == payloads.body(Event.objects.get(pk=event.pk))


def test_a_status_change_carries_both_statuses(every_event):
    event = Event.objects.get(type=EventType.LOCK_STATUS_CHANGED)
    assert event.data["from_status"] == {
        "value": LockStatus.ASSIGNED_OVERLOCK,
        "label": "Assigned Overlock",
    }
    assert event.data["to_status"]["value"] == LockStatus.RETURNED_TO_DROPBOX
