"""docs/automations.md's walk-through on the demo (acceptance 1 and 2): seed_demo --fms-events
gives the demo key `fms_events`; a payment for Harbor Downtown's Assigned Overlock unit A114
releases its lock and sends "Unlock and Delinquency Paid" once, the lock's history says
"Automation", the activity list shows the run, and the same request replayed does nothing
more. The same payment for the Assigned Auction unit A102 is recorded and skipped."""

import json
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from automations.models import FmsEvent
from facilities.models import Facility, Lock, LockEvent, LockStatus

PAYMENT = {"type": "payment_received", "occurred_at": "2026-03-02T09:30:00Z", "reference": "R-1"}


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--fms-events", stdout=out)
    exports = dict(re.findall(r"export (DAVINCI_API_\w+)=(\S+)", out.getvalue()))
    assert "It may also send FMS events" in out.getvalue()
    return {
        "X-API-Key": exports["DAVINCI_API_KEY"],
        "X-API-Secret": exports["DAVINCI_API_SECRET"],
        "facility_id": Facility.objects.get(name="Harbor Downtown").facility_id,
    }


def _pay(demo, unit_number: str, idempotency_key: str):
    return Client().post(
        f"/api/v1/facilities/{demo['facility_id']}/units/{unit_number}/events/",
        data=json.dumps(PAYMENT),
        content_type="application/json",
        headers={
            "X-API-Key": demo["X-API-Key"],
            "X-API-Secret": demo["X-API-Secret"],
            "Idempotency-Key": idempotency_key,
        },
    )


def test_a_payment_for_a_delinquent_demo_unit_releases_it_once(
    demo, django_capture_on_commit_callbacks
):
    lock = Lock.objects.get(unit__unit_number="A114", facility__name="Harbor Downtown")
    assert lock.status == LockStatus.ASSIGNED_OVERLOCK
    with django_capture_on_commit_callbacks(execute=True):
        first = _pay(demo, "A114", "pay-a114")
    assert first.status_code == 202
    lock.refresh_from_db()
    assert lock.status == LockStatus.RETURNED_TO_DROPBOX
    notices = [m for m in mail.outbox if lock.unit.tenant_email in m.to]
    assert len(notices) == 1 and lock.unlock_code in notices[0].body

    owner = Client()
    owner.login(username="owner@example.com", password="davinci-demo")
    page = owner.get(reverse("facilities:lock_detail", args=[lock.pk])).content.decode()
    assert "Automation “Payment received: Set Returned to Dropbox" in page
    activity = owner.get(reverse("automations:activity"), {"unit": "A114"}).content.decode()
    assert "R-1" in activity and "Acted" in activity

    with django_capture_on_commit_callbacks(execute=True):
        again = _pay(demo, "A114", "pay-a114")
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert FmsEvent.objects.count() == 1
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED).count() == 1
    assert len([m for m in mail.outbox if lock.unit.tenant_email in m.to]) == 1


def test_the_same_payment_for_the_auction_unit_is_recorded_and_skipped(demo, mailoutbox):
    response = _pay(demo, "A102", "pay-a102")
    assert response.status_code == 202
    [run] = response.json()["data"]["runs"]
    assert (run["result"], run["reason"]) == (
        "skipped",
        "A rule never acts on a lock in Assigned Auction.",
    )
    assert Lock.objects.get(unit__unit_number="A102", facility__name="Harbor Downtown").status == (
        LockStatus.ASSIGNED_AUCTION
    )
    assert mailoutbox == []
