"""Backends that refuse every message, to prove a failed send is recorded as one."""

from smtplib import SMTPRecipientsRefused

from django.core.mail.backends.base import BaseEmailBackend

from davinci.sms import BaseSmsBackend, SmsError


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPRecipientsRefused({"tenant@example.com": (550, b"No such mailbox")})


class RefusingSmsBackend(BaseSmsBackend):
    def send_messages(self, messages):
        raise SmsError("The provider is down.")
