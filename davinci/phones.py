"""Phone numbers in one form, E.164: what every unit keeps on file and what text-message
providers expect (davinci/sms.py)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalize_phone(value: str) -> str:
    """A phone number as typed, e.g. "(603) 555-0142", in E.164 ("+16035550142"): the form
    every unit keeps on file and text-message providers expect. Numbers without a country
    code are read as numbers of settings.PHONE_DEFAULT_REGION. Raises ValidationError."""
    value = value.strip()
    if not value:
        return ""
    digits = sum("0" <= ch <= "9" for ch in value)
    error = ValidationError(
        "Enter a phone number that exists, e.g. (603) 555-0142, or +44 20 7946 0958 with its "
        "country code.",
        code="invalid_phone",
    )
    if not set(value) <= set("0123456789+().- ") or not 7 <= digits <= 15:
        raise error
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise error from None
    if not phonenumbers.is_valid_number(number):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
