"""The overlock-release page's rules: who gets a code, how often one may ask, and the send.

A tenant who has paid asks for the code of the overlock on their unit. The code goes only to
the email address or phone number on file, never to the page, and only when the unit's
overlock has been released (its lock is Returned to Dropbox). Every attempt is recorded as a
ReleaseAttempt; every code sent also as a LockEvent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery

from davinci import counters, sms
from davinci.accounts.models import Account
from davinci.outbox import emails
from davinci.outbox.tasks import notice
from davinci.phones import normalize_phone
from facilities.history import lock_event_record
from facilities.models import (
    Facility,
    Lock,
    LockEvent,
    LockStatus,
    ReleaseAttempt,
    Unit,
)

logger = logging.getLogger(__name__)

Outcome = ReleaseAttempt.Outcome
Channel = ReleaseAttempt.Channel

PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+$")
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15


# --- Contact ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """What the visitor typed as the unit's contact: an email address or a phone number."""

    channel: Channel
    value: str

    def matches(self, unit: Unit) -> bool:
        """Email compared case-insensitively; a phone number by its digits."""
        if self.channel == Channel.EMAIL:
            return bool(unit.tenant_email) and (
                unit.tenant_email.strip().casefold() == self.value.casefold()
            )
        return _same_phone(self.value, unit.tenant_phone)


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def _national(digits: str) -> str:
    """Drops a leading North-American country code: the demo and most US facilities keep
    "(603) 555-0142" on file, while tenants often type "+1 603 555 0142"."""
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _same_phone(typed: str, on_file: str) -> bool:
    """Units keep E.164; the visitor may type the number in any usual form, also without the
    country code of PHONE_DEFAULT_REGION ("020 7946 0958" for +442079460958 in GB)."""
    try:
        if normalize_phone(typed) == normalize_phone(on_file):
            return True
    except ValidationError:
        pass
    typed_digits, file_digits = _national(_digits(typed)), _national(_digits(on_file))
    return bool(file_digits) and typed_digits == file_digits


def contact_parse(value: str) -> Contact:
    """The visitor's contact, or a ValidationError saying what is wrong with it."""
    value = value.strip()
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                "Enter a valid email address, like name@example.com.", code="invalid_email"
            ) from None
        return Contact(channel=Channel.EMAIL, value=value)
    if not PHONE_CHARACTERS.match(value):
        raise ValidationError(
            "Enter the email address or the phone number on file, like name@example.com "
            "or (603) 555-0142.",
            code="invalid_contact",
        )
    if not PHONE_MIN_DIGITS <= len(_digits(value)) <= PHONE_MAX_DIGITS:
        raise ValidationError(
            f"A phone number has {PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS} digits.",
            code="invalid_phone",
        )
    if not sms.sms_enabled():
        raise ValidationError(
            "Codes are sent by email only here: enter the email address on file.",
            code="sms_unavailable",
        )
    return Contact(channel=Channel.SMS, value=value)


# --- Which unit is released ------------------------------------------------------------------


def units_with_released_lock(facility: Facility) -> QuerySet[Unit]:
    """The facility's units (none if it is excluded from the API), each annotated with
    `released_lock_id`: the id of the lock on the unit when it is Returned to Dropbox (its
    tenant has paid), else None. One query whatever the answer, so every outcome costs the
    same."""
    released = Lock.objects.filter(unit=OuterRef("pk"), status=LockStatus.RETURNED_TO_DROPBOX)
    return Unit.objects.filter(facility=facility, facility__include_in_api=True).annotate(
        released_lock_id=Subquery(released.values("id")[:1])
    )


def _find_unit(facility: Facility, unit_number: str) -> Unit | None:
    """Unit numbers match case-insensitively ("a101" finds "A101"); an exact match wins when a
    facility has numbers that differ only in case."""
    candidates = list(units_with_released_lock(facility).filter(unit_number__iexact=unit_number))
    exact = [unit for unit in candidates if unit.unit_number == unit_number]
    if exact:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None


# --- Rate limits -----------------------------------------------------------------------------


def _ip_bucket(ip: str | None) -> str:
    """IPv6 clients are counted per /64: one subscriber usually holds a whole /64. An
    IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client it stands for."""
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(scope: str, parts: tuple) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return f"release-rate:{scope}:{digest}"


def _hit(scope: str, parts: tuple, limit: int) -> bool:
    """Count one attempt in a fixed window; True when the count is over `limit`."""
    return counters.count(_key(scope, parts), timeout=settings.RELEASE_RATE_LIMIT_WINDOW) > limit


def release_rate_limited(*, ip: str | None, facility: Facility, unit_number: str) -> bool:
    """Counts the attempt first; True when this address has made too many attempts, in all
    or on this facility + unit number.

    Every limit keys on the asking address, so attempts from elsewhere can never use up the
    real tenant's; and on what was typed, not on a unit found, so a limit reached says
    nothing about whether the unit exists or what its contact is. How many codes a tenant can
    be sent is capped apart, when sending (`release_code_send`).
    """
    bucket = _ip_bucket(ip)
    if _hit("ip", (bucket,), settings.RELEASE_RATE_LIMIT_PER_IP):
        return True
    return _hit(
        "unit", (facility.pk, unit_number.casefold(), bucket), settings.RELEASE_RATE_LIMIT_PER_UNIT
    )


