"""The emails of Your account, queued in the outbox (davinci.outbox) with the user's id and
the addresses only, and sent once the change commits: a mail server that is down never
breaks the change (the outbox retries). The confirmation link is made when the email is
sent, never queued."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from davinci.accounts.models import User
from davinci.outbox import emails
from davinci.outbox.tasks import notice

EMAIL_CHANGE_SALT = "davinci.accounts.email-change"


def email_change_token(*, user: User, new_email: str) -> str:
    """A signed, timestamped token naming the user, their current and their new address.
    Single use: once the address changed, the token's current address no longer matches."""
    return signing.dumps(
        {"user": user.pk, "from": user.email, "to": new_email}, salt=EMAIL_CHANGE_SALT
    )


def send_email_change_link(*, user: User, new_email: str, site_url: str) -> None:
    """To the new address: the link that confirms it."""
    email_change_send.queue(user_id=user.pk, new_email=new_email, site_url=site_url)


@notice("email_change")
def email_change_send(*, user_id: int, new_email: str, site_url: str) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    token = email_change_token(user=user, new_email=new_email)
    context = {
        "url": site_url.rstrip("/") + reverse("accounts:email_confirm", args=[token]),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    emails.account_email_change(to=new_email, context=context)


def send_email_taken_notice(*, new_email: str) -> None:
    """To an address that already has a user: the page said the same as for any address, so
    the one who asked learns nothing; the owner of the address learns of the attempt."""
    email_taken_send.queue(new_email=new_email)


@notice("email_taken")
def email_taken_send(*, new_email: str) -> None:
    emails.account_email_taken(to=new_email, context={})


def send_email_changed_notice(*, old_email: str, new_email: str) -> None:
    """To the old address, once the change is done."""
    email_changed_send.queue(old_email=old_email, new_email=new_email)


@notice("email_changed")
def email_changed_send(*, old_email: str, new_email: str) -> None:
    emails.account_email_changed(to=old_email, context={"new_email": new_email})
