"""The signing secret of an endpoint: `whsec_` + base64 of 32 random bytes, as the Standard
Webhooks specification writes it (the `standardwebhooks` library decodes exactly that). It is
stored encrypted (davinci/crypto.py), because signing needs the secret itself, and shown only
once after the endpoint is created and by "Show Secret"."""

import base64
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
