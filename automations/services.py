"""Automations services: the account's rules (created, edited, turned on and off, moved,
deleted, each audited) and the engine that runs them on an event from the facility-management
software (FMS), through the API or a CSV upload of payments.

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
from django.db.models import Max

from automations.models import AutomationRun, EventType, FmsEvent, Rule
from davinci.accounts import permissions
from davinci.accounts.models import Account, AuditEvent, Membership
from davinci.accounts.services import audit_event_record
from facilities import notices
from facilities import services as facility_services
from facilities.models import Facility, Lock, LockStatus, Unit

if TYPE_CHECKING:
    from davinci.accounts.models import User

# The two rules every account starts with (DESIGN: a payment releases the overlock and sends
# the code; a move-in on a vacant unit sends the new tenant the code).
DEFAULT_RULES = {
    Rule.Default.PAYMENT: {
        "trigger": EventType.PAYMENT_RECEIVED,
        "statuses": [LockStatus.ASSIGNED_OVERLOCK.value],
        "set_status": LockStatus.RETURNED_TO_DROPBOX.value,
        "notice": notices.Notice.DELINQUENCY_PAID.value,
    },
    Rule.Default.MOVE_IN: {
        "trigger": EventType.MOVE_IN,
        "statuses": [LockStatus.ASSIGNED_VACANT.value],
        "set_status": "",
        "notice": notices.Notice.NEW_RENTAL.value,
    },
}

Result = AutomationRun.Result


# --- Rules ------------------------------------------------------------------------------------


def default_rules_create(*, account: Account) -> list[Rule]:
    """The default rules the account does not have yet, first in its order."""
    created = []
    for position, (default, fields) in enumerate(DEFAULT_RULES.items(), start=1):
        rule, made = Rule.objects.get_or_create(
            account=account, default=default, defaults={"position": position, **fields}
        )
        if made:
            created.append(rule)
    return created


def default_rules_on_account_created(sender, instance: Account, created: bool, **kwargs) -> None:
    """post_save receiver of Account (AutomationsConfig.ready): a new account's defaults.
    Not for fixtures loaded raw, whose rules come with them."""
    if created and not kwargs.get("raw"):
        default_rules_create(account=instance)


def _rule_fields(rule: Rule) -> dict[str, Any]:
    return {
        "trigger": rule.trigger,
        "statuses": sorted(rule.statuses),
        "set_status": rule.set_status,
        "notice": rule.notice,
        "all_facilities": rule.all_facilities,
        "facilities": sorted(f.facility_id for f in rule.facilities.all()) if rule.pk else [],
        "enabled": rule.enabled,
    }


def _rule_save(
    *, rule: Rule, facilities: list[Facility], membership: Membership
) -> tuple[Rule, dict[str, Any]]:
    if facilities and any(f.account_id != rule.account_id for f in facilities):
        raise ValidationError("A facility belongs to another account.", code="wrong_account")
    if not rule.all_facilities and not facilities:
        raise ValidationError(
            "Select at least one facility, or turn on All Facilities.", code="no_facilities"
        )
    if not permissions.can_edit_rule(
        member_all_facilities=membership.all_facilities, rule_all_facilities=rule.all_facilities
    ):
        raise ValidationError(
            "Only a user with All Facilities can make a rule for All Facilities.",
            code="all_facilities_not_allowed",
        )
    rule.full_clean()
    rule.save()
    rule.facilities.set([] if rule.all_facilities else facilities)
    return rule, _rule_fields(rule)


@transaction.atomic
def rule_create(
    *,
    account: Account,
    trigger: str,
    statuses: list[str],
    set_status: str,
    notice: str,
    all_facilities: bool,
    facilities: list[Facility],
    enabled: bool = True,
    membership: Membership,
    actor: User,
    ip: str | None,
) -> Rule:
    """A new rule, last in the account's order, audited."""
    last = Rule.objects.for_account(account).aggregate(last=Max("position"))["last"] or 0
    rule = Rule(
        account=account,
        position=last + 1,
        trigger=trigger,
        statuses=list(statuses),
        set_status=set_status,
        notice=notice,
        all_facilities=all_facilities,
        enabled=enabled,
    )
    rule, fields = _rule_save(rule=rule, facilities=facilities, membership=membership)
    audit_event_record(
        account=account,
        action=AuditEvent.Action.RULE_CREATED,
        actor=actor,
        ip=ip,
        target=rule,
        details=fields,
    )
    return rule


