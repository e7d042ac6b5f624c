"""API key authentication for the lookup API: `@api_key_required`.

Credentials come in the `X-API-Key` and `X-API-Secret` headers, or as HTTP Basic
`key:secret`; never in the URL. Authenticating costs one indexed query (the key by its public
id, with its account) and a constant-time compare of HMAC digests: no password hasher, no
decryption. The only write is `last_used_at`/`last_used_ip`, at most once a minute per key.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache, wraps

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.debug import sensitive_variables

from davinci.accounts.permissions import KeyPermission
from davinci.net import client_ip
from integrations import usage
from integrations.api import limits
from integrations.api.errors import api_error
from integrations.models import ApiKey
from integrations.secrets import secret_has_valid_checksum, secret_matches

API_KEY_PATTERN = re.compile(r"^dvk_[0-9A-Za-z]{20}\Z")
TOUCH_INTERVAL = timedelta(minutes=1)
# Sent with every 401 so HTTP clients know Basic is one way in.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="DaVinci Lock API", charset="UTF-8"'}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Malformed(Exception):
    """Credentials were sent but cannot be read."""


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(key, secret) from the headers, None when none were sent; raises _Malformed."""
    key = request.headers.get("X-API-Key")
    secret = request.headers.get("X-API-Secret")
    if key is not None or secret is not None:
        if not key or not secret:
            return None
        return key.strip(), secret.strip()
    authorization = request.headers.get("Authorization")
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _Malformed("Use HTTP Basic (key:secret) or the X-API-Key and X-API-Secret headers.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):  # ValueError: non-ASCII input
        raise _Malformed("The Authorization header is not valid Basic credentials.") from None
    key, colon, secret = decoded.partition(":")
    if not colon or not key or not secret:
        raise _Malformed("Basic credentials must be API Key and API Secret: key:secret.")
    return key.strip(), secret.strip()


# The fields authentication needs; any other is loaded on first use (deferred), and the
# account only if a view asks for it (request.account is lazy).
_NEEDED_FIELDS = (
    "id",
    "account_id",
    "api_key",
    "secret_digest",
    "previous_secret_digest",
    "previous_secret_expires_at",
    "all_facilities",
    "is_active",
    "expires_at",
    "allowed_ips",
    "permissions",
    "last_used_at",
    "last_used_ip",
)


def _authenticate(key: str, secret: str) -> ApiKey | None:
    """The key these credentials belong to, or None. One query, constant-time compares; a
    wrong secret for a key that exists is counted for its usage chart (in the cache)."""
    if not API_KEY_PATTERN.match(key) or not secret_has_valid_checksum(secret):
        return None  # cannot exist: no query
    try:
        api_key = ApiKey.objects.not_deleted().only(*_NEEDED_FIELDS).get(api_key=key)
    except ApiKey.DoesNotExist:
        return None
    if secret_matches(secret, api_key.secret_digest):
        return api_key
    # After "Roll secret" with a grace period the previous secret works until it ends.
    if api_key.in_grace_period and secret_matches(secret, api_key.previous_secret_digest):
        return api_key
    usage.refused_count(api_key_id=api_key.pk, status=401)  # a wrong secret for this key
    return None


@lru_cache(maxsize=1024)
def _networks(ranges: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in ranges:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except (ValueError, TypeError):
            continue  # an unreadable entry allows nobody (the form never saves one)
    return tuple(networks)


def ip_allowed(api_key: ApiKey, ip: str | None) -> bool:
    """An empty allowlist lets any address in; otherwise the address must be in a range."""
    if not api_key.allowed_ips:
        return True
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in _networks(tuple(map(str, api_key.allowed_ips))))


def _valid_ip(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _touch(api_key: ApiKey, ip: str | None) -> None:
    """Record use at most once a minute: a query only when the loaded value is stale, and
    the UPDATE's condition keeps concurrent workers from writing twice."""
    now = timezone.now()
    stale = now - TOUCH_INTERVAL
    if api_key.last_used_at is not None and api_key.last_used_at >= stale:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=api_key.pk
    ).update(last_used_at=now, last_used_ip=ip)
    api_key.last_used_at, api_key.last_used_ip = now, ip


def _rate_limited(retry_after: int, message: str) -> HttpResponse:
    return api_error(429, "rate_limited", message, headers={"Retry-After": str(retry_after)})


# Query parameters that are credentials put in the wrong place: refused, never read.
URL_CREDENTIALS = frozenset(
    {"api_key", "api_secret", "apikey", "apisecret", "key", "secret", "x-api-key", "x-api-secret"}
)


def _too_many_failures(retry_after: int) -> HttpResponse:
    return _rate_limited(
        retry_after, "Too many failed authentications from this address; wait a minute."
    )


def api_key_required(
    view: Callable[..., HttpResponse], *, permission: KeyPermission
) -> Callable[..., HttpResponse]:
    """Authenticate the request's API key, check it holds `permission`, then call the view
    with `request.api_key`, `request.account` (the key's account, loaded on first use) and
    `request.client_ip` set.

    Answers, in this order: 400 for credentials in the URL; 429 when the client IP failed to
    authenticate too often this minute (even with a correct secret); 401 missing_credentials
    / invalid_credentials / key_disabled / key_expired; 403 ip_not_allowed; 429 over the
    key's own limit; 403 insufficient_permission. A request with a known key costs one cache
    round trip for both limits; every request of a known key counts against its limit,
    refused ones included (count first, then decide).
    """

    # Every frame from here down holds the secret (credentials) or a code (the view's data):
    # error reports show none of their variables.
    @sensitive_variables()
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _credentials_in_url(request):
            return _credentials_in_url_refused()
        ip = _valid_ip(client_ip(request))
        failures = f"auth-failures:{ip or 'unknown'}"  # the address's failed attempts
        api_key = _identify(request, failures)
        if isinstance(api_key, HttpResponse):
            return api_key
        refusal = _refusal(api_key, ip, failures, permission)
        if refusal is not None:
            return refusal
        _admit(request, api_key, ip)
        return view(request, *args, **kwargs)

    return wrapper


def _credentials_in_url(request: HttpRequest) -> bool:
    return any(name.lower() in URL_CREDENTIALS for name in request.GET)


def _credentials_in_url_refused() -> HttpResponse:
    return api_error(
        400,
        "invalid_parameter",
        "Credentials never go in the URL (URLs end up in logs and browser history): "
        "send them in the X-API-Key and X-API-Secret headers, and roll a secret that "
        "was sent in a URL.",
    )


def _identify(request: HttpRequest, failures: str) -> ApiKey | HttpResponse:
    """Step 1: the API key the credentials belong to, or the answer refusing them: 401
    missing_credentials or invalid_credentials, or 429 once the address (`failures`, its
    bucket) failed too often this minute. Every failure but a missing credential counts."""
    try:
        credentials = _credentials(request)
    except _Malformed as exc:
        return _failed(failures, api_error(401, "invalid_credentials", str(exc), headers=CHALLENGE))
    if credentials is None:
        retry_after = limits.exceeded(failures, limit=settings.API_AUTH_FAILURE_LIMIT_PER_MINUTE)
        if retry_after is not None:
            return _too_many_failures(retry_after)
        return api_error(
            401,
            "missing_credentials",
            "Send your API Key and API Secret in the X-API-Key and X-API-Secret headers "
            "(or as HTTP Basic key:secret).",
            headers=CHALLENGE,
        )
    api_key = _authenticate(*credentials)
    if api_key is None:
        return _failed(
            failures,
            api_error(
                401,
                "invalid_credentials",
                "The API Key and API Secret do not match an API key.",
                headers=CHALLENGE,
            ),
        )
    return api_key


def _failed(failures: str, response: HttpResponse) -> HttpResponse:
    """A failed authentication, counted for the address first and then judged by the new
    count: `response`, or 429 once the address is over its limit."""
    retry_after = limits.hit(failures, limit=settings.API_AUTH_FAILURE_LIMIT_PER_MINUTE)
    return _too_many_failures(retry_after) if retry_after is not None else response


def _refusal(
    api_key: ApiKey, ip: str | None, failures: str, permission: KeyPermission
) -> HttpResponse | None:
    """Step 2: why this known key may not be used now, or None. One cache round trip for
    both limits: count this key's request, read the address's failures (an address over its
    failure limit is refused even with a correct secret). A refusal is counted in the key's
    usage chart, in the cache: no database write here."""
    verdict = limits.key_hit_and_failures(
        f"key:{api_key.pk}",
        key_limit=settings.API_RATE_LIMIT_PER_MINUTE,
        failure_bucket=failures,
        failure_limit=settings.API_AUTH_FAILURE_LIMIT_PER_MINUTE,
    )
    refusal = _judge(api_key, ip, verdict) or _permission_refusal(api_key, permission)
    if refusal is not None:
        usage.refused_count(api_key_id=api_key.pk, status=refusal.status_code)
    return refusal


def _judge(api_key: ApiKey, ip: str | None, verdict: limits.Verdict) -> HttpResponse | None:
    if verdict.failures_retry_after is not None:
        return _too_many_failures(verdict.failures_retry_after)
    if not api_key.is_active:
        return api_error(401, "key_disabled", "This API key is disabled.", headers=CHALLENGE)
    if api_key.is_expired:
        return api_error(401, "key_expired", "This API key has expired.", headers=CHALLENGE)
    if not ip_allowed(api_key, ip):
        return api_error(
            403, "ip_not_allowed", f"This API key cannot be used from {ip or 'this address'}."
        )
    if verdict.key_retry_after is not None:
        return _rate_limited(
            verdict.key_retry_after, "This API key made too many requests this minute."
        )
    return None


def _permission_refusal(api_key: ApiKey, permission: KeyPermission) -> HttpResponse | None:
    if api_key.has_permission(permission):
        return None
    return api_error(
        403,
        "insufficient_permission",
        f"This API key does not have the “{permission.label}” permission ({permission.value}); "
        "an owner or admin can add it on the key's page.",
    )


def _admit(request: HttpRequest, api_key: ApiKey, ip: str | None) -> None:
    """Step 3: record the key's use (at most once a minute) and hand it to the view."""
    _touch(api_key, ip)
    request.api_key = api_key
    request.account = SimpleLazyObject(lambda: api_key.account)
    request.client_ip = ip
