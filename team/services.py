"""Team services: invite (add), edit, set Inactive/Active, re-invite and withdraw members,
hand ownership over, reset a member's two-factor, and clean up expired invitations.

Nobody is made a member without saying yes: Add User creates an *invitation* (an accepted_at
left empty), which grants nothing and shows Team nothing of the person but the address typed
until they accept it (davinci/accounts/services.membership_accept).

Each change is validated here as well as in the forms (the last line of defence for any
caller), writes one AuditEvent (Activity) and sends its notices once the transaction commits.
Who may edit whom, and which roles an editor gives, is davinci/accounts/permissions.py's
answer (asked through Membership.edit_refusal, which adds the account, and
facility_access_error for facility access).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from davinci.accounts import permissions
from davinci.accounts.models import Account, AuditEvent, Membership, Role, User
from davinci.accounts.services import audit_event_record
from davinci.accounts.two_factor.services import two_factor_reset
from facilities.models import Facility
from team import notices


def _access_summary(all_facilities: bool, facilities: Sequence[Facility]) -> str:
    if all_facilities:
        return "All Facilities"
    names = sorted(facility.name for facility in facilities)
    return ", ".join(names) if len(names) <= 5 else f"{len(names)} facilities"


def _check(
    *,
    editor: Membership,
    account: Account,
    role: str,
    all_facilities: bool,
    facilities: Sequence[Facility],
) -> None:
    errors: dict[str, list[ValidationError]] = {}
    if role not in permissions.assignable_roles(editor.role):
        errors["role"] = [
            ValidationError("You cannot give a role above your own.", code="role_too_high")
        ]
    if any(facility.account_id != account.pk for facility in facilities):
        errors.setdefault("facilities", []).append(
            ValidationError(
                "One of the facilities belongs to another account.", code="wrong_account"
            )
        )
    problem = editor.facility_access_error(all_facilities=all_facilities, facilities=facilities)
    if problem is not None:
        field, error = problem
        errors.setdefault(field, []).append(error)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def member_add(
    *,
    account: Account,
    editor: Membership,
    name: str,
    email: str,
    role: str,
    all_facilities: bool,
    facilities: Sequence[Facility],
    ip: str | None,
    site_url: str,
) -> Membership:
    """Invite a user to the account: the membership is made *invited*, and grants nothing until
    the person accepts it. A new address gets a user with no password and an invitation with
    a one-time link to set one (setting it accepts); an address that already has a user gets
    an invitation to accept or decline once signed in as themselves. The answer to the caller
    is the same either way, and so is what Team shows: the address typed, "Invited"."""
    email = User.objects.normalize_email(email).strip().lower()
    facilities = list(facilities)
    _check(
        editor=editor,
        account=account,
        role=role,
        all_facilities=all_facilities,
        facilities=facilities,
    )
    already = ValidationError(
        {"email": ValidationError("This email is already on the team.", code="already_member")}
    )
    on_team = Membership.objects.filter(account=account, user__email__iexact=email)
    # An expired invitation is gone already; its row goes now, so the address can be invited
    # again (the hourly clean-up would remove it anyway).
    on_team.expired_invitations().delete()
    if on_team.exists():
        raise already
    try:
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=None, name=name)
            membership = Membership.objects.create(
                user=user,
                account=account,
                role=role,
                all_facilities=all_facilities,
                accepted_at=None,
                invited_email=email,
                invited_at=timezone.now(),
            )
    except IntegrityError:  # the same address added twice at once
        raise already from None
    membership.facilities.set(facilities)
    audit_event_record(
        account=account,
        action=AuditEvent.Action.MEMBER_ADDED,
        actor=editor.user,
        ip=ip,
        target=membership,
        details={
            "summary": f"Invited as {membership.get_role_display()}; "
            f"{_access_summary(all_facilities, facilities)}",
            "role": role,
            "all_facilities": all_facilities,
            "facility_ids": sorted(facility.facility_id for facility in facilities),
        },
    )
    notices.send_invitation(membership=membership, invited_by=editor.user, site_url=site_url)
    notices.notify_owners(membership=membership, actor=editor.user, ip=ip, what="user invited")
    return membership


@dataclass(frozen=True)
class _Edit:
    """What Team's edit form asks a member to become."""

    name: str
    email: str
    role: str
    all_facilities: bool
    facilities: list[Facility]
    is_active: bool


