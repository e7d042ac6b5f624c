"""The emails of Your account: one function per notice, each sent once the transaction
commits (a mail server that is down never breaks the change; the failure is logged)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)


def _send_on_commit(*, subject: str, body: str, to: str, what: str) -> None:
    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        except Exception:
            logger.exception("Could not send the %s email", what)

    transaction.on_commit(send)


def send_email_change_link(*, new_email: str, url: str, days: int) -> None:
    """To the new address: the link that confirms it."""
    body = "\n".join(
        [
            "Someone (hopefully you) asked to use this address for their DaVinci Lock account.",
            "",
            "Confirm it with this link:",
            "",
            url,
            "",
            f"The link works once and expires in {days} day{'s' if days != 1 else ''}. If you "
            "did not ask for this, ignore this email: nothing changes.",
        ]
    )
    _send_on_commit(
        subject="[DaVinci Lock] Confirm your new email address",
        body=body,
        to=new_email,
        what="email-change",
    )


def send_email_taken_notice(*, new_email: str) -> None:
    """To an address that already has a user: the page said the same as for any address, so
    the one who asked learns nothing; the owner of the address learns of the attempt."""
    body = (
        "Someone asked to use this address for a DaVinci Lock account, but it already "
        "belongs to one (perhaps yours). Nothing was changed.\n"
    )
    _send_on_commit(
        subject="[DaVinci Lock] Your address was entered for another account",
        body=body,
        to=new_email,
        what="email-taken",
    )


def send_email_changed_notice(*, old_email: str, new_email: str) -> None:
    """To the old address, once the change is done."""
    body = (
        f"The email of your DaVinci Lock account was changed to {new_email}.\n\n"
        "If you did not do this, reset your password and tell the owner of your account.\n"
    )
    _send_on_commit(
        subject="[DaVinci Lock] Your email address was changed",
        body=body,
        to=old_email,
        what="email-changed",
    )
