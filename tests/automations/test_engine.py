"""The engine: an event for a unit is recorded, the account's rules run on the unit's lock in
order, each acts through the portal's own services or is skipped with its reason."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from automations import engine, services
from automations.models import AutomationRun, FmsEvent, Rule
from facilities.models import Lock, LockEvent, LockStatus
from tests.factories import (
    AccountFactory,
    FacilityFactory,
    UnitFactory,
    WebhookEndpointFactory,
    assigned_lock,
)
from webhooks.models import Event as WebhookEvent

Result = AutomationRun.Result


def _runs(event):
    return [(run.rule_id, run.result, run.reason) for run in event.runs.order_by("id")]


def test_every_new_account_gets_the_two_default_rules(db):
    account = AccountFactory()
    rules = Rule.objects.for_account(account)
    fields = ("default", "trigger", "statuses", "set_status", "notice", "enabled")
    assert [tuple(getattr(rule, name) for name in fields) for rule in rules] == [
        ("payment", "payment_received", ["assigned_overlock"], "returned_to_dropbox",
         "delinquency_paid", True),
        ("move_in", "move_in", ["assigned_vacant"], "", "new_rental", True),
    ]  # fmt: skip
    assert services.default_rules_create(account=account) == []


def test_a_payment_releases_the_overlock_and_sends_the_notice_once(
    account, overlocked, receive, sent
):
    with sent():
        event = receive(overlocked.unit)
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX
    assert overlocked.unit_id == event.unit_id
    assert [m.to for m in mail.outbox] == [["paid@example.com"]]
    assert "2468" in mail.outbox[0].body
    payment_rule = Rule.objects.get(account=account, default="payment")
    run = event.runs.get()
    assert (run.rule, run.result, run.from_status, run.to_status, run.notice, run.notice_sent) == (
        payment_rule,
        Result.ACTED,
        LockStatus.ASSIGNED_OVERLOCK,
        LockStatus.RETURNED_TO_DROPBOX,
        "delinquency_paid",
        True,
    )
    history = LockEvent.objects.filter(lock=overlocked).order_by("id")
    assert [(e.kind, e.actor_type, e.actor_user, e.details.get("automation")) for e in history] == [
        ("released", "automation", None, str(payment_rule)),
        ("code_sent", "automation", None, str(payment_rule)),
    ]


def test_a_second_payment_is_recorded_and_skipped(overlocked, receive, sent):
    with sent():
        receive(overlocked.unit)
        again = receive(overlocked.unit, reference="R-2")
    assert len(mail.outbox) == 1
    [(_, result, reason)] = _runs(again)
    assert result == Result.SKIPPED
    assert reason == "The lock is Returned to Dropbox; the rule is for Assigned Overlock."
    assert FmsEvent.objects.count() == 2


def test_an_assigned_auction_lock_is_never_touched(facility, receive, sent):
    unit = UnitFactory(facility=facility, tenant_email="auction@example.com")
    lock = assigned_lock(unit, LockStatus.ASSIGNED_AUCTION)
    Rule.objects.filter(default="payment").update(statuses=["assigned_auction"])
    with sent():
        event = receive(unit)
    lock.refresh_from_db()
    assert lock.status == LockStatus.ASSIGNED_AUCTION
    assert mail.outbox == []
    assert not LockEvent.objects.filter(lock=lock).exists()
    [(_, result, reason)] = _runs(event)
    assert (result, reason) == (Result.SKIPPED, "A rule never acts on a lock in Assigned Auction.")


def test_a_disabled_rule_records_the_event_and_does_nothing(overlocked, receive, sent):
    Rule.objects.filter(default="payment").update(enabled=False)
    with sent():
        event = receive(overlocked.unit)
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.ASSIGNED_OVERLOCK
    assert mail.outbox == []
    assert _runs(event)[0][1:] == (Result.SKIPPED, "The rule is turned off.")


def test_a_unit_without_a_lock_is_recorded_with_nothing_to_do(facility, receive):
    unit = UnitFactory(facility=facility, unit_number="C7")
    event = receive(unit)
    assert _runs(event) == [(None, Result.NOTHING, "Unit C7 has no lock.")]


def test_no_rule_for_the_event_says_so(overlocked, receive):
    event = receive(overlocked.unit, type="move_out")
    assert _runs(event) == [(None, Result.NOTHING, "No rule for move-out at Harbor Downtown.")]


def test_a_rule_for_other_facilities_does_not_run_here(account, overlocked, receive):
    rule = Rule.objects.get(account=account, default="payment")
    rule.all_facilities = False
    rule.save()
    rule.facilities.set([FacilityFactory(account=account)])
    event = receive(overlocked.unit)
    assert _runs(event)[0][1] == Result.NOTHING
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.ASSIGNED_OVERLOCK


def test_the_release_without_a_contact_is_acted_and_says_no_notice(facility, receive, sent):
    unit = UnitFactory(facility=facility, tenant_email="", tenant_phone="")
    lock = assigned_lock(unit)
    with sent():
        event = receive(unit)
    lock.refresh_from_db()
    assert lock.status == LockStatus.RETURNED_TO_DROPBOX
    run = event.runs.get()
    assert (run.result, run.notice_sent) == (Result.ACTED, False)
    assert run.reason.startswith("The status was set, but no notice was sent: Unit")


def test_rules_run_in_order_on_the_status_the_one_before_left(account, overlocked, receive, owner):
    """A second rule for Returned to Dropbox sees the lock the first rule released."""
    second = Rule.objects.create(
        account=account, position=9, trigger="payment_received",
        statuses=["returned_to_dropbox"], set_status="tenant_using_lock",
    )  # fmt: skip
    event = receive(overlocked.unit)
    assert [run[1] for run in _runs(event)] == [Result.ACTED, Result.ACTED]
    assert event.runs.get(rule=second).to_status == LockStatus.TENANT_USING_LOCK
    assert Lock.objects.get(pk=overlocked.pk).status == LockStatus.TENANT_USING_LOCK


def test_a_status_the_portal_refuses_is_a_failed_run(account, overlocked, receive):
    """The engine uses the portal's service: a status off the unit is not a status change."""
    Rule.objects.filter(default="payment").update(set_status="available")
    event = receive(overlocked.unit)
    run = event.runs.get()
    assert run.result == Result.FAILED
    assert "Take off the unit" in run.reason
    assert Lock.objects.get(pk=overlocked.pk).status == LockStatus.ASSIGNED_OVERLOCK


