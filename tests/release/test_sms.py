"""davinci.sms: the pluggable text-message backend."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from davinci import sms


def test_locmem_backend_keeps_messages_in_the_outbox():
    sms.send_sms(to="(603) 555-0142", body="Code 1234")
    assert sms.outbox == [sms.SmsMessage(to="(603) 555-0142", body="Code 1234")]


def test_console_backend_logs_the_message(settings, caplog):
    settings.SMS_BACKEND = "davinci.sms.ConsoleBackend"
    with caplog.at_level(logging.INFO, logger="davinci.sms"):
        sms.send_sms(to="+16035550142", body="Code 1234")
    assert "SMS to +16035550142: Code 1234" in caplog.text
    assert sms.outbox == []


def test_empty_setting_turns_text_messages_off(settings):
    settings.SMS_BACKEND = ""
    assert sms.sms_enabled() is False
    with pytest.raises(ImproperlyConfigured):
        sms.send_sms(to="+16035550142", body="Code 1234")


class _SilentBackend(sms.BaseSmsBackend):
    def send_messages(self, messages):
        return 0


def test_a_backend_that_accepts_nothing_raises(settings):
    settings.SMS_BACKEND = "tests.release.test_sms._SilentBackend"
    with pytest.raises(sms.SmsError):
        sms.send_sms(to="+16035550142", body="Code 1234")