@transaction.atomic
def member_update(
    *,
    membership: Membership,
    editor: Membership,
    name: str,
    email: str,
    role: str,
    all_facilities: bool,
    facilities: Sequence[Facility],
    is_active: bool,
    ip: str | None,
    site_url: str,
) -> bool:
    """Save Team's edit of one member ("Save Changes"). Returns False, writing nothing, if
    nothing changed. Setting a member Inactive ends their use of the account at their next
    request; the owner cannot be set Inactive or lose their role here (hand ownership over
    first). The email changes only while the invitation is pending, and the invitation is
    sent again to the new address."""
    membership = _editable(membership=membership, editor=editor)
    edit = _Edit(
        name=name,
        email=User.objects.normalize_email(email).strip().lower(),
        role=role,
        all_facilities=all_facilities,
        facilities=list(facilities),
        is_active=is_active,
    )
    _check_edit(membership=membership, editor=editor, edit=edit)
    changes, summary = _edit_changes(membership=membership, edit=edit)
    if not changes:
        return False
    _edit_save(membership=membership, edit=edit, changes=changes)
    audit_event_record(
        account=membership.account,
        action=_edit_action(changes, is_active=is_active),
        actor=editor.user,
        ip=ip,
        target=membership.user,
        details={"summary": "; ".join(summary), "changes": changes},
    )
    if "role" in changes:
        notices.notify_owners(membership=membership, actor=editor.user, ip=ip, what="role changed")
    if "email" in changes:
        notices.send_invitation(membership=membership, invited_by=editor.user, site_url=site_url)
    return True


