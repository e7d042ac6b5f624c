"""Encryption at rest for unlock codes and API secrets.

Values are encrypted with Fernet under a MultiFernet built from FIELD_ENCRYPTION_KEYS: the
first key encrypts, every key decrypts, and `rotate()` re-encrypts a token under the first.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = [
    "ENCRYPTED_COLUMNS",
    "InvalidToken",
    "decrypt",
    "decrypt_bytes",
    "encrypt",
    "encrypt_bytes",
    "rotate",
]

# Every column that holds a Fernet token, as (app_label.Model, field name). The
# rotate_encryption_keys command re-encrypts all of them.
ENCRYPTED_COLUMNS = [
    ("facilities.Lock", "unlock_code_encrypted"),
    ("integrations.ApiKey", "secret_encrypted"),
    # A stored write answer may carry an unlock code (integrations/api/idempotency.py).
    ("integrations.IdempotencyKey", "response_encrypted"),
]


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def encrypt_bytes(value: bytes) -> str:
    return _fernet().encrypt(value).decode()


def decrypt_bytes(token: str) -> bytes:
    return _fernet().decrypt(token.encode())


def rotate(token: str) -> str:
    """The same value, encrypted under the first key."""
    return _fernet().rotate(token.encode()).decode()
