"""Text messages through a pluggable backend, the way Django sends email.

`settings.SMS_BACKEND` is the dotted path of a class with `send_messages(messages) -> int`:

- `davinci.sms.ConsoleBackend` (the default with DEBUG on): writes each message to the
  `davinci.sms` logger, so a developer can read the code the page sent.
- `davinci.sms.LocMemBackend` (tests): appends to `davinci.sms.outbox`.
- `davinci.sms.TwilioBackend` (production): Twilio's Messages API through the `twilio`
  library, configured by TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM.
- empty (the default with DEBUG off): text messages are off; `sms_enabled()` is False and
  callers offer email only. Plug in a provider by writing a subclass of `BaseSmsBackend`.

A backend raises `SmsError` (or any exception) when a message could not be handed over:
`SmsRetryableError` when trying again later may work (the provider is down, slow or asks us to
slow down), `SmsPermanentError` when it will not (the number is not one, the credentials are
wrong). A caller that retries (a task queue) retries the first and gives up on the second.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from davinci.phones import normalize_phone

logger = logging.getLogger("davinci.sms")

# LocMemBackend's sent messages, like django.core.mail.outbox.
outbox: list[SmsMessage] = []


class SmsError(Exception):
    """A message could not be handed to the provider."""


class SmsRetryableError(SmsError):
    """The provider could not be reached or failed on its side: try again later."""


class SmsPermanentError(SmsError):
    """The provider refused the message for good (bad number, bad credentials, ...)."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    """`SmsMessage.to` is the phone number as the facility keeps it on file: E.164, e.g.
    "+16035550142" (davinci.phones.normalize_phone)."""

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


class TwilioBackend(BaseSmsBackend):
    """Twilio's Messages API. Each message is one POST /2010-04-01/Accounts/{sid}/Messages."""

    # Twilio error codes that name the recipient: the number is not one, cannot receive
    # texts, or has opted out. https://www.twilio.com/docs/api/errors
    RECIPIENT_ERRORS = {
        21211: "not a valid phone number",
        21614: "not a mobile number",
        21610: "has replied STOP",
        21612: "cannot be reached from our number",
        21408: "is in a region texts are not enabled for",
    }

    def __init__(self) -> None:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
            if not getattr(settings, name)
        ]
        if missing:
            raise ImproperlyConfigured(
                f"SMS_BACKEND is davinci.sms.TwilioBackend but {', '.join(missing)} "
                "is not set (README, 'Text messages')."
            )
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=_TwilioHttpClient(settings.TWILIO_API_BASE_URL, settings.TWILIO_TIMEOUT),
        )

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            self._send(message)
        return len(messages)

    def _send(self, message: SmsMessage) -> None:
        sender = settings.TWILIO_FROM
        origin = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        to = _e164(message.to)
        try:
            sent = self.client.messages.create(to=to, body=message.body, **origin)
        except requests.RequestException as exc:
            raise SmsRetryableError(
                f"Twilio could not be reached ({type(exc).__name__})."
            ) from None
        except TwilioRestException as exc:
            raise _twilio_error(exc, self.RECIPIENT_ERRORS) from None
        logger.info("SMS handed to Twilio as %s (%s)", sent.sid, sent.status)


def _e164(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        raise SmsPermanentError("The phone number on file is not a valid number.") from None


def _twilio_error(exc: TwilioRestException, recipient_errors: dict[int, str]) -> SmsError:
    # Never exc.msg or exc.details verbatim into our errors: they could echo the body.
    status, code = exc.status, exc.code
    if status == 429 or status >= 500:
        return SmsRetryableError(f"Twilio answered {status} (error {code}): try again later.")
    if status in (401, 403):
        return SmsPermanentError(
            f"Twilio refused our credentials ({status}, error {code}): check "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
        )
    if code in recipient_errors:
        return SmsPermanentError(f"The recipient {recipient_errors[code]} (Twilio error {code}).")
    return SmsPermanentError(f"Twilio refused the message ({status}, error {code}).")


class _TwilioHttpClient(TwilioHttpClient):
    """twilio's own HTTP client (its documented extension point) with a timeout and, for a
    local fake of the API, another base URL."""

    TWILIO = "https://api.twilio.com"

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(self.TWILIO):
            url = self.base_url + url[len(self.TWILIO) :]
        return super().request(method, url, *args, **kwargs)


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