def test_a_move_in_with_a_contact_updates_the_unit_and_sends_the_new_rental_notice(
    facility, receive, sent
):
    unit = UnitFactory(facility=facility, tenant_email="old@example.com")
    lock = assigned_lock(unit, LockStatus.ASSIGNED_VACANT, code="1357")
    contact = engine.Contact(
        tenant_name="Nina New", tenant_email="nina@example.com", tenant_phone="+16035550100"
    )
    with sent():
        event = receive(unit, type="move_in", contact=contact)
    unit.refresh_from_db()
    assert (unit.tenant_name, unit.tenant_email, unit.tenant_phone) == (
        "Nina New",
        "nina@example.com",
        "+16035550100",
    )
    assert [m.to for m in mail.outbox] == [["nina@example.com"]]
    assert "1357" in mail.outbox[0].body
    assert event.contact_updated
    run = event.runs.get()
    assert (run.result, run.notice, run.notice_sent) == (Result.ACTED, "new_rental", True)
    lock.refresh_from_db()
    assert lock.status == LockStatus.ASSIGNED_VACANT


def test_a_default_rule_cannot_be_deleted(account, owner):
    rule = Rule.objects.get(account=account, default="payment")
    with pytest.raises(ValidationError):
        services.rule_delete(rule=rule, actor=owner, ip=None)


def test_each_rule_run_is_announced_as_automation_ran(account, overlocked, receive):
    """The automation.ran webhook: one per rule that ran (acted, skipped or failed), in the
    event's transaction, with ids and statuses only (webhooks.payloads)."""
    WebhookEndpointFactory(account=account)
    Rule.objects.filter(default="move_in").update(trigger="payment_received")
    event = receive(overlocked.unit)
    published = WebhookEvent.objects.filter(type="automation.ran").order_by("id")
    payment, move_in = (
        Rule.objects.get(account=account, default=d) for d in ("payment", "move_in")
    )
    assert [(e.data["rule_id"], e.data["result"], e.data["status"]) for e in published] == [
        (payment.pk, "acted", {"value": "returned_to_dropbox", "label": "Returned to Dropbox"}),
        (move_in.pk, "skipped", {"value": "returned_to_dropbox", "label": "Returned to Dropbox"}),
    ]
    first = published[0]
    assert (first.facility, first.data["unit_number"], first.data["trigger"]) == (
        overlocked.facility,
        "B12",
        "payment_received",
    )
    assert first.data["occurred_at"].startswith("2026-03-02T09:30:00")
    assert "2468" not in str(first.data) and "paid@example.com" not in str(first.data)
    assert event.runs.count() == 2


def test_nothing_to_do_is_not_announced(account, facility, receive):
    WebhookEndpointFactory(account=account)
    receive(UnitFactory(facility=facility))
    assert not WebhookEvent.objects.filter(type="automation.ran").exists()
