"""The JSON lookup API for call centers (`/api/v1/`), documented by integrations/api/openapi.py.

Plain Django views. Each one: check the method, authenticate the key (integrations/api/auth.py),
validate the parameters, read through the key's scope (integrations/api/services.py), answer
JSON. A facility, unit or lock the key cannot see is the same 404 as one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from automations import engine
from automations.forms import contact_form
from automations.models import EventType, FmsEvent
from davinci.accounts import permissions
from davinci.accounts.permissions import KeyPermission
from davinci.compression import uncompressed
from facilities.models import UNIT_STATUSES, Facility
from integrations.api import openapi, serializers, services
from integrations.api.auth import api_key_required
from integrations.api.errors import api_error, api_response
from integrations.api.idempotency import InvalidBody, idempotent

FACILITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,32}\Z")
SERIAL_PATTERN = re.compile(r"^[A-Z0-9]{8}\Z")
UNIT_NUMBER_PATTERN = re.compile(r"^[^\s/?#]+(?: [^\s/?#]+)*\Z")
UNIT_NUMBER_MAX_LENGTH = 20
Q_MAX_LENGTH = 40
FACILITY_NAME_MAX_LENGTH = Facility._meta.get_field("name").max_length
STATUS_CHOICES = sorted(UNIT_STATUSES)


class InvalidParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


def api_endpoint(
    *, permission: KeyPermission, method: str = "GET"
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Make a view an endpoint of the API that keys holding `permission` may call:

        @api_endpoint(permission=KeyPermission.READ)
        def unit_detail(request, facility_id, unit_number): ...

        @api_endpoint(permission=KeyPermission.RELEASE, method="POST")
        def unit_release(request, facility_id, unit_number): ...  # request.json: the body

    `method` only (405 otherwise), key-authenticated (integrations/api/auth.py: 401, 403
    ip_not_allowed, 429; every request counts against the key's limit), then
    `403 insufficient_permission` for a key without `permission`. A POST is a write: its
    JSON body and Idempotency-Key are handled by `idempotency.idempotent` (415, 413,
    400 invalid_body, replays, 409/422). Public to the session machinery: no login
    redirect, no CSRF check (the key, not a cookie, authenticates). An `InvalidParameter`
    raised by the view is `400 invalid_parameter`; an `InvalidBody`, `400 invalid_body`.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        acting = idempotent(view) if method == "POST" else view
        authenticated = api_key_required(acting, permission=permission)

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != method:
                return _method_not_allowed(request, method)
            try:
                return authenticated(request, *args, **kwargs)
            except InvalidParameter as exc:
                return api_error(400, "invalid_parameter", exc.message)

        wrapper.permission = permission  # what the OpenAPI document's x-permission must say
        return login_not_required(csrf_exempt(wrapper))

    return decorator


def _method_not_allowed(request: HttpRequest, allowed: str = "GET") -> HttpResponse:
    return api_error(
        405,
        "method_not_allowed",
        f"{request.method} is not allowed here; this address only answers {allowed}.",
        headers={"Allow": allowed},
    )


def _printable(value: str) -> bool:
    return all(" " <= char != "\x7f" for char in value)


def _facility_id(value: str) -> str | None:
    """Facility IDs are lower-case letters and digits; accept them typed in capitals."""
    return value.lower() if FACILITY_ID_PATTERN.match(value) else None


def _unit_number(value: str) -> str | None:
    valid = (
        len(value) <= UNIT_NUMBER_MAX_LENGTH
        and _printable(value)
        and UNIT_NUMBER_PATTERN.match(value)
    )
    return value if valid else None


def _serial(value: str) -> str | None:
    """Serials are engraved in capitals; accept them typed in lower case."""
    value = value.upper()
    return value if SERIAL_PATTERN.match(value) else None


def _not_found(message: str) -> JsonResponse:
    return api_error(404, "not_found", message)


FACILITY_NOT_FOUND = "No facility with this Facility ID is available to this API key."


# --- Query parameters --------------------------------------------------------------------


def _status_param(request: HttpRequest) -> str | None:
    status = request.GET.get("status")
    if status is None:
        return None
    if status not in UNIT_STATUSES:  # "" too: the document lists the values, and "" is none
        raise InvalidParameter(
            "status", "status must be one of: " + ", ".join(STATUS_CHOICES) + "."
        )
    return status


def _q_param(request: HttpRequest) -> str:
    q = request.GET.get("q", "").strip()
    if len(q) > Q_MAX_LENGTH or not _printable(q):
        raise InvalidParameter(
            "q", f"q must be at most {Q_MAX_LENGTH} printable characters (a unit number or serial)."
        )
    return q


def _limit_param(request: HttpRequest) -> int:
    raw = request.GET.get("limit")
    if raw is None:
        return services.DEFAULT_PAGE_SIZE  # an empty `limit=` is no number: 400 below
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= services.MAX_PAGE_SIZE:
        raise InvalidParameter(
            "limit", f"limit must be a whole number from 1 to {services.MAX_PAGE_SIZE}."
        )
    return int(raw)


def encode_cursor(after: str | list) -> str:
    raw = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_param(request: HttpRequest, valid: Callable[[Any], bool], name: str = "cursor") -> Any:
    """The `after` of the `cursor` parameter (None without one) when `valid(after)`: a unit
    number for the unit list, [name, Facility ID] for the facility list, [created_at, id]
    for the event feed (whose parameter is `after`)."""
    cursor = request.GET.get(name, "")
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        after = None
    if after is None or not valid(after):
        raise InvalidParameter(
            name, f"{name} is not valid; use the `next` link of the previous page as it is."
        )
    return after


def _unit_cursor(after: Any) -> bool:
    return isinstance(after, str) and _unit_number(after) is not None


def _facility_cursor(after: Any) -> bool:
    return (
        isinstance(after, list)
        and len(after) == 2
        and all(isinstance(part, str) for part in after)
        and len(after[0]) <= FACILITY_NAME_MAX_LENGTH
        and _printable(after[0])
        and _facility_id(after[1]) == after[1]
    )


def _aware_datetime(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _event_cursor(after: Any) -> bool:
    return (
        isinstance(after, list)
        and len(after) == 2
        and _aware_datetime(after[0]) is not None
        and type(after[1]) is int
        and after[1] >= 0
    )


def _types_param(request: HttpRequest) -> list[str]:
    raw = request.GET.get("types")
    if raw is None:
        return list(services.FEED_KINDS)
    types = raw.split(",")
    if not all(kind in services.FEED_KINDS for kind in types):
        raise InvalidParameter(
            "types",
            "types must be a comma-separated list of: " + ", ".join(services.FEED_KINDS) + ".",
        )
    return types


def _updated_since_param(request: HttpRequest) -> datetime | None:
    raw = request.GET.get("updated_since")
    if raw is None:
        return None
    moment = _aware_datetime(raw)
    if moment is None:
        raise InvalidParameter(
            "updated_since",
            "updated_since must be an ISO 8601 date and time with its offset, "
            "e.g. 2026-01-31T12:00:00Z.",
        )
    return moment


# --- Endpoints ---------------------------------------------------------------------------


@api_endpoint(permission=KeyPermission.READ)
def facility_list(request: HttpRequest) -> HttpResponse:
    limit, after = _limit_param(request), _cursor_param(request, _facility_cursor)
    page = services.facility_page(
        api_key=request.api_key, after=tuple(after) if after else None, limit=limit
    )
    next_url = _next_link(request, list(page.next_after) if page.next_after else None)
    return api_response(serializers.facility_page_data(page.facilities, next_url))


@api_endpoint(permission=KeyPermission.READ)
def facility_detail(request: HttpRequest, facility_id: str) -> HttpResponse:
    facility_id = _facility_id(facility_id)
    facility = facility_id and services.facility_in_scope(
        api_key=request.api_key, facility_id=facility_id
    )
    if not facility:
        return _not_found(FACILITY_NOT_FOUND)
    return api_response({"data": serializers.facility_data(facility)})


@api_endpoint(permission=KeyPermission.READ)
def unit_list(request: HttpRequest, facility_id: str) -> HttpResponse:
    status, q, limit, after, updated_since = (
        _status_param(request),
        _q_param(request),
        _limit_param(request),
        _cursor_param(request, _unit_cursor),
        _updated_since_param(request),
    )
    facility_id = _facility_id(facility_id)
    facility = facility_id and services.facility_in_scope(
        api_key=request.api_key, facility_id=facility_id
    )
    if not facility:
        return _not_found(FACILITY_NOT_FOUND)
    page = services.unit_page(
        api_key=request.api_key,
        facility=facility,
        status=status,
        q=q,
        after=after,
        limit=limit,
        updated_since=updated_since,
    )
    next_url = _next_link(request, page.next_after)
    return api_response(serializers.unit_page_data(page.units, next_url))


@api_endpoint(permission=KeyPermission.EVENTS)
def event_list(request: HttpRequest) -> HttpResponse:
    kinds, limit = _types_param(request), _limit_param(request)
    after = _cursor_param(request, _event_cursor, name="after")
    try:
        page = services.event_page(
            api_key=request.api_key,
            after=(_aware_datetime(after[0]), after[1]) if after else None,
            kinds=kinds,
            limit=limit,
        )
    except services.CursorExpired:
        return api_error(410, "cursor_expired", CURSOR_EXPIRED)
    moment, pk = page.next_after
    return api_response(
        serializers.event_page_data(
            page.events,
            _next_link(request, [moment.isoformat(), pk], name="after"),
            retention_months=request.api_key.account.history_retention_months,
            kept_since=page.kept_since.isoformat(),
        )
    )


CURSOR_EXPIRED = (
    "This cursor points before the account's history retention: those events are no longer "
    "kept. Start again without `after` (the oldest event kept)."
)


def _next_link(request: HttpRequest, after: Any, name: str = "cursor") -> str | None:
    if after is None:
        return None
    params = {key: value for key, value in request.GET.items() if key != name}
    params[name] = encode_cursor(after)
    return request.build_absolute_uri(f"{request.path}?{urlencode(params)}")


@api_endpoint(permission=KeyPermission.READ)
@uncompressed  # carries the unlock code (BREACH)
def unit_detail(request: HttpRequest, facility_id: str, unit_number: str) -> HttpResponse:
    facility_id, unit_number = _facility_id(facility_id), _unit_number(unit_number)
    unit = (
        facility_id
        and unit_number
        and services.unit_look_up(
            api_key=request.api_key,
            facility_id=facility_id,
            unit_number=unit_number,
            ip=request.client_ip,
        )
    )
    if not unit:
        return _not_found("No unit with this number in a facility available to this API key.")
    return api_response({"data": serializers.unit_data(unit)})


@api_endpoint(permission=KeyPermission.READ)
@uncompressed  # carries the unlock code (BREACH)
def lock_detail(request: HttpRequest, facility_id: str, serial: str) -> HttpResponse:
    facility_id, serial = _facility_id(facility_id), _serial(serial)
    lock = (
        facility_id
        and serial
        and services.lock_look_up(
            api_key=request.api_key, facility_id=facility_id, serial=serial, ip=request.client_ip
        )
    )
    if not lock:
        return _not_found("No lock with this serial in a facility available to this API key.")
    return api_response({"data": serializers.lock_data(lock)})


# --- Writes (POST: JSON body and Idempotency-Key, integrations/api/idempotency.py) --------


RELEASE_FIELDS = frozenset({"notify_tenant"})
STATUS_FIELDS = frozenset({"status"})
SETTABLE_STATUSES = sorted(permissions.CALL_CENTER_SETS)


def _only_fields(body: dict[str, Any], fields: frozenset[str]) -> None:
    for name in body:
        if name not in fields:
            expected = ", ".join(sorted(fields))
            raise InvalidBody(name, f"{name} is not a field here; send {expected}.")


def _invalid_transition(exc: services.InvalidTransition) -> JsonResponse:
    return api_error(409, "invalid_transition", exc.message)


@api_endpoint(permission=KeyPermission.RELEASE, method="POST")
@uncompressed  # may carry the unlock code (BREACH)
def unit_release(request: HttpRequest, facility_id: str, unit_number: str) -> HttpResponse:
    _only_fields(request.json, RELEASE_FIELDS)
    notify = request.json.get("notify_tenant", True)
    if not isinstance(notify, bool):
        raise InvalidBody("notify_tenant", "notify_tenant must be true or false.")
    facility_id, unit_number = _facility_id(facility_id), _unit_number(unit_number)
    unit = (
        facility_id
        and unit_number
        and services.unit_with_lock(
            api_key=request.api_key, facility_id=facility_id, unit_number=unit_number
        )
    )
    if not unit:
        return _not_found("No unit with this number in a facility available to this API key.")
    try:
        done = services.unit_release(
            api_key=request.api_key, unit=unit, notify_tenant=notify, ip=request.client_ip
        )
    except services.InvalidTransition as exc:
        return _invalid_transition(exc)
    with_code = request.api_key.has_permission(KeyPermission.READ)
    response = api_response(
        serializers.release_data(
            done.unit,
            with_code=with_code,
            requested=notify,
            channels=done.notice_channels,
            not_sent=done.notice_not_sent,
        )
    )
    response.disclosed_lock = done.unit.lock if with_code else None
    return response


@api_endpoint(permission=KeyPermission.SET_STATUS, method="POST")
@uncompressed  # may carry the unlock code (BREACH)
def lock_status(request: HttpRequest, facility_id: str, serial: str) -> HttpResponse:
    _only_fields(request.json, STATUS_FIELDS)
    status = request.json.get("status")
    if status not in permissions.CALL_CENTER_SETS:
        raise InvalidBody("status", "status must be one of: " + ", ".join(SETTABLE_STATUSES) + ".")
    facility_id, serial = _facility_id(facility_id), _serial(serial)
    lock = (
        facility_id
        and serial
        and services.lock_in_scope(api_key=request.api_key, facility_id=facility_id, serial=serial)
    )
    if not lock:
        return _not_found("No lock with this serial in a facility available to this API key.")
    try:
        lock = services.lock_status_set(
            api_key=request.api_key, lock=lock, status=status, ip=request.client_ip
        )
    except services.InvalidTransition as exc:
        return _invalid_transition(exc)
    with_code = request.api_key.has_permission(KeyPermission.READ)
    response = api_response(serializers.lock_status_data(lock, with_code=with_code))
    disclosed = with_code and permissions.key_can_view_code(lock.status)
    response.disclosed_lock = lock if disclosed else None
    return response


# --- The FMS feed (Automations) ----------------------------------------------------------

EVENT_BODY_FIELDS = {"type", "occurred_at", "reference", "contact"}
CONTACT_FIELDS = ("tenant_name", "tenant_email", "tenant_phone")
REFERENCE_MAX_LENGTH = FmsEvent._meta.get_field("reference").max_length


def _occurred_at(value: Any) -> dt.datetime:
    moment = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or timezone.is_naive(moment):
        raise InvalidBody(
            "occurred_at",
            "occurred_at must be a date and time with its offset, such as 2026-03-02T09:30:00Z.",
        )
    if moment > timezone.now() + dt.timedelta(days=1):
        raise InvalidBody("occurred_at", "occurred_at must not be in the future.")
    return moment


def _contact(value: Any, event_type: str, unit) -> engine.Contact | None:
    """A move-in's new tenant, checked as the portal's unit form checks a person's edit."""
    if value is None:
        return None
    if event_type != EventType.MOVE_IN:
        raise InvalidBody("contact", "contact is only accepted with a move_in.")
    if not isinstance(value, dict) or set(value) - set(CONTACT_FIELDS):
        raise InvalidBody("contact", "contact must be an object of " + ", ".join(CONTACT_FIELDS))
    if not all(isinstance(value.get(name, ""), str) for name in CONTACT_FIELDS):
        raise InvalidBody("contact", "contact: each of its fields must be a string.")
    form = contact_form(unit, value)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise InvalidBody(f"contact.{name}", f"contact.{name}: {' '.join(errors)}")
    return engine.Contact(**{name: form.cleaned_data[name] for name in CONTACT_FIELDS})


