"""The rules behind the release page: contacts, which lock is released, rate limits."""

import pytest
from django.core.exceptions import ValidationError

from facilities.models import UNIT_STATUSES, LockEvent, LockStatus, ReleaseAttempt
from facilities.release.services import (
    Contact,
    contact_parse,
    release_attempt_record,
    release_code_send,
    release_rate_limited,
    units_with_released_lock,
)
from facilities.services import UNASSIGN_STATUSES
from tests.factories import UnitFactory
from tests.release.conftest import overlock, release_lock

Channel = ReleaseAttempt.Channel
Outcome = ReleaseAttempt.Outcome


# --- Contacts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "channel"),
    [
        ("avery@example.com", Channel.EMAIL),
        ("  Avery.Johnson@Example.COM ", Channel.EMAIL),
        ("(603) 555-0142", Channel.SMS),
        ("+1 603.555.0142", Channel.SMS),
        ("6035550142", Channel.SMS),
    ],
)
def test_contact_parse_recognises_email_and_phone(typed, channel):
    assert contact_parse(typed) == Contact(channel=channel, value=typed.strip())


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("avery@", "invalid_email"),
        ("avery@@example.com", "invalid_email"),
        ("call me", "invalid_contact"),
        ("603-555-O142", "invalid_contact"),  # a letter O
        ("555-01", "invalid_phone"),
        ("1234567890123456", "invalid_phone"),
    ],
)
def test_contact_parse_refuses_malformed_input_with_a_code(typed, code):
    with pytest.raises(ValidationError) as caught:
        contact_parse(typed)
    assert caught.value.code == code


def test_contact_parse_refuses_phones_when_sms_is_off(settings):
    settings.SMS_BACKEND = ""
    with pytest.raises(ValidationError) as caught:
        contact_parse("(603) 555-0142")
    assert caught.value.code == "sms_unavailable"
    assert contact_parse("a@example.com").channel == Channel.EMAIL


@pytest.mark.parametrize(
    ("typed", "on_file", "matches"),
    [
        ("avery.johnson@example.com", "Avery.Johnson@example.com", True),
        ("avery@example.com", "Avery.Johnson@example.com", False),
        ("avery@example.com", "", False),
    ],
)
def test_email_matches_case_insensitively(typed, on_file, matches):
    unit = UnitFactory.build(tenant_email=on_file)
    assert Contact(channel=Channel.EMAIL, value=typed).matches(unit) is matches


@pytest.mark.parametrize(
    ("typed", "on_file", "matches"),
    [
        ("603-555-0142", "(603) 555-0142", True),
        ("+1 (603) 555 0142", "(603) 555-0142", True),
        ("6035550142", "+1 603 555 0142", True),
        ("+44 20 7946 0958", "+44 20 7946 0958", True),
        ("603-555-0143", "(603) 555-0142", False),
        ("555-0142", "(603) 555-0142", False),
        ("+2 603 555 0142", "(603) 555-0142", False),
        ("603-555-0142", "", False),
    ],
)
def test_phone_matches_by_digits(typed, on_file, matches):
    unit = UnitFactory.build(tenant_phone=on_file)
    assert Contact(channel=Channel.SMS, value=typed).matches(unit) is matches


# --- Which lock is released ------------------------------------------------------------------


def released_lock_id(unit):
    return units_with_released_lock(unit.facility).get(pk=unit.pk).released_lock_id


def test_unit_whose_overlock_was_released_is_released(tenant_unit, released):
    assert released.unit == tenant_unit
    assert released_lock_id(tenant_unit) == released.pk


@pytest.mark.parametrize("status", UNASSIGN_STATUSES)
def test_lock_taken_off_the_unit_is_not_released(tenant_unit, released, status):
    """Setting the lock Available (or any status off the unit) ends the tenant's access."""
    released.unit, released.status = None, status
    released.save()
    assert released_lock_id(tenant_unit) is None


@pytest.mark.parametrize("status", sorted(UNIT_STATUSES - {LockStatus.RETURNED_TO_DROPBOX}))
def test_a_lock_on_the_unit_in_another_status_is_never_released(tenant_unit, status):
    lock = overlock(tenant_unit, code="1234")
    lock.status = status
    lock.save()
    assert released_lock_id(tenant_unit) is None


def test_a_released_lock_on_another_unit_does_not_release_this_one(facility, tenant_unit):
    release_lock(overlock(UnitFactory(facility=facility, unit_number="B202"), code="1234"))
    assert released_lock_id(tenant_unit) is None


def test_excluded_facility_has_no_units_to_release(facility, tenant_unit, released):
    facility.include_in_api = False
    facility.save()
    assert not units_with_released_lock(facility).exists()


def test_lookup_is_one_query_whatever_the_answer(
    facility, tenant_unit, released, django_assert_num_queries
):
    for number in ("A101", "Z999"):
        with django_assert_num_queries(1):
            list(units_with_released_lock(facility).filter(unit_number__iexact=number))


# --- Attempts --------------------------------------------------------------------------------


def test_attempt_for_a_facility_of_another_account_is_a_programming_error(account, other_facility):
    with pytest.raises(ValueError, match="another account"):
        release_attempt_record(
            account=account,
            facility=other_facility,
            unit_number="A101",
            contact=Contact(channel=Channel.EMAIL, value="a@example.com"),
            ip="127.0.0.1",
        )


def test_deliver_sends_nothing_when_the_lock_was_reassigned_meanwhile(
    account, facility, tenant_unit, released, mailoutbox
):
    attempt = release_attempt_record(
        account=account,
        facility=facility,
        unit_number="A101",
        contact=Contact(channel=Channel.EMAIL, value="avery.johnson@example.com"),
        ip="127.0.0.1",
    )
    assert attempt.outcome == Outcome.PENDING
    released.status, released.unit = LockStatus.ASSIGNED_OVERLOCK, tenant_unit
    released.save()

    release_code_send(attempt_id=attempt.pk)

    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.NOT_RELEASED
    assert mailoutbox == []
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()


def test_deliver_is_a_no_op_for_attempts_that_earned_nothing(account, facility, mailoutbox):
    attempt = release_attempt_record(
        account=account,
        facility=facility,
        unit_number="Z999",
        contact=Contact(channel=Channel.EMAIL, value="a@example.com"),
        ip=None,
    )
    release_code_send(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.UNKNOWN_UNIT
    assert mailoutbox == []


def test_rate_limit_window_ends(facility, settings):
    settings.RELEASE_RATE_LIMIT_PER_IP = 1
    settings.RELEASE_RATE_LIMIT_WINDOW = 1
    hit = {"ip": "192.0.2.7", "facility": facility}
    assert release_rate_limited(**hit, unit_number="A1") is False
    assert release_rate_limited(**hit, unit_number="A2") is True

    from django.core.cache import cache

    cache.clear()  # what the window's expiry does
    assert release_rate_limited(**hit, unit_number="A3") is False


def test_a_number_outside_north_america_matches_as_typed_without_its_country_code(settings):
    from facilities.release.services import _same_phone

    settings.PHONE_DEFAULT_REGION = "GB"
    assert _same_phone("020 7946 0958", "+442079460958")
    assert _same_phone("+44 20 7946 0958", "+442079460958")
    assert not _same_phone("020 7946 0959", "+442079460958")
