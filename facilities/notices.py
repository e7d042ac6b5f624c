"""Notices that send a tenant the code of the lock on their unit, from the portal.

- "Unlock and Delinquency Paid": the overlock was released (the lock is Returned to Dropbox);
  sent by Release overlock.
- "Unlock and New Rental": a vacant unit was rented; the code of its Assigned Vacant lock.

Each notice goes to every contact on file (the email address and, when text messages are on,
the phone number), one outbox notice per channel (davinci.outbox: sent by a worker after the
request, retried with backoff). Every channel's outcome is one LockEvent: "Code sent to tenant"
naming the notice and the channel, or "Code could not be sent" when the send was given up on,
so a send is never silently lost. No notice is ever sent for a lock in Assigned Auction.
Their words are in templates/emails/ and templates/sms/ (davinci/outbox/emails.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction

from davinci import sms
from davinci.accounts import permissions
from davinci.outbox import emails
from davinci.outbox import tasks as outbox
from facilities.history import Actor, lock_event_by
from facilities.models import (
    Lock,
    LockEvent,
    LockStatus,
    ReleaseAttempt,
    Unit,
)


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


# Each notice's email and text message.
SENDS = {
    (Notice.DELINQUENCY_PAID, Channel.EMAIL): emails.delinquency_paid,
    (Notice.DELINQUENCY_PAID, Channel.SMS): emails.delinquency_paid_text,
    (Notice.NEW_RENTAL, Channel.EMAIL): emails.new_rental,
    (Notice.NEW_RENTAL, Channel.SMS): emails.new_rental_text,
}


def _deliver(*, notice: Notice, channel: Channel, lock: Lock) -> None:
    unit = lock.unit
    context = {
        "account": lock.facility.account,
        "facility": lock.facility,
        "unit": unit,
        "unlock_code": lock.unlock_code,
    }
    to = unit.tenant_email if channel == Channel.EMAIL else unit.tenant_phone
    SENDS[notice, channel](to=to, context=context)


def tenant_notice_send(*, lock: Lock, notice: Notice, actor: Actor) -> list[Channel]:
    """Queue `notice` with the lock's code to every contact on file of the lock's unit, and
    return the channels it goes by; each send's LockEvent names `actor` (who asked for it).
    A ValidationError says why it cannot be sent at all (code `notice_withheld`,
    `notice_wrong_status` or `no_contact`)."""
    if not permissions.tenant_can_receive_code(lock.status):
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
    for channel in channels:
        tenant_notice_deliver.queue(
            lock_id=lock.pk,
            unit_id=lock.unit_id,
            notice=notice.value,
            channel=channel.value,
            **actor.to_ids(),
        )
    return channels


def _record(*, lock: Lock, kind: LockEvent.Kind, actor: dict, details: dict) -> None:
    lock_event_by(_actor(**actor), lock=lock, kind=kind, unit=lock.unit, details=details)


def _actor(*, user_id: int = 0, actor_type: str = LockEvent.Actor.USER, **ids) -> Actor:
    """The actor a notice was queued with. Notices queued before actors existed carry the
    member's `user_id` only."""
    user_id = ids.pop("actor_user_id", user_id)
    return Actor.from_ids(actor_type=actor_type, actor_user_id=user_id, **ids)


def _details(notice: str, channel: str, **more: str) -> dict:
    label = Notice(notice).label
    return {"notice": notice, "notice_label": label, "channel": channel, **more}


@outbox.notice("tenant_code")
def tenant_notice_deliver(
    *, lock_id: int, unit_id: int, notice: str, channel: str, **actor
) -> None:
    """Send one channel of a notice, when it runs: the lock is re-read under a row lock and
    must still be in the notice's status on the same unit. The "Code sent to tenant" event and
    the send share one transaction, so a failed send (retried by the outbox) leaves none."""
    with transaction.atomic():
        lock = (
            Lock.objects.select_for_update(of=("self",))
            .select_related("unit", "facility__account")
            .get(pk=lock_id)
        )
        details = _details(notice, channel)
        if lock.status != NOTICE_STATUS[Notice(notice)] or lock.unit_id != unit_id:
            details["error"] = "the lock changed before the notice was sent"
            _record(lock=lock, kind=LockEvent.Kind.CODE_SEND_FAILED, actor=actor, details=details)
            return
        _record(lock=lock, kind=LockEvent.Kind.CODE_SENT, actor=actor, details=details)
        _deliver(notice=Notice(notice), channel=Channel(channel), lock=lock)


@tenant_notice_deliver.on_failure
def tenant_notice_failed(*, lock_id: int, unit_id: int, notice: str, channel: str, **actor) -> None:
    lock = Lock.objects.select_related("unit").get(pk=lock_id)
    details = _details(notice, channel, error="not sent after every retry")
    _record(lock=lock, kind=LockEvent.Kind.CODE_SEND_FAILED, actor=actor, details=details)