@transaction.atomic
def rule_update(
    *,
    rule: Rule,
    trigger: str,
    statuses: list[str],
    set_status: str,
    notice: str,
    all_facilities: bool,
    facilities: list[Facility],
    enabled: bool,
    membership: Membership,
    actor: User,
    ip: str | None,
) -> bool:
    """Save the rule's new settings; False (and nothing audited) when nothing changed."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if not permissions.can_edit_rule(
        member_all_facilities=membership.all_facilities, rule_all_facilities=rule.all_facilities
    ):
        raise ValidationError(
            "This rule is for All Facilities: only a user with All Facilities can change it.",
            code="all_facilities_not_allowed",
        )
    before = _rule_fields(rule)
    rule.trigger, rule.statuses = trigger, list(statuses)
    rule.set_status, rule.notice = set_status, notice
    rule.all_facilities, rule.enabled = all_facilities, enabled
    rule, after = _rule_save(rule=rule, facilities=facilities, membership=membership)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes:
        audit_event_record(
            account=rule.account,
            action=AuditEvent.Action.RULE_EDITED,
            actor=actor,
            ip=ip,
            target=rule,
            details={"changes": changes},
        )
    return bool(changes)


@transaction.atomic
def rule_set_enabled(*, rule: Rule, enabled: bool, actor: User, ip: str | None) -> bool:
    """Turn the rule on or off; False when it already was."""
    rule = Rule.objects.select_for_update().select_related("account").get(pk=rule.pk)
    if rule.enabled == enabled:
        return False
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    audit_event_record(
        account=rule.account,
        action=AuditEvent.Action.RULE_ENABLED if enabled else AuditEvent.Action.RULE_DISABLED,
        actor=actor,
        ip=ip,
        target=rule,
    )
    return True


@transaction.atomic
def rule_move(*, rule: Rule, up: bool, actor: User, ip: str | None) -> bool:
    """Swap the rule with the one before (up) or after it; False at either end."""
    rules = list(Rule.objects.for_account(rule.account).select_for_update().order_by())
    rules.sort(key=lambda each: (each.position, each.pk))
    index = next(i for i, each in enumerate(rules) if each.pk == rule.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rules):
        return False
    rules[index], rules[other] = rules[other], rules[index]
    for position, each in enumerate(rules, start=1):
        if each.position != position:
            each.position = position
            each.save(update_fields=["position", "updated_at"])
    audit_event_record(
        account=rule.account,
        action=AuditEvent.Action.RULE_MOVED,
        actor=actor,
        ip=ip,
        target=rule,
        details={"position": other + 1},
    )
    return True


@transaction.atomic
def rule_delete(*, rule: Rule, actor: User, ip: str | None) -> None:
    """Delete a rule the account made; a default rule is turned off instead, never deleted.
    Its runs stay in the activity list (without the rule)."""
    if rule.default:
        raise ValidationError(
            "A default rule cannot be deleted: turn it off instead.", code="default_rule"
        )
    audit_event_record(
        account=rule.account,
        action=AuditEvent.Action.RULE_DELETED,
        actor=actor,
        ip=ip,
        target=rule,
        details=_rule_fields(rule),
    )
    rule.delete()


# --- The engine -------------------------------------------------------------------------------


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


def _set_status(*, lock: Lock, status: str, user: User, ip: str | None) -> Lock:
    """The portal's own change: Release overlock for Assigned Overlock → Returned to Dropbox,
    Change status otherwise (which refuses what it refuses a person)."""
    if lock.status == LockStatus.ASSIGNED_OVERLOCK and status == LockStatus.RETURNED_TO_DROPBOX:
        return facility_services.lock_release(lock=lock, user=user, ip=ip)
    return facility_services.lock_status_change(lock=lock, status=status, user=user, ip=ip)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)[:250]


def _run_rule(*, rule: Rule, lock: Lock, user: User, ip: str | None) -> tuple[_Outcome, Lock]:
    """One rule on the (row-locked) lock: skipped and why, or acted, or failed and why."""
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
            lock = _set_status(lock=lock, status=rule.set_status, user=user, ip=ip)
        except ValidationError as exc:
            return _Outcome(Result.FAILED, _message(exc)), lock
        outcome.to_status = lock.status
    if rule.notice:
        try:
            notices.tenant_notice_send(
                lock=lock, notice=notices.Notice(rule.notice), user=user, ip=ip
            )
        except ValidationError as exc:
            if not outcome.to_status:
                return _Outcome(Result.FAILED, f"No notice sent: {_message(exc)}"), lock
            outcome.reason = f"The status was set, but no notice was sent: {_message(exc)}"
        else:
            outcome.notice_sent = True
    return outcome, lock


@transaction.atomic
def fms_event_receive(
    *,
    unit: Unit,
    type: str,
    occurred_at: dt.datetime,
    reference: str = "",
    contact: Contact | None = None,
    api_key: Any = None,  # an integrations.ApiKey
    user: User,
    ip: str | None = None,
) -> FmsEvent:
    """Record one event of the unit and run the account's rules on it, in order.

    The unit's row is locked first, so the events of one unit run one after the other: of 50
    payments at once, the first releases the overlock and sends the notice, and the others
    find the lock Returned to Dropbox and are skipped. Each rule that applies at the unit's
    facility and listens for the event leaves one AutomationRun; a unit without a lock, or
    no rule for the event, leaves one run saying there was nothing to do. A move-in that
    carries the new tenant's contact updates the unit first, so the notice goes to them.
    """
    unit = Unit.objects.select_for_update().select_related("facility").get(pk=unit.pk)
    facility = unit.facility
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
        facility_services.unit_update(
            unit=unit,
            unit_number=unit.unit_number,
            tenant_name=contact.tenant_name,
            tenant_email=contact.tenant_email,
            tenant_phone=contact.tenant_phone,
        )
    lock = (
        Lock.objects.select_for_update(of=("self",))
        .select_related("unit", "facility")
        .filter(unit=unit)
        .first()
    )
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
        outcome, lock = _run_rule(rule=rule, lock=lock, user=user, ip=ip)
        runs.append((rule, lock, from_status, outcome))
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
