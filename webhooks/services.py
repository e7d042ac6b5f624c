"""Webhooks services: every change to an account's webhook endpoints. Each is validated the
same way whoever calls it, writes its AuditEvent (actor + IP) in the Activity log, and never
puts a secret in one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from davinci.accounts.models import Account, AuditEvent, Membership, User
from davinci.accounts.services import audit_event_record
from facilities.models import Facility
from webhooks import events, tasks, transport
from webhooks.models import SUBSCRIBABLE, Delivery, Endpoint, Event
from webhooks.secrets import generate_secret

# An account's endpoints are read each time a lock changes: a handful, not hundreds.
MAX_ENDPOINTS = 20
EVENT_TYPES = {value for value, _ in SUBSCRIBABLE}


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: Endpoint
    secret: str

    def __repr__(self) -> str:  # never let a debugger or log line print the secret
        return f"NewEndpoint(endpoint={self.endpoint.pk!r}, secret='***')"


def _record(
    *,
    endpoint: Endpoint,
    action: AuditEvent.Action,
    actor: User | None,
    ip: str | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return audit_event_record(
        account=endpoint.account,
        action=action,
        actor=actor,
        ip=ip,
        target=endpoint,
        details=details,
    )


def _check(
    *,
    account: Account,
    url: str,
    event_types: Sequence[str],
    all_facilities: bool,
    facilities: Sequence[Facility],
    membership: Membership | None,
) -> None:
    """The rules the form also checks, for every caller: a public https URL, known events,
    facilities of the account (and of the member, who needs All Facilities for an All
    Facilities endpoint)."""
    errors: dict[str, ValidationError] = {}
    problem = transport.url_problem(url)
    if problem:
        errors["url"] = ValidationError(problem, code="url_refused")
    if not event_types or set(event_types) - EVENT_TYPES:
        errors["event_types"] = ValidationError("Choose at least one event.", code="no_events")
    if any(facility.account_id != account.pk for facility in facilities):
        errors["facilities"] = ValidationError(
            "One of the facilities belongs to another account.", code="wrong_account"
        )
    elif not all_facilities and not facilities:
        errors["facilities"] = ValidationError(
            "Select at least one facility, or turn on All Facilities.", code="no_facilities"
        )
    if membership is not None and not membership.all_facilities:
        if all_facilities:
            errors["all_facilities"] = ValidationError(
                "Only a user with All Facilities can add an All Facilities endpoint.",
                code="all_facilities_not_allowed",
            )
        allowed = set(Facility.objects.for_membership(membership).values_list("pk", flat=True))
        if any(facility.pk not in allowed for facility in facilities):
            errors["facilities"] = ValidationError(
                "One of the facilities is outside your facility access.", code="outside_access"
            )
    if errors:
        raise ValidationError(errors)


@sensitive_variables("secret")
@transaction.atomic
def endpoint_create(
    *,
    account: Account,
    url: str,
    description: str,
    event_types: Sequence[str],
    all_facilities: bool,
    facilities: Sequence[Facility],
    membership: Membership | None,
    actor: User | None,
    ip: str | None,
) -> NewEndpoint:
    """A new endpoint with a fresh signing secret, returned once in plain text."""
    _check(
        account=account,
        url=url,
        event_types=event_types,
        all_facilities=all_facilities,
        facilities=facilities,
        membership=membership,
    )
    # The account row is locked so that two adds at once cannot both pass the limit.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if Endpoint.objects.for_account(account).not_deleted().count() >= MAX_ENDPOINTS:
        raise ValidationError(
            f"An account has at most {MAX_ENDPOINTS} endpoints: delete one you no longer use.",
            code="too_many_endpoints",
        )
    secret = generate_secret()
    endpoint = Endpoint(
        account=account,
        url=url,
        description=description,
        event_types=sorted(event_types),
        all_facilities=all_facilities,
        created_by=actor,
    )
    endpoint.set_secret(secret)
    endpoint.save()
    endpoint.facilities.set([] if all_facilities else facilities)
    _record(
        endpoint=endpoint,
        action=AuditEvent.Action.WEBHOOK_CREATED,
        actor=actor,
        ip=ip,
        details={"events": endpoint.event_types, "facilities": _scope(endpoint, facilities)},
    )
    return NewEndpoint(endpoint=endpoint, secret=secret)


def _scope(endpoint: Endpoint, facilities: Sequence[Facility]) -> str:
    if endpoint.all_facilities:
        return "All Facilities"
    return f"{len(facilities)} facilit{'y' if len(facilities) == 1 else 'ies'}"


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str,
    description: str,
    event_types: Sequence[str],
    all_facilities: bool,
    facilities: Sequence[Facility],
    membership: Membership | None,
    actor: User | None,
    ip: str | None,
) -> bool:
    """Save the endpoint's settings; False when nothing changed."""
    _check(
        account=endpoint.account,
        url=url,
        event_types=event_types,
        all_facilities=all_facilities,
        facilities=facilities,
        membership=membership,
    )
    chosen = [] if all_facilities else list(facilities)
    before = set(endpoint.facilities.values_list("pk", flat=True))
    changed = [
        name
        for name, value in [
            ("url", url),
            ("description", description),
            ("event_types", sorted(event_types)),
            ("all_facilities", all_facilities),
        ]
        if getattr(endpoint, name) != value
    ]
    if before != {facility.pk for facility in chosen}:
        changed.append("facilities")
    if not changed:
        return False
    endpoint.url = url
    endpoint.description = description
    endpoint.event_types = sorted(event_types)
    endpoint.all_facilities = all_facilities
    endpoint.save(update_fields=["url", "description", "event_types", "all_facilities"])
    endpoint.facilities.set(chosen)
    _record(
        endpoint=endpoint,
        action=AuditEvent.Action.WEBHOOK_EDITED,
        actor=actor,
        ip=ip,
        details={"changed": changed},
    )
    return True


