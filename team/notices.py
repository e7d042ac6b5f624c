"""The emails of Team: one function per notice, each queued in the outbox (davinci.outbox)
with ids only and sent by a worker once the transaction commits, retried with backoff.

- send_invitation: to the person invited. A new user (no password yet) gets the one-time link
  that sets their password and accepts (the link's token is made when the email is sent,
  never stored or queued); a user with a password gets the link to their invitations, where
  they accept or decline once signed in as themselves;
- notify_owners: to the account's owner when a user is invited or a role changes.

A mail server that is down never undoes or breaks the change: the notice waits in the outbox.
Their words are in templates/emails/ (davinci/outbox/emails.py).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from davinci import when
from davinci.accounts.models import Membership, Role, User
from davinci.outbox import emails
from davinci.outbox.tasks import notice
from team.tokens import invitation_token


def _user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id else None


def _who(user: User | None) -> str:
    if user is None:
        return "Platform staff"
    return f"{user.name} ({user.email})" if user.name else user.email


def invitation_url(*, membership: Membership, site_url: str) -> str:
    """A new user's one-time link: sets their password and accepts this membership only."""
    path = reverse(
        "team:invitation_accept",
        kwargs={
            "membership": membership.pk,
            "uidb64": urlsafe_base64_encode(force_bytes(membership.user_id)),
            "token": invitation_token.make_token(membership.user),
        },
    )
    return site_url.rstrip("/") + path


def send_invitation(*, membership: Membership, invited_by: User | None, site_url: str) -> None:
    """The invitation: who invited them, to which account and role, and the link that
    answers it (a new user's sets their password)."""
    invitation_send.queue(
        membership_id=membership.pk,
        invited_by_id=invited_by.pk if invited_by else 0,
        site_url=site_url,
    )


@notice("team_invitation")
def invitation_send(*, membership_id: int, invited_by_id: int, site_url: str) -> None:
    membership = (
        Membership.objects.select_related("account", "user").filter(pk=membership_id).first()
    )
    if membership is None:  # withdrawn or declined before the email went
        return
    account = membership.account
    context = {
        "membership": membership,
        "account": account,
        "who": _who(_user(invited_by_id)),
        "expires": when.when(membership.invitation_expires_at, account.zoneinfo)
        if membership.is_invited
        else "",
    }
    if membership.invitation_pending:
        context["url"] = invitation_url(membership=membership, site_url=site_url)
        context["timeout_days"] = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
        emails.team_invitation(to=membership.user.email, context=context)
    else:
        context["url"] = site_url.rstrip("/") + reverse("accounts:invitations")
        emails.team_invitation_to_accept(to=membership.user.email, context=context)


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(account_id=account_id, role=Role.OWNER)
        .values_list("user__email", flat=True)
    )


def notify_owners(*, membership: Membership, actor: User | None, ip: str | None, what: str) -> None:
    """Tell the owner that a user was added or their role changed (`what` says which)."""
    owners_notice_send.queue(
        membership_id=membership.pk, actor_id=actor.pk if actor else 0, ip=ip or "", what=what
    )


@notice("team_owners")
def owners_notice_send(*, membership_id: int, actor_id: int, ip: str, what: str) -> None:
    membership = (
        Membership.objects.select_related("account", "user").filter(pk=membership_id).first()
    )
    if membership is None:
        return
    # An invited person is named by the address typed: nothing of them reaches the account.
    person = membership.email_shown if membership.is_invited else _who(membership.user)
    context = {
        "who": _who(_user(actor_id)),
        "what": what,
        "person": person,
        "membership": membership,
        "account": membership.account,
        "ip": ip,
    }
    emails.team_member_changed(to=owner_emails(membership.account_id), context=context)
