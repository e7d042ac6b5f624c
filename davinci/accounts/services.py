import logging
from typing import Any, Protocol

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from davinci.accounts import notices
from davinci.accounts.models import Account, AuditEvent, Membership, User
from davinci.when import validate_time_zone

logger = logging.getLogger(__name__)


class AuditTarget(Protocol):
    def audit_target(self) -> tuple[str, str, str]:
        """(target_type, target_id, target_repr) naming this object in the Activity log."""


def audit_event_record(
    *,
    account: Account,
    action: AuditEvent.Action,
    actor: User | None,
    ip: str | None,
    target: AuditTarget | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one line to the account's Activity log. The target (a user, an API key, a
    facility) names itself with its audit_target()."""
    target_type, target_id, target_repr = target.audit_target() if target else ("", "", "")
    return AuditEvent.objects.create(
        account=account,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:200],
        ip=ip or None,
        details=details or {},
    )


@transaction.atomic
def sign_in_throttled_record(*, email: str, ip: str, limits: list[str]) -> None:
    """Tell the accounts of the address under attack (their Activity log) and the server log.

    Only the accounts the user uses (active, accepted memberships): an invitation, or an
    account that set them Inactive, learns nothing of their sign-ins. An unknown address
    has no account to tell: the log line is the record.
    """
    logger.warning("sign-in throttled", extra={"ip": ip, "limits": limits})
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        return
    summary = (
        "Too many failed sign-ins "
        + ("for this address" if "email" in limits else "from this IP address")
        + "; sign-in is paused for a while."
    )
    for membership in Membership.objects.active().filter(user=user).select_related("account"):
        audit_event_record(
            account=membership.account,
            action=AuditEvent.Action.SIGN_IN_THROTTLED,
            actor=None,
            ip=ip,
            target=user,
            details={"limits": limits, "summary": summary},
        )


# --- Invitations: the person's yes or no -------------------------------------------------------


def _invitation(*, membership_id: int, user: User) -> Membership:
    membership = (
        Membership.objects.invitations()
        .select_for_update(of=("self",))
        .select_related("account")
        .filter(pk=membership_id, user=user)
        .first()
    )
    if membership is None:
        raise ValidationError(
            "This invitation is no longer open: it was answered, withdrawn or it expired.",
            code="not_open",
        )
    return membership


@transaction.atomic
def membership_accept(*, membership_id: int, user: User, ip: str | None) -> Membership:
    """The invited user says yes, signed in as themselves (or by setting their password
    through a new user's invitation link): from now on the membership works, and the account
    sees them as a member. Only an open invitation of `user` is accepted."""
    membership = _invitation(membership_id=membership_id, user=user)
    membership.accepted_at = timezone.now()
    membership.save(update_fields=["accepted_at"])
    audit_event_record(
        account=membership.account,
        action=AuditEvent.Action.INVITATION_ACCEPTED,
        actor=user,
        ip=ip,
        target=user,
        details={"summary": membership.get_role_display()},
    )
    return membership


@transaction.atomic
def membership_decline(*, membership_id: int, user: User) -> Account:
    """The invited user says no: the membership goes. The account's Activity notes it by the
    address it typed, with nothing of the person (no name, no IP)."""
    membership = _invitation(membership_id=membership_id, user=user)
    account = membership.account
    audit_event_record(
        account=account,
        action=AuditEvent.Action.INVITATION_DECLINED,
        actor=None,
        ip=None,
        target=membership,
    )
    membership.delete()
    return account


# --- Your account -----------------------------------------------------------------------------


def email_change_request(*, user: User, new_email: str, site_url: str) -> None:
    """Send the confirmation link to the new address (or, if it already has a user, a notice
    to it instead: the person asking sees the same answer either way)."""
    new_email = User.objects.normalize_email(new_email).strip().lower()
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        notices.send_email_taken_notice(new_email=new_email)
        return
    notices.send_email_change_link(user=user, new_email=new_email, site_url=site_url)


def email_change_pending(token: str) -> tuple[User, str] | None:
    """The user and new address a token still stands for, or None (bad, expired or used)."""
    try:
        data = signing.loads(
            token, salt=notices.EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not {"user", "from", "to"} <= data.keys():
        return None
    user = User.objects.filter(pk=data["user"], email=data["from"], is_active=True).first()
    if user is None:
        return None
    return user, data["to"]


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    """Apply a confirmed email change; the old address is told."""
    pending = email_change_pending(token)
    if pending is None:
        raise ValidationError("This link no longer works.", code="invalid_link")
    user, new_email = pending
    user = User.objects.select_for_update().get(pk=user.pk)
    old_email = user.email
    if old_email != pending[0].email:
        raise ValidationError("This link no longer works.", code="invalid_link")
    user.email = new_email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        raise ValidationError("This address is already in use.", code="email_taken") from None
    notices.send_email_changed_notice(old_email=old_email, new_email=new_email)
    return user


@transaction.atomic
def account_time_zone_set(*, account: Account, time_zone: str) -> bool:
    """Set the zone every time of the account is shown in; False when it already was."""
    validate_time_zone(time_zone)
    if account.time_zone == time_zone:
        return False
    account.time_zone = time_zone
    account.save(update_fields=["time_zone"])
    return True


@transaction.atomic
def account_history_retention_set(
    *, account: Account, months: int, actor: User, ip: str | None
) -> bool:
    """Keep the account's LockEvents and AuditEvents for `months` (at least 12); older ones
    are archived, then removed, by the next daily run. Audited; False when it already was."""
    Account._meta.get_field("history_retention_months").run_validators(months)
    before = account.history_retention_months
    if before == months:
        return False
    account.history_retention_months = months
    account.save(update_fields=["history_retention_months"])
    audit_event_record(
        account=account,
        action=AuditEvent.Action.HISTORY_RETENTION_CHANGED,
        actor=actor,
        ip=ip,
        details={
            "from": before,
            "to": months,
            "summary": f"History is kept for {months} months (was {before}).",
        },
    )
    return True


@transaction.atomic
def user_profile_update(*, user: User, name: str) -> bool:
    if user.name == name:
        return False
    user.name = name
    user.save(update_fields=["name"])
    return True


@transaction.atomic
def sessions_end_others(*, user: User) -> User:
    """End every session of the user: callers hand the current session the new hash
    (update_session_auth_hash) so it alone stays signed in."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    return user