def _event_fields(body: dict, unit) -> dict[str, Any]:
    unknown = sorted(set(body) - EVENT_BODY_FIELDS)
    if unknown:
        raise InvalidBody(unknown[0], f"{unknown[0]} is not a field of an event.")
    event_type = body.get("type")
    if event_type not in EventType.values:
        raise InvalidBody("type", "type must be one of: " + ", ".join(EventType.values) + ".")
    reference = body.get("reference", "")
    if not isinstance(reference, str) or len(reference) > REFERENCE_MAX_LENGTH:
        raise InvalidBody(
            "reference", f"reference must be text of at most {REFERENCE_MAX_LENGTH} characters."
        )
    return {
        "type": event_type,
        "occurred_at": _occurred_at(body.get("occurred_at")),
        "reference": reference,
        "contact": _contact(body.get("contact"), event_type, unit),
    }


@api_endpoint(permission=KeyPermission.FMS_EVENTS, method="POST")
def unit_event_create(request: HttpRequest, facility_id: str, unit_number: str) -> HttpResponse:
    """An event of the facility software for a unit: recorded, and the account's automation
    rules run on it (automations/engine.py). 202 whatever the rules did (`runs` says)."""
    facility_id, unit_number = _facility_id(facility_id), _unit_number(unit_number)
    unit = (
        facility_id
        and unit_number
        and services.unit_in_scope(
            api_key=request.api_key, facility_id=facility_id, unit_number=unit_number
        )
    )
    if not unit:
        return _not_found("No unit with this number in a facility available to this API key.")
    fields = _event_fields(request.json, unit)
    event = engine.fms_event_receive(unit=unit, api_key=request.api_key, **fields)
    return api_response({"data": serializers.fms_event_data(event)}, status=202)


# --- Documentation and the rest of /api/ --------------------------------------------------


@login_not_required
@csrf_exempt
def openapi_json(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed(request)
    return HttpResponse(
        openapi.document_json(),
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@login_not_required
@csrf_exempt
def docs(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed(request)
    base_url = request.build_absolute_uri(openapi.SERVER_URL)
    return render(request, "api/docs.html", openapi.docs_context(base_url=base_url))


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every other address under /api/: a JSON 404, with a hint for a missing slash."""
    message = "There is no API endpoint at this address. See /api/docs/."
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message = f"API paths end with a slash: {request.path}/"
    return _not_found(message)