def release_search_limited(*, ip: str | None) -> bool:
    """Counts one facility search on the public page (each runs a "contains" query); True
    when this address has searched more than RELEASE_SEARCHES_PER_IP times this window."""
    return _hit("search", (_ip_bucket(ip),), settings.RELEASE_SEARCHES_PER_IP)


def _send_allowed(unit: Unit) -> bool:
    """Counts one code sent to the unit's tenant; False past RELEASE_SENDS_PER_UNIT a window,
    so nobody who knows the contact on file can flood the tenant with messages."""
    return not _hit("sends", (unit.pk,), settings.RELEASE_SENDS_PER_UNIT)


# --- The attempt and the send ----------------------------------------------------------------


@transaction.atomic
def release_attempt_record(
    *,
    account: Account,
    facility: Facility,
    unit_number: str,
    contact: Contact,
    ip: str | None,
    honeypot_filled: bool = False,
) -> ReleaseAttempt:
    """Decide what an attempt earns and record it. Sends nothing: an attempt that qualifies
    comes back PENDING, for `release_code_send` once the page has answered."""
    if facility.account_id != account.pk:
        raise ValueError("The facility belongs to another account.")
    attempt = ReleaseAttempt(
        account=account,
        facility=facility,
        unit_number=unit_number,
        channel=contact.channel,
        contact=contact.value,
        ip=ip or None,
    )
    if release_rate_limited(ip=ip, facility=facility, unit_number=unit_number):
        attempt.outcome = Outcome.RATE_LIMITED
    elif honeypot_filled:
        attempt.outcome = Outcome.HONEYPOT
    else:
        unit = _find_unit(facility, unit_number)
        attempt.unit = unit
        if not facility.include_in_api:
            attempt.outcome = Outcome.FACILITY_EXCLUDED
        elif unit is None:
            attempt.outcome = Outcome.UNKNOWN_UNIT
        elif not contact.matches(unit):
            attempt.outcome = Outcome.CONTACT_MISMATCH
        elif unit.released_lock_id is None:
            attempt.outcome = Outcome.NOT_RELEASED
        else:
            attempt.lock_id = unit.released_lock_id
            attempt.outcome = Outcome.PENDING
    attempt.save()
    return attempt


def _send(*, attempt: ReleaseAttempt, lock: Lock) -> None:
    unit = attempt.unit
    context = {
        "account": attempt.account,
        "facility": lock.facility,
        "unit": unit,
        "unlock_code": lock.unlock_code,
    }
    if attempt.channel == Channel.EMAIL:
        emails.release_code(to=unit.tenant_email, context=context)
    else:
        emails.release_code_text(to=unit.tenant_phone, context=context)


@notice("release_code")
def release_code_send(*, attempt_id: int) -> None:
    """Send the code of a PENDING attempt to the unit's contact on file, and record the send.

    Queued for every attempt the page accepts (so every answer costs the page the same); only
    a PENDING one sends. The attempt and the lock are re-read under row locks, and the lock
    must still be Returned to Dropbox. The LockEvent, the send and the attempt's outcome share
    one transaction: if the email or SMS backend fails, no LockEvent claims a send and the
    attempt stays "Sending" for the outbox's retry; once it gives up, "Sending failed".
    """
    with transaction.atomic():
        attempt = (
            ReleaseAttempt.objects.select_for_update(of=("self",))
            .select_related("account", "unit")
            .get(pk=attempt_id)
        )
        if attempt.outcome != Outcome.PENDING:
            return
        lock = (
            Lock.objects.select_for_update(of=("self",))
            .select_related("facility")
            .filter(
                pk=attempt.lock_id,
                status=LockStatus.RETURNED_TO_DROPBOX,
                unit_id=attempt.unit_id,
            )
            .first()
        )
        if lock is None or attempt.unit is None:
            attempt.outcome = Outcome.NOT_RELEASED
        elif not _send_allowed(attempt.unit):
            attempt.outcome = Outcome.SEND_LIMITED
        else:
            lock_event_record(
                lock=lock,
                kind=LockEvent.Kind.CODE_SENT,
                actor_type=LockEvent.Actor.TENANT_PAGE,
                unit=attempt.unit,
                ip=attempt.ip,
                details={"channel": attempt.channel, "release_attempt": attempt.pk},
            )
            try:
                _send(attempt=attempt, lock=lock)
            except Exception:
                counters.refund(_key("sends", (attempt.unit.pk,)))  # nothing reached them
                raise
            attempt.outcome = Outcome.SENT
        attempt.save(update_fields=["outcome"])


@release_code_send.on_failure
def release_code_failed(*, attempt_id: int) -> None:
    ReleaseAttempt.objects.filter(pk=attempt_id, outcome=Outcome.PENDING).update(
        outcome=Outcome.DELIVERY_FAILED
    )