def _editable(*, membership: Membership, editor: Membership) -> Membership:
    """The membership, locked for the edit, once the editor may edit it (and it is not an
    invitation, which shows nothing of the person to edit)."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .get(pk=membership.pk)
    )
    problem = editor.edit_refusal(membership)
    if problem:
        raise ValidationError(problem, code="cannot_edit")
    if membership.hides_person():
        raise ValidationError(
            "An invitation is not edited: withdraw it and invite again.", code="cannot_edit"
        )
    return membership


def _check_edit(*, membership: Membership, editor: Membership, edit: _Edit) -> None:
    """The owner keeps their role, All Facilities and Active; anyone else gets what the
    editor may give (`_check`)."""
    if membership.is_owner:
        if edit.role != Role.OWNER or not edit.is_active or not edit.all_facilities:
            raise ValidationError(
                "The account needs its owner: hand ownership to another active user first.",
                code="last_owner",
            )
    else:
        _check(
            editor=editor,
            account=membership.account,
            role=edit.role,
            all_facilities=edit.all_facilities,
            facilities=edit.facilities,
        )


def _edit_changes(*, membership: Membership, edit: _Edit) -> tuple[dict[str, list[Any]], list[str]]:
    """What the edit changes, as the AuditEvent keeps it: {field: [before, after]} and one
    line of the summary each. Refuses an email change the team may not make."""
    user = membership.user
    changes: dict[str, list[Any]] = {}
    summary: list[str] = []
    if edit.name != user.name and membership.identity_editable_by_team():
        changes["name"] = [user.name, edit.name]
        summary.append(f"Name: {user.name or '—'} → {edit.name or '—'}")
    if edit.email != user.email:
        _check_email_change(membership=membership, email=edit.email)
        changes["email"] = [user.email, edit.email]
        summary.append(f"Email: {user.email} → {edit.email}")
    if edit.role != membership.role:
        changes["role"] = [membership.role, edit.role]
        summary.append(
            f"Role: {membership.get_role_display()} → {Role(edit.role).label}"
            if membership.is_active
            else f"Role: {Role(edit.role).label}"
        )
    old_facilities = list(membership.facilities.all())
    if edit.all_facilities != membership.all_facilities or {f.pk for f in old_facilities} != {
        f.pk for f in edit.facilities
    }:
        changes["facilities"] = [
            _access_summary(membership.all_facilities, old_facilities),
            _access_summary(edit.all_facilities, edit.facilities),
        ]
        summary.append("Facilities: {} → {}".format(*changes["facilities"]))
    if edit.is_active != membership.is_active:
        changes["is_active"] = [membership.is_active, edit.is_active]
        summary.append("Active" if edit.is_active else "Inactive")
    return changes, summary


def _email_taken() -> ValidationError:
    return ValidationError(
        {"email": ValidationError("This email is already in use.", code="email_taken")}
    )


def _check_email_change(*, membership: Membership, email: str) -> None:
    """Team changes an email only while the invitation is pending, to an unused address."""
    if not membership.email_editable_by_team():
        raise ValidationError(
            {
                "email": ValidationError(
                    "Only the user can change their email (under Your account) once they "
                    "have set a password.",
                    code="email_locked",
                )
            }
        )
    if User.objects.filter(email__iexact=email).exclude(pk=membership.user_id).exists():
        raise _email_taken()


def _edit_save(*, membership: Membership, edit: _Edit, changes: dict[str, list[Any]]) -> None:
    user = membership.user
    if "name" in changes or "email" in changes:
        user.name = edit.name if "name" in changes else user.name
        user.email = edit.email
        try:
            with transaction.atomic():
                user.save(update_fields=["name", "email"])
        except IntegrityError:  # the same address taken at once
            raise _email_taken() from None
    membership.role = edit.role
    membership.all_facilities = edit.all_facilities
    membership.is_active = edit.is_active
    if "email" in changes and membership.is_invited:
        membership.invited_email = edit.email
    membership.save(update_fields=["role", "all_facilities", "is_active", "invited_email"])
    membership.facilities.set([] if edit.all_facilities else edit.facilities)


def _edit_action(changes: dict[str, list[Any]], *, is_active: bool) -> AuditEvent.Action:
    if "is_active" not in changes:
        return AuditEvent.Action.MEMBER_EDITED
    if is_active:
        return AuditEvent.Action.MEMBER_REACTIVATED
    return AuditEvent.Action.MEMBER_DEACTIVATED


@transaction.atomic
def member_invite_again(
    *, membership: Membership, editor: Membership, ip: str | None, site_url: str
) -> None:
    """The invitation again, for INVITATION_DAYS more: to accept (a user with a password), or a
    new link to set the password (a new user; the old link keeps working until it expires or
    the password is set)."""
    problem = editor.edit_refusal(membership)
    if problem:
        raise ValidationError(problem, code="cannot_edit")
    if not (membership.is_invited or membership.invitation_pending):
        raise ValidationError("This user has already accepted.", code="not_pending")
    if membership.is_invited:
        Membership.objects.filter(pk=membership.pk).update(invited_at=timezone.now())
    audit_event_record(
        account=membership.account,
        action=AuditEvent.Action.MEMBER_INVITED_AGAIN,
        actor=editor.user,
        ip=ip,
        target=membership,
    )
    notices.send_invitation(membership=membership, invited_by=editor.user, site_url=site_url)


@transaction.atomic
def member_invitation_withdraw(
    *, membership: Membership, editor: Membership, ip: str | None
) -> None:
    """The inviter takes an invitation back before it is answered: the membership goes."""
    problem = editor.edit_refusal(membership)
    if problem:
        raise ValidationError(problem, code="cannot_edit")
    membership = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    if not membership.is_invited:
        raise ValidationError("This user has already accepted.", code="not_pending")
    audit_event_record(
        account=membership.account,
        action=AuditEvent.Action.INVITATION_WITHDRAWN,
        actor=editor.user,
        ip=ip,
        target=membership,
    )
    membership.delete()


def invitations_expire() -> int:
    """Delete every invitation not accepted within INVITATION_DAYS (they already grant
    nothing and Team no longer lists them), each noted in its account's Activity. Run hourly
    by the beat (team/tasks.py). Returns how many went."""
    removed = 0
    for membership in Membership.objects.expired_invitations().select_related("account", "user"):
        with transaction.atomic():
            deleted, _ = Membership.objects.expired_invitations().filter(pk=membership.pk).delete()
            if deleted:
                audit_event_record(
                    account=membership.account,
                    action=AuditEvent.Action.INVITATION_EXPIRED,
                    actor=None,
                    ip=None,
                    target=membership,
                )
                removed += 1
    return removed


@transaction.atomic
def ownership_transfer(*, editor: Membership, to: Membership, ip: str | None) -> None:
    """The owner hands the account to another active user, and becomes a Client Admin with
    All Facilities. Exactly one owner before and after."""
    members = Membership.objects.select_for_update(of=("self",)).select_related("user")
    owner = members.get(pk=editor.pk)
    to = members.get(pk=to.pk)
    if not owner.is_owner or owner.account_id != to.account_id:
        raise ValidationError("Only the owner can hand ownership over.", code="not_owner")
    if to.pk == owner.pk:
        raise ValidationError("You are the owner already.", code="already_owner")
    if to.is_invited or not (to.is_active and to.user.is_active):
        raise ValidationError("Hand ownership only to an active user.", code="inactive")
    Membership.objects.filter(pk=owner.pk).update(role=Role.CLIENT_ADMIN, all_facilities=True)
    Membership.objects.filter(pk=to.pk).update(role=Role.OWNER, all_facilities=True)
    to.facilities.clear()
    to.refresh_from_db()
    audit_event_record(
        account=to.account,
        action=AuditEvent.Action.OWNERSHIP_TRANSFERRED,
        actor=owner.user,
        ip=ip,
        target=to.user,
        details={"summary": f"{owner.user.email} → {to.user.email}"},
    )
    notices.notify_owners(membership=to, actor=owner.user, ip=ip, what="ownership handed over")


@transaction.atomic
def member_two_factor_reset(*, membership: Membership, editor: Membership, ip: str | None) -> bool:
    """A member who lost every factor (phone, recovery codes, passkeys): the owner, or a
    Client Admin for the users they edit, removes their two-factor so they sign in with
    their password and set it up again; they are emailed. Only for a user whose one active
    membership is this account and who is not platform staff (Membership.
    two_factor_reset_refusal says why not, and what to do instead): an account never reaches
    into a sign-in that other accounts, or the platform, rely on. Your own two-factor is
    yours to change, under Your account."""
    problem = editor.edit_refusal(membership)
    if problem:
        raise ValidationError(problem, code="cannot_edit")
    if membership.user_id == editor.user_id:
        raise ValidationError(
            "Change your own two-factor under Your account.", code="own_two_factor"
        )
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=membership.pk)
    )
    refusal = membership.two_factor_reset_refusal()
    if refusal:
        raise ValidationError(refusal, code="not_this_accounts")
    return two_factor_reset(user=membership.user, actor=editor.user, ip=ip)
