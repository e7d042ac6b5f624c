"""The engine: an event from the facility-management software (FMS), through the API or a CSV
upload of payments, is recorded and the account's rules run on it in order.

The engine acts only through the portal's own services (facilities.services for a status,
facilities.notices for a notice), so a rule obeys the same transitions and the same "never
for Assigned Auction" as a person, and each change leaves its LockEvent on the lock's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from automations.models import AutomationRun, EventType, FmsEvent, Rule
from davinci.accounts import permissions
from facilities import notices
from facilities import services as facility_services
from facilities.history import Actor
from facilities.models import Lock, LockStatus, Unit
from webhooks import events as webhook_events
from webhooks import payloads
from webhooks.models import EventType as WebhookEventType

if TYPE_CHECKING:
    from davinci.accounts.models import User

Result = AutomationRun.Result


@dataclass(frozen=True)
class Contact:
    """A new tenant's contact, validated as the unit form validates it."""

    tenant_name: str
    tenant_email: str
    tenant_phone: str


@dataclass
class _Outcome:
    result: str
    reason: str = ""
    to_status: str = ""
    notice_sent: bool = False


def _statuses_in_words(statuses: list[str]) -> str:
    labels = [LockStatus(status).label for status in statuses if status in LockStatus]
    return " or ".join(labels) or "no status"


def _set_status(*, lock: Lock, status: str, actor: Actor) -> Lock:
    """The portal's own change: Release overlock for Assigned Overlock → Returned to Dropbox,
    Change status otherwise (which refuses what it refuses a person)."""
    if lock.status == LockStatus.ASSIGNED_OVERLOCK and status == LockStatus.RETURNED_TO_DROPBOX:
        return facility_services.lock_release(lock=lock, actor=actor)
    return facility_services.lock_status_change(lock=lock, status=status, actor=actor)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)[:250]


def _run_rule(*, rule: Rule, lock: Lock) -> tuple[_Outcome, Lock]:
    """One rule on the (row-locked) lock: skipped and why, or acted, or failed and why. What
    it does is recorded on the lock's history as done by "Automation" and the rule."""
    actor = Actor.for_automation(automation_id=rule.pk, name=str(rule))
    if not rule.enabled:
        return _Outcome(Result.SKIPPED, "The rule is turned off."), lock
    if not permissions.automation_can_act(lock.status):
        return _Outcome(
            Result.SKIPPED, f"A rule never acts on a lock in {lock.get_status_display()}."
        ), lock
    if lock.status not in rule.statuses:
        return _Outcome(
            Result.SKIPPED,
            f"The lock is {lock.get_status_display()}; the rule is for "
            f"{_statuses_in_words(rule.statuses)}.",
        ), lock
    outcome = _Outcome(Result.ACTED)
    if rule.set_status and rule.set_status != lock.status:
        try:
            lock = _set_status(lock=lock, status=rule.set_status, actor=actor)
        except ValidationError as exc:
            return _Outcome(Result.FAILED, _message(exc)), lock
        outcome.to_status = lock.status
    if rule.notice:
        try:
            notices.tenant_notice_send(lock=lock, notice=notices.Notice(rule.notice), actor=actor)
        except ValidationError as exc:
            if not outcome.to_status:
                return _Outcome(Result.FAILED, f"No notice sent: {_message(exc)}"), lock
            outcome.reason = f"The status was set, but no notice was sent: {_message(exc)}"
        else:
            outcome.notice_sent = True
    return outcome, lock


def _announce(*, event: FmsEvent, rule: Rule, result: str, lock: Lock) -> None:
    """The `automation.ran` webhook of one rule's run, in the event's transaction: to the
    account's endpoints that want it at this facility (nothing is written when none does)."""
    webhook_events.publish(
        account=event.account,
        facility=event.facility,
        type=WebhookEventType.AUTOMATION_RAN,
        data=payloads.automation_ran_data(
            rule_id=rule.pk,
            trigger=event.type,
            result=result,
            lock=lock,
            unit=event.unit,
            facility=event.facility,
            occurred_at=event.occurred_at,
            ran_at=timezone.now(),
        ),
    )


@transaction.atomic
def fms_event_receive(
    *,
    unit: Unit,
    type: str,
    occurred_at: dt.datetime,
    reference: str = "",
    contact: Contact | None = None,
    api_key: Any = None,  # an integrations.ApiKey: the event came through the API
    user: User | None = None,  # else it came from this user's CSV upload
) -> FmsEvent:
    """Record one event of the unit and run the account's rules on it, in order.

    The row of the unit's lock is locked first, so the events of one lock run one after the
    other: of 50 payments at once, the first releases the overlock and sends the notice, and
    the others find the lock Returned to Dropbox and are skipped. Each rule that applies at
    the unit's facility and listens for the event leaves one AutomationRun; a unit without a
    lock, or no rule for the event, leaves one run saying there was nothing to do. Each
    rule's run is announced by the `automation.ran` webhook, in this transaction. A move-in
    that carries the new tenant's contact updates the unit first, so the notice goes to them.
    """
    unit = Unit.objects.select_related("facility").get(pk=unit.pk)
    facility = unit.facility
    # The lock's row, as every service that changes a lock takes it (and before the unit's,
    # which a notice's delivery takes after the lock's: the other order deadlocks).
    lock = (
        Lock.objects.select_for_update(of=("self",))
        .select_related("unit", "facility")
        .filter(unit=unit)
        .first()
    )
    event = FmsEvent.objects.create(
        account_id=facility.account_id,
        facility=facility,
        unit=unit,
        type=type,
        occurred_at=occurred_at,
        reference=reference,
        source=FmsEvent.Source.API if api_key is not None else FmsEvent.Source.CSV,
        api_key=api_key,
        uploaded_by=None if api_key is not None else user,
        contact_updated=contact is not None,
    )
    if contact is not None:
        unit = facility_services.unit_update(
            unit=unit,
            unit_number=unit.unit_number,
            tenant_name=contact.tenant_name,
            tenant_email=contact.tenant_email,
            tenant_phone=contact.tenant_phone,
        )
        if lock is not None:
            lock.unit = unit
    rules = list(
        Rule.objects.for_account(event.account).for_facility(facility.pk).filter(trigger=type)
    )
    runs = []
    if lock is None:
        runs.append(
            (None, None, "", _Outcome(Result.NOTHING, f"Unit {unit.unit_number} has no lock."))
        )
    elif not rules:
        words = EventType(type).label.lower()
        runs.append(
            (
                None,
                lock,
                lock.status,
                _Outcome(Result.NOTHING, f"No rule for {words} at {facility}."),
            )
        )
    for rule in rules if lock is not None else []:
        from_status = lock.status
        outcome, lock = _run_rule(rule=rule, lock=lock)
        runs.append((rule, lock, from_status, outcome))
        _announce(event=event, rule=rule, result=outcome.result, lock=lock)
    AutomationRun.objects.bulk_create(
        AutomationRun(
            account_id=facility.account_id,
            event=event,
            rule=rule,
            facility=facility,
            unit=unit,
            unit_number=unit.unit_number,
            result=outcome.result,
            reason=outcome.reason,
            lock=run_lock,
            from_status=from_status,
            to_status=outcome.to_status,
            notice=rule.notice if rule is not None and outcome.result == Result.ACTED else "",
            notice_sent=outcome.notice_sent,
        )
        for rule, run_lock, from_status, outcome in runs
    )
    return event
