"""The emails of Team: one function per notice, each queued in the outbox (davinci.outbox)
with ids only and sent by a worker once the transaction commits, retried with backoff.

- send_invitation: to a new user, with the one-time link to set a password (the link's token
  is made when the email is sent, never stored or queued);
- send_added_notice: to an address that already has a user (no link: they sign in as usual);
- notify_owners: to the account's owner when a user is added or a role changes.

A mail server that is down never undoes or breaks the change: the notice waits in the outbox.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from davinci.accounts.models import Membership, Role, User
from davinci.outbox.tasks import notice
from team.tokens import invitation_token


def _send(*, subject: str, body: str, to: list[str]) -> None:
    """Raises when the mail server refuses: the outbox retries."""
    if to:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)


def _user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id else None


def _who(user: User | None) -> str:
    if user is None:
        return "Platform staff"
    return f"{user.name} ({user.email})" if user.name else user.email


def invitation_url(*, user: User, site_url: str) -> str:
    path = reverse(
        "team:invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": invitation_token.make_token(user),
        },
    )
    return site_url.rstrip("/") + path


def send_invitation(*, membership: Membership, invited_by: User | None, site_url: str) -> None:
    """The invitation of a new user: who invited them, to which account and role, and the
    one-time link that sets their password."""
    invitation_send.queue(
        membership_id=membership.pk,
        invited_by_id=invited_by.pk if invited_by else 0,
        site_url=site_url,
    )


@notice("team_invitation")
def invitation_send(*, membership_id: int, invited_by_id: int, site_url: str) -> None:
    membership = Membership.objects.select_related("account", "user").get(pk=membership_id)
    context = {
        "membership": membership,
        "account": membership.account,
        "who": _who(_user(invited_by_id)),
        "url": invitation_url(user=membership.user, site_url=site_url),
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    _send(
        subject=f"[DaVinci Lock] You are invited to {membership.account.name}",
        body=render_to_string("team/email/invitation.txt", context),
        to=[membership.user.email],
    )


def send_added_notice(*, membership: Membership, added_by: User | None, site_url: str) -> None:
    """An address that already has a user joins another account: no link, only the news."""
    added_notice_send.queue(
        membership_id=membership.pk, added_by_id=added_by.pk if added_by else 0, site_url=site_url
    )


@notice("team_added")
def added_notice_send(*, membership_id: int, added_by_id: int, site_url: str) -> None:
    membership = Membership.objects.select_related("account", "user").get(pk=membership_id)
    context = {
        "membership": membership,
        "account": membership.account,
        "who": _who(_user(added_by_id)),
        "url": site_url.rstrip("/") + reverse("accounts:login"),
    }
    _send(
        subject=f"[DaVinci Lock] You were added to {membership.account.name}",
        body=render_to_string("team/email/added.txt", context),
        to=[membership.user.email],
    )


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.filter(
            account_id=account_id, role=Role.OWNER, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )


def notify_owners(*, membership: Membership, actor: User | None, ip: str | None, what: str) -> None:
    """Tell the owner that a user was added or their role changed (`what` says which)."""
    owners_notice_send.queue(
        membership_id=membership.pk, actor_id=actor.pk if actor else 0, ip=ip or "", what=what
    )


@notice("team_owners")
def owners_notice_send(*, membership_id: int, actor_id: int, ip: str, what: str) -> None:
    membership = Membership.objects.select_related("account", "user").get(pk=membership_id)
    account = membership.account
    lines = [
        f"{_who(_user(actor_id))} {what}: {_who(membership.user)} in {account.name}.",
        "",
        f"Role:        {membership.get_role_display()}",
        f"Facilities:  {'All Facilities' if membership.all_facilities else 'chosen facilities'}",
        f"From IP:     {ip or 'not recorded'}",
        "",
        "If you did not expect this, open Team in the DaVinci Lock portal and set the user "
        "Inactive.",
        "",
        "You receive this email because you are the owner of this account.",
    ]
    _send(
        subject=f"[DaVinci Lock] {what.capitalize()}: {membership.user.email}",
        body="\n".join(lines),
        to=owner_emails(account.pk),
    )
