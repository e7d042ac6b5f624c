"""The emails of Team: one function per notice, each sent once the transaction commits.

- send_invitation: to a new user, with the one-time link to set a password;
- send_added_notice: to an address that already has a user (no link: they sign in as usual);
- notify_owners: to the account's owner when a user is added or a role changes.

A mail server that is down never undoes or breaks the change: the failure is logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from davinci.accounts.models import Membership, Role, User
from team.tokens import invitation_token

logger = logging.getLogger(__name__)


def _send_on_commit(*, subject: str, body: str, to: list[str], what: str) -> None:
    def send() -> None:
        if not to:
            return
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except Exception:
            logger.exception("Could not send the %s email", what)

    transaction.on_commit(send)


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
    context = {
        "membership": membership,
        "account": membership.account,
        "who": _who(invited_by),
        "url": invitation_url(user=membership.user, site_url=site_url),
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    _send_on_commit(
        subject=f"[DaVinci Lock] You are invited to {membership.account.name}",
        body=render_to_string("team/email/invitation.txt", context),
        to=[membership.user.email],
        what="invitation",
    )


def send_added_notice(*, membership: Membership, added_by: User | None, site_url: str) -> None:
    """An address that already has a user joins another account: no link, only the news."""
    context = {
        "membership": membership,
        "account": membership.account,
        "who": _who(added_by),
        "url": site_url.rstrip("/") + reverse("accounts:login"),
    }
    _send_on_commit(
        subject=f"[DaVinci Lock] You were added to {membership.account.name}",
        body=render_to_string("team/email/added.txt", context),
        to=[membership.user.email],
        what="added-to-account",
    )


def owner_emails(account_id: int) -> list[str]:
    return list(
        Membership.objects.filter(
            account_id=account_id, role=Role.OWNER, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )


def notify_owners(*, membership: Membership, actor: User | None, ip: str | None, what: str) -> None:
    """Tell the owner that a user was added or their role changed (`what` says which)."""
    account = membership.account
    lines = [
        f"{_who(actor)} {what}: {_who(membership.user)} in {account.name}.",
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
    account_id = account.pk

    def send() -> None:
        recipients = owner_emails(account_id)
        if not recipients:
            return
        try:
            send_mail(
                f"[DaVinci Lock] {what.capitalize()}: {membership.user.email}",
                "\n".join(lines),
                settings.DEFAULT_FROM_EMAIL,
                recipients,
            )
        except Exception:
            logger.exception("Could not email the owner of account %s", account_id)

    transaction.on_commit(send)
