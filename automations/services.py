"""Automations services: the account's rules (created, edited, turned on and off, moved,
deleted, each audited) and the CSV upload of payments, which feeds the engine
(automations/engine.py) as the API does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from automations.engine import fms_event_receive
from automations.models import EventType, FmsEvent, Rule
from automations.payments import PaymentPlan, plan_payments
from davinci.accounts import permissions
from davinci.accounts.models import Account, AuditEvent, Membership
from davinci.accounts.services import audit_event_record
from facilities import notices
from facilities.models import Facility, LockStatus

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


# --- Payments by CSV --------------------------------------------------------------------------


def payments_preview(*, membership: Membership, text: str, filename: str) -> PaymentPlan:
    """What the file's payments are and what the rules would do now; writes nothing."""
    return plan_payments(membership=membership, text=text, filename=filename)


@transaction.atomic
def payments_apply(
    *, membership: Membership, text: str, filename: str, user: User, ip: str | None
) -> tuple[PaymentPlan, list[FmsEvent]]:
    """Check the file again and, when every row is valid, receive each payment as an event
    from the API would be (all or nothing), audited once for the file."""
    plan = plan_payments(membership=membership, text=text, filename=filename)
    if not plan.is_valid:
        return plan, []
    events = [
        fms_event_receive(
            unit=row.unit,
            type=EventType.PAYMENT_RECEIVED,
            occurred_at=row.paid_at,
            reference=row.reference,
            user=user,
        )
        for row in plan.rows
    ]
    audit_event_record(
        account=membership.account,
        action=AuditEvent.Action.PAYMENTS_UPLOADED,
        actor=user,
        ip=ip,
        details={"filename": filename, "payments": len(events)},
    )
    return plan, events
