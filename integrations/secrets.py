"""API Key and API Secret formats, and how a secret is digested.

- API Key (public id): ``dvk_`` + 20 base62 characters.
- API Secret: ``dvs_`` + 32 base62 characters (about 190 bits) + a 6-character CRC32
  checksum, so secret scanners can recognise a leaked secret without a database.
- Digest: HMAC-SHA256 keyed with settings.API_KEY_DIGEST_SECRET (not SECRET_KEY), compared in
  constant time. The secret has enough entropy that a slow password hash adds nothing.
"""

import hashlib
import hmac
import secrets
import string
import zlib

from django.conf import settings

API_KEY_PREFIX = "dvk_"
API_SECRET_PREFIX = "dvs_"  # noqa: S105 - a prefix, not a secret
BASE62 = string.digits + string.ascii_letters
API_KEY_RANDOM_LENGTH = 20
API_SECRET_RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_api_key() -> str:
    return API_KEY_PREFIX + _random_base62(API_KEY_RANDOM_LENGTH)


def generate_api_secret() -> str:
    body = API_SECRET_PREFIX + _random_base62(API_SECRET_RANDOM_LENGTH)
    return body + _checksum(body)


def secret_has_valid_checksum(secret: str) -> bool:
    body, checksum = secret[:-CHECKSUM_LENGTH], secret[-CHECKSUM_LENGTH:]
    return (
        secret.startswith(API_SECRET_PREFIX)
        and len(secret) == len(API_SECRET_PREFIX) + API_SECRET_RANDOM_LENGTH + CHECKSUM_LENGTH
        and hmac.compare_digest(_checksum(body), checksum)
    )


def secret_digest(secret: str) -> str:
    return hmac.new(
        settings.API_KEY_DIGEST_SECRET.encode(), secret.encode(), hashlib.sha256
    ).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    return bool(digest) and hmac.compare_digest(secret_digest(secret), digest)
