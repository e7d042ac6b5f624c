"""davinci.sms.TwilioBackend against a local fake of Twilio's API (tests/release/fake_twilio.py)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from davinci import sms
from facilities.models import LockEvent, ReleaseAttempt
from tests.release.fake_twilio import FakeTwilio
from tests.release.test_release_page import CODE, submit

FROM = "+16035550100"


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.SMS_BACKEND = "davinci.sms.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_FROM = FROM
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_TIMEOUT = 5
    yield fake
    fake.close()


def test_a_message_reaches_twilio_in_e164_from_our_number(twilio):
    sms.send_sms(to="(603) 555-0142", body="Your code is 4812")
    assert twilio.messages == [{"To": "+16035550142", "From": FROM, "Body": "Your code is 4812"}]


def test_a_messaging_service_sid_is_sent_as_the_sender(twilio, settings):
    settings.TWILIO_FROM = "MG" + "1" * 32
    sms.send_sms(to="+16035550142", body="Hello")
    assert twilio.messages[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio.messages[0]


def test_a_number_twilio_refuses_is_a_permanent_error(twilio):
    with pytest.raises(sms.SmsPermanentError, match=r"number \(Twilio error 21211"):
        sms.send_sms(to="+1 500 555 0001", body="Hello")
    assert twilio.messages == []


def test_a_number_that_is_not_one_never_reaches_twilio(twilio):
    with pytest.raises(sms.SmsPermanentError, match="not a valid number"):
        sms.send_sms(to="555-0142", body="Hello")
    assert twilio.requests == 0


def test_wrong_credentials_are_a_permanent_error_naming_the_settings(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with pytest.raises(sms.SmsPermanentError, match="TWILIO_AUTH_TOKEN") as error:
        sms.send_sms(to="+16035550142", body="Your code is 4812")
    assert "wrong" not in str(error.value)
    assert "4812" not in str(error.value)


def test_provider_down_is_retryable_and_a_retry_delivers(twilio):
    twilio.down = 2
    failures = []
    for _attempt in range(3):  # what a retrying caller (the task queue) does
        try:
            sms.send_sms(to="+16035550142", body="Hello")
            break
        except sms.SmsRetryableError as exc:
            failures.append(str(exc))
    assert failures == ["Twilio answered 503 (error 503): try again later."] * 2
    assert [m["To"] for m in twilio.messages] == ["+16035550142"]


def test_provider_unreachable_is_retryable(twilio):
    twilio.close()
    with pytest.raises(sms.SmsRetryableError, match="could not be reached"):
        sms.send_sms(to="+16035550142", body="Hello")


def test_missing_configuration_is_named(settings):
    settings.SMS_BACKEND = "davinci.sms.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = "AC1"
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_AUTH_TOKEN, TWILIO_FROM is not set"):
        sms.send_sms(to="+16035550142", body="Hello")


def test_a_release_code_reaches_a_text_message_through_twilio(
    client, account, facility, tenant_unit, released, twilio
):
    # The code is sent once the answer is written (the test client closes the response).
    response = submit(client, account, facility, contact="603-555-0142")
    assert response["Location"].endswith("?by=sms")

    assert len(twilio.messages) == 1
    assert twilio.messages[0]["To"] == "+16035550142"
    assert CODE in twilio.messages[0]["Body"]
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.SENT
    assert LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT).details["channel"] == "sms"


def test_twilio_down_once_on_the_release_page_is_retried_by_the_outbox(
    client, account, facility, tenant_unit, released, twilio
):
    twilio.down = 1
    submit(client, account, facility, contact="603-555-0142")
    assert len(twilio.messages) == 1
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.SENT
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).count() == 1


def test_twilio_down_for_every_try_records_sending_failed(
    client, account, facility, tenant_unit, released, twilio
):
    twilio.down = 99
    submit(client, account, facility, contact="603-555-0142")
    assert twilio.messages == []
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.DELIVERY_FAILED
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()