@sensitive_variables()
@transaction.atomic
def endpoint_reveal(*, endpoint: Endpoint, actor: User, ip: str | None) -> str:
    """ "Show Secret": the current signing secret, recorded in the Activity log."""
    _record(endpoint=endpoint, action=AuditEvent.Action.WEBHOOK_REVEALED, actor=actor, ip=ip)
    return endpoint.secret()


@sensitive_variables()
@transaction.atomic
def endpoint_roll(*, endpoint: Endpoint, keep_previous: bool, actor: User, ip: str | None) -> None:
    """A new signing secret. With `keep_previous` the current one signs too (a second
    signature in each request) for 24 h, so the receiver can switch without a failed
    delivery; without it (a leaked secret) it stops at once."""
    endpoint.set_secret(generate_secret(), keep_previous=keep_previous)
    endpoint.save(
        update_fields=[
            "secret_encrypted",
            "previous_secret_encrypted",
            "previous_secret_expires_at",
        ]
    )
    _record(
        endpoint=endpoint,
        action=AuditEvent.Action.WEBHOOK_ROLLED,
        actor=actor,
        ip=ip,
        details={"previous_secret": "signs for 24 h" if keep_previous else "stopped"},
    )


@transaction.atomic
def endpoint_disable(*, endpoint: Endpoint, actor: User, ip: str | None) -> bool:
    """Nothing more is written or sent for it. False when it already was disabled."""
    if not endpoint.is_active:
        return False
    endpoint.disable(by=actor, reason=Endpoint.DisabledReason.BY_USER)
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason"])
    _record(endpoint=endpoint, action=AuditEvent.Action.WEBHOOK_DISABLED, actor=actor, ip=ip)
    return True


@transaction.atomic
def endpoint_enable(*, endpoint: Endpoint, actor: User, ip: str | None) -> bool:
    """Receiving again, failures forgotten; deliveries still waiting (less than a day old)
    are sent. False when it already was enabled."""
    if endpoint.is_active:
        return False
    endpoint.enable()
    endpoint.save()
    _record(endpoint=endpoint, action=AuditEvent.Action.WEBHOOK_ENABLED, actor=actor, ip=ip)
    transaction.on_commit(lambda: tasks.dispatch(endpoint.pk))
    return True


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor: User, ip: str | None) -> None:
    endpoint.soft_delete(by=actor)
    endpoint.save()
    _record(endpoint=endpoint, action=AuditEvent.Action.WEBHOOK_DELETED, actor=actor, ip=ip)


@transaction.atomic
def endpoint_test_send(*, endpoint: Endpoint) -> Event:
    """ "Send test event": a `webhook.test` event to this endpoint, sent after the commit."""
    if not endpoint.is_active:
        raise ValidationError(
            "The endpoint is disabled: enable it to send a test event.", code="disabled"
        )
    return events.test_publish(endpoint=endpoint)


@transaction.atomic
def delivery_resend(*, delivery: Delivery) -> Delivery:
    """ "Resend": the same event (same webhook-id, so a receiver that keeps ids can tell) as
    a new delivery at the end of the endpoint's queue, retried for a day again."""
    if not delivery.endpoint.is_active:
        raise ValidationError(
            "The endpoint is disabled: enable it to resend an event.", code="disabled"
        )
    return events.deliveries_write(event=delivery.event, endpoints=[delivery.endpoint])[0]
