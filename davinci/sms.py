"""Text messages through a pluggable backend, the way Django sends email.

`settings.SMS_BACKEND` is the dotted path of a class with `send_messages(messages) -> int`:

- `davinci.sms.ConsoleBackend` (the default with DEBUG on): writes each message to the
  `davinci.sms` logger, so a developer can read the code the page sent.
- `davinci.sms.LocMemBackend` (tests): appends to `davinci.sms.outbox`.
- empty (the default with DEBUG off): text messages are off; `sms_enabled()` is False and
  callers offer email only. Plug in a provider by writing a subclass of `BaseSmsBackend`.

A backend raises `SmsError` (or any exception) when a message could not be handed over.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger("davinci.sms")

# LocMemBackend's sent messages, like django.core.mail.outbox.
outbox: list[SmsMessage] = []


class SmsError(Exception):
    """A message could not be handed to the provider."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    """`SmsMessage.to` is the phone number as the facility keeps it on file, e.g.
    "(603) 555-0142"; a provider's backend normalises it (to E.164) for its API."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send every message; return how many were sent. Raise when one could not be."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Development only: the message, code included, goes to the log."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            logger.info("SMS to %s: %s", message.to, message.body)
        return len(messages)


class LocMemBackend(BaseSmsBackend):
    """Tests: keeps messages in `davinci.sms.outbox`."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def sms_enabled() -> bool:
    return bool(settings.SMS_BACKEND)


def get_backend() -> BaseSmsBackend:
    if not sms_enabled():
        raise ImproperlyConfigured("SMS_BACKEND is empty: text messages are off.")
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str) -> None:
    """Send one text message through the configured backend; raises if it was not sent."""
    if get_backend().send_messages([SmsMessage(to=to, body=body)]) != 1:
        raise SmsError("The SMS backend did not accept the message.")
