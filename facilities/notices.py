"""Notices that send a tenant the code of the lock on their unit, from the portal.

- "Unlock and Delinquency Paid": the overlock was released (the lock is Returned to Dropbox);
  sent by Release overlock.
- "Unlock and New Rental": a vacant unit was rented; the code of its Assigned Vacant lock.

Each notice goes to every contact on file (the email address and, when text messages are on,
the phone number). Every channel's outcome is one LockEvent: "Code sent to tenant" naming the
notice and the channel, or "Code could not be sent" when the backend failed, so a send is never
silently lost. No notice is ever sent for a lock in Assigned Auction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.template.loader import render_to_string

from davinci import sms
from facilities.models import (
    WITHHELD_STATUSES,
    Lock,
    LockEvent,
    LockStatus,
    ReleaseAttempt,
    Unit,
)
from facilities.services import lock_event_record

if TYPE_CHECKING:
    from davinci.accounts.models import User

logger = logging.getLogger(__name__)


class Notice(models.TextChoices):
    DELINQUENCY_PAID = "delinquency_paid", "Unlock and Delinquency Paid"
    NEW_RENTAL = "new_rental", "Unlock and New Rental"


# The one status in which each notice may be sent.
NOTICE_STATUS = {
    Notice.DELINQUENCY_PAID: LockStatus.RETURNED_TO_DROPBOX,
    Notice.NEW_RENTAL: LockStatus.ASSIGNED_VACANT,
}


# The release page's channels: an email address or a phone number.
Channel = ReleaseAttempt.Channel


def unit_channels(unit: Unit) -> list[Channel]:
    """Where a notice to this unit's tenant can go: the email and the phone on file."""
    channels = []
    if unit.tenant_email:
        channels.append(Channel.EMAIL)
    if unit.tenant_phone and sms.sms_enabled():
        channels.append(Channel.SMS)
    return channels


@dataclass(frozen=True)
class NoticeSend:
    channel: Channel
    sent: bool


class _NotSent(Exception):
    pass


def _deliver(*, notice: Notice, channel: Channel, lock: Lock) -> None:
    unit = lock.unit
    context = {
        "account": lock.facility.account,
        "facility": lock.facility,
        "unit": unit,
        "unlock_code": lock.unlock_code,
    }
    name = f"facilities/notices/{notice.value}"
    try:
        if channel == Channel.EMAIL:
            # One line whatever a name holds: a newline would be refused as a header.
            subject = " ".join(render_to_string(f"{name}_email_subject.txt", context).split())
            body = render_to_string(f"{name}_email.txt", context)
            EmailMessage(subject=subject, body=body, to=[unit.tenant_email]).send()
        else:
            sms.send_sms(
                to=unit.tenant_phone, body=render_to_string(f"{name}_sms.txt", context).strip()
            )
    except Exception as exc:
        # Only the exception's type: a provider's message could echo the body, code included.
        raise _NotSent(type(exc).__name__) from None


def tenant_notice_send(
    *, lock: Lock, notice: Notice, user: User, ip: str | None
) -> list[NoticeSend]:
    """Send `notice` with the lock's code to every contact on file of the lock's unit.

    For each channel, the "Code sent to tenant" LockEvent and the send share one transaction
    (the lock row locked, still in the notice's status on the same unit): a failed send leaves
    no event claiming it, and writes a "Code could not be sent" event instead.
    """
    if lock.status in WITHHELD_STATUSES:
        raise ValidationError(
            f"No notice is ever sent for a lock in {lock.get_status_display()}.",
            code="notice_withheld",
        )
    if lock.status != NOTICE_STATUS[notice] or lock.unit_id is None:
        raise ValidationError(
            f"The {notice.label} notice is only for a lock that is "
            f"{NOTICE_STATUS[notice].label} on a unit; lock {lock.serial} is "
            f"{lock.get_status_display()}.",
            code="notice_wrong_status",
        )
    channels = unit_channels(lock.unit)
    if not channels:
        raise ValidationError(
            f"Unit {lock.unit.unit_number} has no email address or phone number on file: add "
            "one to the unit first.",
            code="no_contact",
        )
    return [_send_one(lock=lock, notice=notice, channel=c, user=user, ip=ip) for c in channels]


def _send_one(
    *, lock: Lock, notice: Notice, channel: Channel, user: User, ip: str | None
) -> NoticeSend:
    details = {"notice": notice.value, "notice_label": notice.label, "channel": channel.value}
    record = {"actor_type": LockEvent.Actor.USER, "user": user, "ip": ip, "details": details}
    try:
        with transaction.atomic():
            locked = (
                Lock.objects.select_for_update(of=("self",))
                .select_related("unit", "facility__account")
                .get(pk=lock.pk)
            )
            if locked.status != NOTICE_STATUS[notice] or locked.unit_id != lock.unit_id:
                raise _NotSent("LockChanged")
            lock_event_record(
                lock=locked, kind=LockEvent.Kind.CODE_SENT, unit=locked.unit, **record
            )
            _deliver(notice=notice, channel=channel, lock=locked)
    except _NotSent as exc:
        logger.warning("Lock %s: the %s notice was not sent (%s).", lock.pk, notice.value, exc)
        details["error"] = str(exc)
        lock_event_record(lock=lock, kind=LockEvent.Kind.CODE_SEND_FAILED, unit=lock.unit, **record)
        return NoticeSend(channel=channel, sent=False)
    return NoticeSend(channel=channel, sent=True)
