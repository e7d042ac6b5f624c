"""Every change to a user's two-factor: turned on (with recovery codes), new recovery codes,
a passkey added or removed, turned off, reset by an owner, an admin or staff, and the
account's policy. Each writes an AuditEvent in every account the user uses (active, accepted
memberships: an invitation, or an account that set them Inactive, learns nothing) and, where
docs/two-factor.md says so, emails the user."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from davinci.accounts.models import (
    Account,
    AuditEvent,
    Membership,
    RecoveryCode,
    RecoveryCodeDevice,
    User,
    recovery_code_digest,
)
from davinci.accounts.services import audit_event_record
from davinci.accounts.two_factor.notices import two_factor_notice_send

RECOVERY_CODE_COUNT = 10
# Base32 without look-alikes is not needed: codes are typed from a printout or a file.
RECOVERY_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _audit(
    *,
    user: User,
    action: str,
    actor: User | None,
    ip: str | None,
    details: dict[str, Any] | None = None,
    accounts: list[Account] | None = None,
) -> None:
    if accounts is None:
        accounts = [
            m.account
            for m in Membership.objects.active().filter(user=user).select_related("account")
        ]
    for account in accounts:
        audit_event_record(
            account=account,
            action=AuditEvent.Action(action),
            actor=actor,
            ip=ip,
            target=user,
            details=details,
        )


def _email(*, user: User, action: str, actor: User | None = None, left: int = 0) -> None:
    two_factor_notice_send.queue(
        user_id=user.pk, action=action, actor_id=actor.pk if actor else 0, left=left
    )


def has_two_factor(user: User) -> bool:
    """Whether signing in asks this user for a second factor: an authenticator app that was
    confirmed (recovery codes and passkeys come with it)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: its key stays the same until it is confirmed with a
    code, so reloading the page does not break a scan already made."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _new_recovery_codes(*, user: User) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [
        "-".join(
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(4)) for _ in range(4)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=recovery_code_digest(code)) for code in codes
    )
    return codes


@transaction.atomic
def totp_confirm(*, user: User, device: TOTPDevice, token: str, ip: str | None) -> list[str] | None:
    """Turn two-factor on once the app's first code checks out. Returns the ten recovery
    codes (the only time they exist in clear), or None when the code is wrong."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device.pk, user=user, confirmed=False)
        .first()
    )
    if device is None or not device.verify_token(token):  # (None: confirmed in another tab)
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    codes = _new_recovery_codes(user=user)
    _audit(user=user, action="two_factor_enabled", actor=user, ip=ip)
    _email(user=user, action="two_factor_enabled")
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, ip: str | None) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    codes = _new_recovery_codes(user=user)
    _audit(user=user, action="recovery_codes_regenerated", actor=user, ip=ip)
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user).count()


def second_factor_verify(*, user: User, token: str, ip: str | None) -> Device | None:
    """The device that accepts `token` (a code of the authenticator app, or a recovery code,
    which then works no more), or None. A used recovery code is audited and emailed."""
    token = token.strip()
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if isinstance(device, TOTPDevice | RecoveryCodeDevice) and device.verify_token(token):
                break
        else:
            return None
        if isinstance(device, RecoveryCodeDevice):
            left = recovery_codes_left(user)
            _audit(
                user=user, action="recovery_code_used", actor=user, ip=ip, details={"left": left}
            )
            _email(user=user, action="recovery_code_used", left=left)
    return device


@transaction.atomic
def passkey_added(*, user: User, credential: WebAuthnCredential, ip: str | None) -> None:
    """Record a passkey the browser just registered (django-otp-webauthn saved it)."""
    if not credential.name:
        credential.name = "Passkey"
        credential.save(update_fields=["name"])
    _audit(user=user, action="passkey_added", actor=user, ip=ip, details={"name": credential.name})
    _email(user=user, action="passkey_added")


@transaction.atomic
def passkey_rename(*, credential: WebAuthnCredential, name: str) -> None:
    credential.name = name
    credential.save(update_fields=["name"])


@transaction.atomic
def passkey_remove(*, user: User, credential: WebAuthnCredential, ip: str | None) -> None:
    name = credential.name
    credential.delete()
    _audit(user=user, action="passkey_removed", actor=user, ip=ip, details={"name": name})


def _remove_every_device(user: User) -> int:
    removed = 0
    for model in (TOTPDevice, RecoveryCodeDevice, WebAuthnCredential):
        removed += model.objects.filter(user=user).delete()[0]
    return removed


@transaction.atomic
def two_factor_disable(*, user: User, ip: str | None) -> bool:
    """The user turns two-factor off: the app, recovery codes and passkeys are removed."""
    if not user_has_device(user, confirmed=None):
        return False
    _remove_every_device(user)
    _audit(user=user, action="two_factor_disabled", actor=user, ip=ip)
    _email(user=user, action="two_factor_disabled")
    return True


@transaction.atomic
def two_factor_reset(*, user: User, actor: User | None, ip: str | None) -> bool:
    """A member who lost every factor: their owner or an admin (Team), or staff (the Django
    admin, `actor` then None or the staff user), removes their two-factor so they can sign in
    with the password and set it up again."""
    if not user_has_device(user, confirmed=None):
        return False
    _remove_every_device(user)
    _audit(user=user, action="two_factor_reset", actor=actor, ip=ip)
    _email(user=user, action="two_factor_reset", actor=actor)
    return True


@transaction.atomic
def two_factor_policy_set(*, account: Account, required: bool, actor: User, ip: str | None) -> bool:
    """The owner requires two-factor of every member of the account (or stops requiring it)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.two_factor_required == required:
        return False
    account.two_factor_required = required
    account.save(update_fields=["two_factor_required"])
    _audit(
        user=actor,
        action="two_factor_policy_changed",
        actor=actor,
        ip=ip,
        details={"required": required},
        accounts=[account],
    )
    return True
