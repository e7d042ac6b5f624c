"""Every POST of the API: a JSON body and an Idempotency-Key, so a retried write acts once.

`api_endpoint(method="POST", ...)` (integrations/api/views.py) wraps each write in
`idempotent`, after the key is authenticated and its permission checked. In this order:

1. `Idempotency-Key` header: 1 to 255 printable ASCII characters, else `400
   idempotency_key_required` (missing or empty) or `400 idempotency_key_invalid`.
2. The body: `Content-Type: application/json` (`415 unsupported_media_type`), at most
   MAX_BODY_BYTES (`413 request_too_large`), a JSON object (`400 invalid_body`). The view
   reads it as `request.json`.
3. The claim: INSERT of an IdempotencyKey row, unique per (API key, Idempotency-Key). Only
   the request whose INSERT succeeds acts; the database decides, not a check-then-insert.
   Another request with the same Idempotency-Key finds the row and gets:
   - the stored answer, byte for byte, with `Idempotent-Replayed: true`, when it asked the
     same thing (same method, path and JSON body);
   - `422 idempotency_key_reused` when it asked something else;
   - `409 idempotency_key_in_use` (Retry-After: 1) while the first one is still acting. It
     does not wait: retrying a second later replays the answer.
4. The view runs. What is stored is the answer of an endpoint that ran: 2xx, and 4xx such as
   `404 not_found` or `409 invalid_transition`, which stay true for this request. Not stored,
   so the same Idempotency-Key can be used again after fixing the request: everything
   answered before the claim (401, 403, 413, 415, 429, the 400s above), a view's
   `400 invalid_body` (raise `InvalidBody`), and a failure: an exception or a 5xx releases
   the claim (the row is deleted) and goes on as before (a 500, or 503 for a database down).

Answers are kept IDEMPOTENCY_TTL (24 h), encrypted (an answer may carry an unlock code);
`idempotency_keys_expire` deletes older rows (beat, hourly). A claim whose request died
without answering (a killed worker) is given up after ABANDONED_CLAIM.

A view whose answer gives out a lock's code sets `response.disclosed_lock = lock`: every
replay of that answer is recorded as another read of the code (a LockEvent naming the key).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from davinci import crypto
from facilities.history import Actor, lock_event_by
from facilities.models import LockEvent
from integrations.api.errors import api_error
from integrations.models import IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)
ABANDONED_CLAIM = timedelta(minutes=2)
MAX_BODY_BYTES = 16 * 1024
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x20-\x7e]{1,255}\Z")
REPLAYED_HEADER = "Idempotent-Replayed"


class InvalidBody(Exception):
    """Raised by a write's view for a field of the body it cannot accept: `400 invalid_body`
    with the message (which names the field), and the Idempotency-Key stays free."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The write's JSON body and its Idempotency-Key, as the module's docstring says. Needs
    `request.api_key` (the API key decorator runs first)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        refusal = _key_refusal(key)
        if refusal is None:
            body = _body(request)
            if isinstance(body, HttpResponse):
                return body
            claim = _claim(request, key, _fingerprint(request, body))
            if isinstance(claim, HttpResponse):
                return claim
            request.json = body
            return _act(claim, view, request, *args, **kwargs)
        return refusal

    return wrapper


def _key_refusal(key: str | None) -> HttpResponse | None:
    if not key:
        return api_error(
            400,
            "idempotency_key_required",
            "Every POST needs an Idempotency-Key header: a value of your own, new for each "
            "write (a UUID will do), sent again when you retry that write.",
        )
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        return api_error(
            400,
            "idempotency_key_invalid",
            f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII "
            "characters.",
        )
    return None


def _body(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """The JSON object the request carries, or the answer refusing it."""
    if request.content_type != "application/json":
        return api_error(
            415,
            "unsupported_media_type",
            "Send the body as JSON with the header Content-Type: application/json.",
        )
    too_large = api_error(
        413, "request_too_large", f"The body must be at most {MAX_BODY_BYTES} bytes."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return too_large
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return api_error(400, "invalid_body", "The body must be a JSON object, such as {}.")
    return body


def _fingerprint(request: HttpRequest, body: dict[str, Any]) -> str:
    """What the request asks: its method, path and body (keys in any order)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _claim(request: HttpRequest, key: str, fingerprint: str) -> IdempotencyKey | HttpResponse:
    """The new row that lets this request act, or the answer for a key already used."""
    api_key = request.api_key
    for _ in range(3):  # a row that ends meanwhile (released, expired) is claimed again
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    api_key=api_key,
                    key=key,
                    fingerprint=fingerprint,
                    expires_at=now + IDEMPOTENCY_TTL,
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(api_key=api_key, key=key).first()
        if existing is None:
            continue
        if existing.expires_at <= now or (
            existing.status is None and existing.created_at <= now - ABANDONED_CLAIM
        ):
            # Over: deleted on its exact state, so of two requests only one deletes it.
            IdempotencyKey.objects.filter(
                pk=existing.pk, status=existing.status, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            return api_error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for another request (a different path or body) "
                "in the last 24 hours: use a new one for a new write.",
            )
        if existing.status is None:
            break
        return _replay(existing, Actor.for_api_key(api_key, ip=request.client_ip))
    return api_error(
        409,
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still being handled; retry in a second to "
        "get its answer.",
        headers={"Retry-After": "1"},
    )


def _act(
    claim: IdempotencyKey, view: Callable[..., HttpResponse], request: HttpRequest, *args, **kwargs
) -> HttpResponse:
    try:
        response = view(request, *args, **kwargs)
    except InvalidBody as exc:
        _release(claim)
        return api_error(400, "invalid_body", exc.message)
    except BaseException:
        _release(claim)
        raise
    if response.status_code >= 500 or response.streaming:
        _release(claim)
        return response
    lock = getattr(response, "disclosed_lock", None)
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        status=response.status_code,
        content_type=response["Content-Type"],
        response_encrypted=crypto.encrypt_bytes(response.content),
        disclosed_lock=lock.pk if lock is not None else None,
    )
    return response


def _release(claim: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=claim.pk, status__isnull=True).delete()


def _replay(stored: IdempotencyKey, actor: Actor) -> HttpResponse:
    if stored.disclosed_lock_id is not None:
        _record_replay(stored, actor)
    response = HttpResponse(
        crypto.decrypt_bytes(stored.response_encrypted),
        status=stored.status,
        content_type=stored.content_type,
    )
    response["Cache-Control"] = "no-store"
    response[REPLAYED_HEADER] = "true"
    return response


def _record_replay(stored: IdempotencyKey, actor: Actor) -> None:
    lock = stored.disclosed_lock
    lock_event_by(
        actor,
        lock=lock,
        kind=LockEvent.Kind.CODE_LOOKED_UP,
        unit=lock.unit,
        details={"lookup": "replay", "facility_id": lock.facility.facility_id},
    )


def idempotency_keys_expire() -> int:
    """Delete the answers past their 24 hours (beat, hourly); the number deleted."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
