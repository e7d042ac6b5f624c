"""Integrations services: every change to API keys and to a facility's Include in API.

The portal views, the Django admin and `manage.py create_api_key` all go through these
functions, so each change is validated the same way, writes its AuditEvent (actor + IP) and,
where docs/portal-guide.md says so, emails the account's owners.

The effective scope of a key is not computed here: `ApiKey.facilities_in_scope()`
(integrations/models.py) is the one rule, evaluated on every API request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from davinci import crypto
from davinci.accounts.models import Account, AuditEvent, Membership, User
from davinci.accounts.permissions import (
    DEFAULT_KEY_PERMISSIONS,
    KeyPermission,
    key_permissions_clean,
)
from davinci.accounts.services import audit_event_record
from facilities.models import Facility
from integrations import notices
from integrations.models import MAX_ROLL_GRACE, ApiKey
from integrations.secrets import generate_api_key, generate_api_secret


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key and its plain secret: the only moment the secret exists outside
    the ciphertext. Callers show or print it once and drop it."""

    api_key: ApiKey
    secret: str

    def __repr__(self) -> str:  # never let a debugger or log line print the secret
        return f"NewApiKey(api_key={self.api_key.api_key!r}, secret='***')"


def _record(
    *,
    api_key: ApiKey,
    action: AuditEvent.Action,
    actor: User | None,
    ip: str | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event_record(
        account=api_key.account,
        action=action,
        actor=actor,
        ip=ip,
        target=api_key,
        details=details,
    )
    notices.notify_owners(event=event)
    return event


def _check_facilities(*, account: Account, facilities: Sequence[Facility]) -> None:
    # Forms narrow their choices to the account already; this is the last line of defence
    # for the admin, the command and any future caller.
    if any(facility.account_id != account.pk for facility in facilities):
        raise ValidationError(
            {
                "facilities": ValidationError(
                    "One of the facilities belongs to another account.", code="wrong_account"
                )
            }
        )


def _check_scope(*, all_facilities: bool, facilities: Sequence[Facility]) -> None:
    if not all_facilities and not facilities:
        raise ValidationError(
            {
                "facilities": ValidationError(
                    "Select at least one facility, or turn on All Facilities.",
                    code="no_facilities",
                )
            }
        )


def _check_member_scope(
    *, membership: Membership | None, all_facilities: bool, facilities: Sequence[Facility]
) -> None:
    """A key names only facilities of the member who makes it; only a member with All
    Facilities makes an All Facilities key."""
    if membership is None or membership.all_facilities:
        return
    if all_facilities:
        raise ValidationError(
            {
                "all_facilities": ValidationError(
                    "Only a user with All Facilities can create an All Facilities key.",
                    code="all_facilities_not_allowed",
                )
            }
        )
    allowed = set(Facility.objects.for_membership(membership).values_list("pk", flat=True))
    if any(facility.pk not in allowed for facility in facilities):
        raise ValidationError(
            {
                "facilities": ValidationError(
                    "One of the facilities is outside your facility access.",
                    code="outside_access",
                )
            }
        )


def _clean_permissions(permissions: Iterable[str]) -> list[str]:
    """The permissions as the key stores them; at least one (a key with none would be refused
    on every call: disable it instead). Whoever may manage a key chooses any of them: they say
    what the key does within its facilities, all of which an Owner or Client Admin may do in
    the portal."""
    try:
        cleaned = key_permissions_clean(permissions)
    except ValueError as exc:
        raise ValidationError(
            {"permissions": ValidationError(str(exc), code="invalid_permissions")}
        ) from exc
    if not cleaned:
        raise ValidationError(
            {
                "permissions": ValidationError(
                    "Choose at least one permission: " + ", ".join(KeyPermission.values) + ".",
                    code="no_permissions",
                )
            }
        )
    return cleaned


def _permissions_summary(permissions: Iterable[str]) -> str:
    return ", ".join(KeyPermission(value).label for value in permissions)


def _scope_summary(all_facilities: bool, facilities: Iterable[Facility]) -> str:
    if all_facilities:
        return "All Facilities"
    names = sorted(facility.name for facility in facilities)
    return ", ".join(names) if len(names) <= 5 else f"{len(names)} facilities"


@sensitive_variables("secret")
@transaction.atomic
def api_key_create(
    *,
    account: Account,
    name: str,
    all_facilities: bool = True,
    facilities: Sequence[Facility] = (),
    expires_at: datetime | None = None,
    allowed_ips: Sequence[str] = (),
    permissions: Iterable[str] = DEFAULT_KEY_PERMISSIONS,
    membership: Membership | None = None,
    actor: User | None,
    ip: str | None,
) -> NewApiKey:
    """Create a key for `account` and return it with its plain secret (shown once by the
    command line; the portal lets owners see it again with "Show Key"). Without
    `permissions` the key may only read (look codes up)."""
    facilities = list(facilities)
    permissions = _clean_permissions(permissions)
    _check_facilities(account=account, facilities=facilities)
    _check_scope(all_facilities=all_facilities, facilities=facilities)
    _check_member_scope(membership=membership, all_facilities=all_facilities, facilities=facilities)
    secret = generate_api_secret()
    api_key = ApiKey(
        account=account,
        name=name,
        api_key=generate_api_key(),
        all_facilities=all_facilities,
        expires_at=expires_at,
        allowed_ips=list(allowed_ips),
        permissions=permissions,
        created_by=actor,
    )
    api_key.set_secret(secret)
    api_key.save()
    api_key.facilities.set(facilities)
    _record(
        api_key=api_key,
        action=AuditEvent.Action.KEY_CREATED,
        actor=actor,
        ip=ip,
        details={
            "summary": f"Facilities: {_scope_summary(all_facilities, facilities)}; "
            f"Permissions: {_permissions_summary(permissions)}",
            "all_facilities": all_facilities,
            "facility_ids": sorted(facility.facility_id for facility in facilities),
            "permissions": permissions,
            "via": "portal" if actor is not None else "command",
        },
    )
    return NewApiKey(api_key=api_key, secret=secret)


@sensitive_variables("secret")
@transaction.atomic
def api_key_reveal(*, api_key: ApiKey, actor: User, ip: str | None) -> str:
    """Decrypt and return the API Secret, recording who saw it. Callers must already have
    checked the user's recent password confirmation and must answer with no-store."""
    if api_key.is_deleted or not api_key.secret_encrypted:
        raise ValidationError(
            "This key was deleted; its secret can no longer be shown.", code="deleted"
        )
    secret = crypto.decrypt(api_key.secret_encrypted)
    _record(api_key=api_key, action=AuditEvent.Action.KEY_REVEALED, actor=actor, ip=ip)
    return secret


@transaction.atomic
def api_key_update(
    *,
    api_key: ApiKey,
    name: str,
    all_facilities: bool,
    facilities: Sequence[Facility],
    expires_at: datetime | None,
    allowed_ips: Sequence[str],
    permissions: Iterable[str] | None = None,
    membership: Membership | None = None,
    actor: User | None,
    ip: str | None,
) -> bool:
    """Save a key's name, facility selection, expiry, allowed IP ranges and (unless None)
    permissions. Writes one AuditEvent listing what changed; returns False (and writes
    nothing) if nothing did."""
    if api_key.is_deleted:
        raise ValidationError("This key was deleted.", code="deleted")
    facilities = list(facilities)
    permissions = (
        list(api_key.permissions) if permissions is None else _clean_permissions(permissions)
    )
    _check_facilities(account=api_key.account, facilities=facilities)
    _check_scope(all_facilities=all_facilities, facilities=facilities)
    _check_member_scope(membership=membership, all_facilities=all_facilities, facilities=facilities)

    old_facilities = list(api_key.facilities.all())
    changes: dict[str, list[Any]] = {}
    summary: list[str] = []
    if name != api_key.name:
        changes["name"] = [api_key.name, name]
        summary.append(f"Name: {api_key.name} → {name}")
    old_scope = _scope_summary(api_key.all_facilities, old_facilities)
    new_scope = _scope_summary(all_facilities, facilities)
    if all_facilities != api_key.all_facilities or {f.pk for f in old_facilities} != {
        f.pk for f in facilities
    }:
        changes["facility_ids"] = [
            sorted(f.facility_id for f in old_facilities),
            sorted(f.facility_id for f in facilities),
        ]
        changes["all_facilities"] = [api_key.all_facilities, all_facilities]
        if old_scope != new_scope:
            summary.append(f"Facilities: {old_scope} → {new_scope}")
        else:
            summary.append("Facility selection changed")
    if expires_at != api_key.expires_at:
        changes["expires_at"] = [
            api_key.expires_at.isoformat() if api_key.expires_at else None,
            expires_at.isoformat() if expires_at else None,
        ]
        summary.append(
            "Expiry: " + (f"{timezone.localtime(expires_at):%Y-%m-%d}" if expires_at else "none")
        )
    if list(allowed_ips) != list(api_key.allowed_ips):
        changes["allowed_ips"] = [list(api_key.allowed_ips), list(allowed_ips)]
        summary.append("Allowed IP ranges: " + (", ".join(allowed_ips) or "any address"))
    if permissions != list(api_key.permissions):
        changes["permissions"] = [list(api_key.permissions), permissions]
        summary.append(
            f"Permissions: {_permissions_summary(api_key.permissions)} → "
            f"{_permissions_summary(permissions)}"
        )
    if not changes:
        return False

    api_key.name = name
    api_key.all_facilities = all_facilities
    api_key.expires_at = expires_at
    api_key.allowed_ips = list(allowed_ips)
    api_key.permissions = permissions
    api_key.save(
        update_fields=["name", "all_facilities", "expires_at", "allowed_ips", "permissions"]
    )
    api_key.facilities.set(facilities)
    _record(
        api_key=api_key,
        action=AuditEvent.Action.KEY_EDITED,
        actor=actor,
        ip=ip,
        details={"summary": "; ".join(summary), "changes": changes},
    )
    return True


@transaction.atomic
def api_key_disable(*, api_key: ApiKey, actor: User | None, ip: str | None) -> bool:
    """Stop the key at once (the next API request gets 401 key_disabled). False if it was
    already disabled."""
    if api_key.is_deleted:
        raise ValidationError("This key was deleted.", code="deleted")
    if not api_key.is_active:
        return False
    api_key.disable(by=actor)
    api_key.save(update_fields=["is_active", "disabled_at", "disabled_by"])
    _record(api_key=api_key, action=AuditEvent.Action.KEY_DISABLED, actor=actor, ip=ip)
    return True


@transaction.atomic
def api_key_enable(*, api_key: ApiKey, actor: User | None, ip: str | None) -> bool:
    """Let a disabled key work again (owners are told). False if it was already active."""
    if api_key.is_deleted:
        raise ValidationError("A deleted key cannot be enabled again.", code="deleted")
    if api_key.is_active:
        return False
    api_key.enable()
    api_key.save(update_fields=["is_active", "disabled_at", "disabled_by"])
    _record(api_key=api_key, action=AuditEvent.Action.KEY_ENABLED, actor=actor, ip=ip)
    return True


SECRET_FIELDS = [
    "secret_digest",
    "secret_encrypted",
    "previous_secret_digest",
    "previous_secret_expires_at",
]


@sensitive_variables("secret")
@transaction.atomic
def api_key_roll(
    *,
    api_key: ApiKey,
    grace: timedelta = timedelta(0),
    actor: User | None,
    ip: str | None,
) -> str:
    """Give the key a new secret and return it. The old secret stops working at once, or
    after `grace` (at most 24 hours) so the third party can switch without downtime. Rolling
    again during a grace period ends the earlier grace period immediately."""
    if not timedelta(0) <= grace <= MAX_ROLL_GRACE:
        raise ValidationError("The grace period can be at most 24 hours.", code="grace_too_long")
    # Lock the row: two rolls at once must not leave a "previous" secret nobody ever saw, and
    # a key deleted meanwhile must not get a secret back.
    locked = ApiKey.objects.select_for_update().filter(pk=api_key.pk, deleted_at=None).first()
    if locked is None or api_key.is_deleted:
        raise ValidationError("This key was deleted.", code="deleted")
    secret = generate_api_secret()
    locked.set_secret(secret, grace=grace)
    locked.save(update_fields=SECRET_FIELDS)
    for field in SECRET_FIELDS:
        setattr(api_key, field, getattr(locked, field))
    hours = grace.total_seconds() / 3600
    _record(
        api_key=api_key,
        action=AuditEvent.Action.KEY_ROLLED,
        actor=actor,
        ip=ip,
        details={
            "summary": (
                "The old secret stopped working at once"
                if not grace
                else f"The old secret keeps working for {hours:g} hour{'s' if hours != 1 else ''}"
            ),
            "grace_seconds": int(grace.total_seconds()),
        },
    )
    return secret


@transaction.atomic
def api_key_delete(*, api_key: ApiKey, actor: User | None, ip: str | None) -> None:
    """Soft-delete: the key stops working for good and leaves the list, while the activity
    log and lock history that name it stay intact."""
    if api_key.is_deleted:
        return
    api_key.soft_delete(by=actor)
    api_key.save(
        update_fields=[
            "is_active",
            "deleted_at",
            "deleted_by",
            "secret_encrypted",
            "previous_secret_digest",
            "previous_secret_expires_at",
        ]
    )
    _record(api_key=api_key, action=AuditEvent.Action.KEY_DELETED, actor=actor, ip=ip)


@transaction.atomic
def facility_set_included(
    *, facility: Facility, include_in_api: bool, actor: User | None, ip: str | None
) -> bool:
    """Turn a facility's Include in API on or off. Off removes it from every key's scope and
    from the overlock-release page on the next request; keys keep their saved selection, so
    turning it back on restores it. Returns False (and records nothing) if unchanged."""
    changed = (
        Facility.objects.filter(pk=facility.pk)
        .exclude(include_in_api=include_in_api)
        .update(include_in_api=include_in_api)
    )
    facility.include_in_api = include_in_api
    if not changed:
        return False
    audit_event_record(
        account=facility.account,
        action=(
            AuditEvent.Action.FACILITY_INCLUDED
            if include_in_api
            else AuditEvent.Action.FACILITY_EXCLUDED
        ),
        actor=actor,
        ip=ip,
        target=facility,
    )
    return True
