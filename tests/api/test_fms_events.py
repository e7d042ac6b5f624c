"""POST /api/v1/facilities/{facility_id}/units/{unit_number}/events/ (permission fms_events):
the facility software reports a payment, a move-in or a move-out; the event is recorded and
the account's automation rules run on it. Idempotent like every POST, scoped like every call."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from automations.models import AutomationRun, FmsEvent, Rule
from facilities.models import LockEvent, LockStatus
from tests.api.conftest import error_code, key_headers
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock

PAYMENT = {"type": "payment_received", "occurred_at": "2026-03-02T09:30:00Z", "reference": "R-1"}


@pytest.fixture
def fms_key(account):
    return ApiKeyFactory(account=account, permissions=["fms_events"])


@pytest.fixture
def overlocked(facility):
    unit = UnitFactory(facility=facility, unit_number="B12", tenant_email="paid@example.com")
    return assigned_lock(unit, LockStatus.ASSIGNED_OVERLOCK, serial="OV000001", code="2468")


def _url(facility, unit_number="B12") -> str:
    return f"/api/v1/facilities/{facility.facility_id}/units/{unit_number}/events/"


def post(api, key, url, body, *, idempotency_key="evt-1"):
    headers = {**key_headers(key), "HTTP_IDEMPOTENCY_KEY": idempotency_key}
    return api.call(
        url, method="post", data=json.dumps(body), content_type="application/json", **headers
    )


def test_a_payment_releases_the_overlock_once_even_when_replayed(
    api, fms_key, facility, overlocked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, fms_key, _url(facility), PAYMENT)
    assert first.status_code == 202
    data = first.data["data"]
    assert (data["type"], data["reference"], data["unit_number"]) == (
        "payment_received",
        "R-1",
        "B12",
    )
    [run] = data["runs"]
    assert run == {
        "rule_id": Rule.objects.get(default="payment", account=facility.account).pk,
        "result": "acted",
        "reason": "",
        "serial": "OV000001",
        "from_status": "assigned_overlock",
        "to_status": "returned_to_dropbox",
        "notice": "delinquency_paid",
        "notice_sent": True,
    }
    assert "2468" not in first.content.decode() and "paid@example.com" not in first.content.decode()
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX
    assert [m.to for m in mail.outbox] == [["paid@example.com"]]
    released = LockEvent.objects.get(lock=overlocked, kind=LockEvent.Kind.RELEASED)
    assert released.actor_type == "automation"
    event = FmsEvent.objects.get()
    assert (event.source, event.api_key) == ("api", fms_key)

    with django_capture_on_commit_callbacks(execute=True):
        again = post(api, fms_key, _url(facility), PAYMENT)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert FmsEvent.objects.count() == 1 and len(mail.outbox) == 1
    assert LockEvent.objects.filter(lock=overlocked, kind=LockEvent.Kind.RELEASED).count() == 1


def test_an_assigned_auction_unit_is_recorded_and_skipped(api, fms_key, facility, mailoutbox):
    lock = assigned_lock(
        UnitFactory(facility=facility, unit_number="AU1"), LockStatus.ASSIGNED_AUCTION
    )
    Rule.objects.filter(default="payment").update(
        statuses=["assigned_overlock", "assigned_auction"]
    )
    response = post(api, fms_key, _url(facility, "AU1"), PAYMENT)
    assert response.status_code == 202
    [run] = response.data["data"]["runs"]
    assert (run["result"], run["reason"]) == (
        "skipped",
        "A rule never acts on a lock in Assigned Auction.",
    )
    lock.refresh_from_db()
    assert lock.status == LockStatus.ASSIGNED_AUCTION and mailoutbox == []


def test_a_unit_without_a_lock_is_202_recorded_with_nothing_to_do(api, fms_key, facility):
    UnitFactory(facility=facility, unit_number="E1")
    response = post(api, fms_key, _url(facility, "E1"), PAYMENT)
    assert response.status_code == 202
    assert response.data["data"]["runs"] == [
        {
            "rule_id": None,
            "result": "nothing",
            "reason": "Unit E1 has no lock.",
            "serial": None,
            "from_status": None,
            "to_status": None,
            "notice": None,
            "notice_sent": False,
        }
    ]


def test_a_move_in_with_a_contact_updates_the_unit_and_sends_the_new_rental_notice(
    api, fms_key, facility, django_capture_on_commit_callbacks
):
    unit = UnitFactory(facility=facility, unit_number="V1", tenant_email="old@example.com")
    assigned_lock(unit, LockStatus.ASSIGNED_VACANT, code="1357")
    body = {
        "type": "move_in",
        "occurred_at": "2026-03-02T09:30:00-05:00",
        "contact": {
            "tenant_name": "Nina New",
            "tenant_email": "nina@example.com",
            "tenant_phone": "(603) 555-0100",
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, fms_key, _url(facility, "V1"), body)
    assert response.status_code == 202
    assert response.data["data"]["contact_updated"] is True
    unit.refresh_from_db()
    assert (unit.tenant_email, unit.tenant_phone) == ("nina@example.com", "+16035550100")
    assert [m.to for m in mail.outbox] == [["nina@example.com"]]
    assert "1357" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PAYMENT, "type": "refund"}, "type"),
        ({**PAYMENT, "occurred_at": "2026-03-02"}, "occurred_at"),
        ({**PAYMENT, "occurred_at": "yesterday"}, "occurred_at"),
        ({**PAYMENT, "occurred_at": 1700000000}, "occurred_at"),
        ({**PAYMENT, "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({**PAYMENT, "reference": "x" * 201}, "reference"),
        ({**PAYMENT, "reference": 7}, "reference"),
        ({**PAYMENT, "amount": 10}, "amount"),
        ({**PAYMENT, "contact": {"tenant_email": "a@example.com"}}, "contact"),
        (
            {**PAYMENT, "type": "move_in", "contact": {"tenant_email": "not an email"}},
            "contact.tenant_email",
        ),
        ({**PAYMENT, "type": "move_in", "contact": {"tenant_phone": "12"}}, "contact.tenant_phone"),
        ({**PAYMENT, "type": "move_in", "contact": {"tenant_email": ["x"]}}, "contact"),
        ({**PAYMENT, "type": "move_in", "contact": "nina@example.com"}, "contact"),
    ],
)
def test_a_bad_body_is_400_invalid_body_naming_the_field_and_nothing_is_recorded(
    api, fms_key, facility, overlocked, body, field
):
    response = post(api, fms_key, _url(facility), body)
    assert (response.status_code, error_code(response)) == (400, "invalid_body")
    assert response.data["error"]["message"].startswith(field)
    assert not FmsEvent.objects.exists()
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.ASSIGNED_OVERLOCK


def test_unknown_and_out_of_scope_units_are_the_same_404(api, account, facility, overlocked):
    elsewhere = FacilityFactory(account=account)
    UnitFactory(facility=elsewhere, unit_number="B12")
    key = ApiKeyFactory(account=account, permissions=["fms_events"], all_facilities=False)
    key.facilities.set([elsewhere])
    for url in (_url(facility), _url(elsewhere, "NOPE"), _url(facility, "bad/number")):
        response = post(api, key, url, PAYMENT, idempotency_key=url)
        assert response.status_code == 404, url
    assert not FmsEvent.objects.exists()


def test_another_accounts_facility_is_404(api, other_account, facility, overlocked):
    key = ApiKeyFactory(account=other_account, permissions=["fms_events"])
    assert post(api, key, _url(facility), PAYMENT).status_code == 404


def test_a_key_without_fms_events_is_refused(api, account, facility, overlocked):
    key = ApiKeyFactory(account=account, permissions=["read", "release"])
    response = post(api, key, _url(facility), PAYMENT)
    assert (response.status_code, error_code(response)) == (403, "insufficient_permission")
    assert not FmsEvent.objects.exists()


def test_the_write_needs_an_idempotency_key_and_json(api, fms_key, facility, overlocked):
    headers = key_headers(fms_key)
    missing = api.call(
        _url(facility),
        method="post",
        data=json.dumps(PAYMENT),
        content_type="application/json",
        **headers,
    )
    assert (missing.status_code, error_code(missing)) == (400, "idempotency_key_required")
    form = api.call(
        _url(facility),
        method="post",
        data={"type": "payment_received"},
        HTTP_IDEMPOTENCY_KEY="k",
        **headers,
    )
    assert form.status_code == 415
    assert api.call(_url(facility), fms_key).status_code == 405
    assert not AutomationRun.objects.exists()
