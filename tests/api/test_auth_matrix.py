"""Acceptance 1: every endpoint by every way a request can be refused or scoped out, with the
exact status and error code, and nothing outside the key's scope ever in an answer. The
writes (POST) by the same cases, plus their permission and the rate limits (issue 23's
acceptance 4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from facilities.models import LockEvent
from integrations.api import limits as ratelimit
from integrations.models import ApiKey
from integrations.secrets import generate_api_key, generate_api_secret, secret_digest
from tests.api.conftest import World, basic_headers, error_code, key_headers
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock

ENDPOINTS: dict[str, Callable[[dict], str]] = {
    "facility_list": lambda t: "/api/v1/facilities/",
    "facility_detail": lambda t: f"/api/v1/facilities/{t['facility_id']}/",
    "unit_list": lambda t: f"/api/v1/facilities/{t['facility_id']}/units/",
    "unit_detail": lambda t: f"/api/v1/facilities/{t['facility_id']}/units/{t['unit_number']}/",
    "lock_detail": lambda t: f"/api/v1/facilities/{t['facility_id']}/locks/{t['serial']}/",
}


@dataclass
class Setup:
    headers: dict[str, str]
    facility: object  # the facility the request names
    unit: object
    lock: object
    extra: dict[str, str] = field(default_factory=dict)
    invisible: list = field(default_factory=list)  # facilities the key must never see


def _target(setup: Setup) -> dict:
    return {
        "facility_id": setup.facility.facility_id,
        "unit_number": setup.unit.unit_number,
        "serial": setup.lock.serial,
    }


def _own(world: World, headers: dict[str, str], **extra: str) -> Setup:
    return Setup(
        headers, world.facility, world.unit, world.lock, extra, [world.rival, world.excluded]
    )


def _key(world: World, **kwargs):
    return ApiKeyFactory(account=world.facility.account, **kwargs)


# Each case: how to build the request, and the answer every endpoint must give.
# ("refused", status, code): the same refusal from every endpoint.
# ("out_of_scope",): the list leaves the facility out; every other endpoint says not_found.
# ("in_scope",): every endpoint answers 200 with the facility.
CASES: dict[str, tuple[Callable[[World], Setup], tuple]] = {
    "no_credentials": (lambda w: _own(w, {}), ("refused", 401, "missing_credentials")),
    "only_key_header": (
        lambda w: _own(w, {"HTTP_X_API_KEY": w.key.api_key}),
        ("refused", 401, "missing_credentials"),
    ),
    "wrong_secret": (
        lambda w: _own(w, key_headers(w.key, generate_api_secret())),
        ("refused", 401, "invalid_credentials"),
    ),
    "malformed_basic_header": (
        lambda w: _own(w, {"HTTP_AUTHORIZATION": "Basic %%%not-base64%%%"}),
        ("refused", 401, "invalid_credentials"),
    ),
    "malformed_key_header": (
        lambda w: _own(w, key_headers(w.key) | {"HTTP_X_API_KEY": "dvk_short; DROP TABLE"}),
        ("refused", 401, "invalid_credentials"),
    ),
    "unsupported_scheme": (
        lambda w: _own(w, {"HTTP_AUTHORIZATION": f"Bearer {w.key.plain_secret}"}),
        ("refused", 401, "invalid_credentials"),
    ),
    "unknown_key": (
        lambda w: _own(w, {"HTTP_X_API_KEY": generate_api_key(), "HTTP_X_API_SECRET": "x"}),
        ("refused", 401, "invalid_credentials"),
    ),
    "unknown_key_valid_looking_secret": (
        lambda w: _own(w, basic_headers(generate_api_key(), w.key.plain_secret)),
        ("refused", 401, "invalid_credentials"),
    ),
    "disabled_key": (
        lambda w: _own(w, key_headers(_key(w, is_active=False))),
        ("refused", 401, "key_disabled"),
    ),
    "expired_key": (
        lambda w: _own(w, key_headers(_key(w, expires_at=timezone.now() - timedelta(seconds=1)))),
        ("refused", 401, "key_expired"),
    ),
    "outside_allowed_ips": (
        lambda w: _own(
            w,
            key_headers(_key(w, allowed_ips=["10.0.0.0/8", "2001:db8::/32"])),
            REMOTE_ADDR="192.0.2.10",
        ),
        ("refused", 403, "ip_not_allowed"),
    ),
    "deleted_key": (
        lambda w: _own(w, key_headers(_key(w, deleted_at=timezone.now(), is_active=False))),
        ("refused", 401, "invalid_credentials"),
    ),
    "rolled_out_secret": (
        lambda w: _own(w, key_headers(_rolled(w, grace_left=timedelta(seconds=-1)))),
        ("refused", 401, "invalid_credentials"),
    ),
    "key_of_another_account": (
        lambda w: Setup(
            key_headers(ApiKeyFactory(account=w.rival.account)),
            w.facility,
            w.unit,
            w.lock,
            invisible=[w.facility, w.sibling, w.excluded],
        ),
        ("out_of_scope",),
    ),
    "key_scoped_to_another_facility": (
        lambda w: Setup(
            key_headers(_key(w, facilities=[w.sibling])),
            w.facility,
            w.unit,
            w.lock,
            invisible=[w.facility, w.excluded, w.rival],
        ),
        ("out_of_scope",),
    ),
    "facility_excluded_from_api": (
        lambda w: Setup(
            key_headers(w.key),
            w.excluded,
            w.excluded_unit,
            w.excluded_lock,
            invisible=[w.excluded, w.rival],
        ),
        ("out_of_scope",),
    ),
    "chosen_facility_excluded_from_api": (
        lambda w: Setup(
            key_headers(_key(w, facilities=[w.excluded, w.facility])),
            w.excluded,
            w.excluded_unit,
            w.excluded_lock,
            invisible=[w.excluded, w.sibling, w.rival],
        ),
        ("out_of_scope",),
    ),
    "all_facilities_key_sees_facility_created_later": (
        lambda w: _created_later(w),
        ("in_scope",),
    ),
    "happy_path": (lambda w: _own(w, key_headers(w.key)), ("in_scope",)),
    "happy_path_basic_auth": (
        lambda w: _own(w, basic_headers(w.key.api_key, w.key.plain_secret)),
        ("in_scope",),
    ),
    "rolled_secret_in_grace_period": (
        lambda w: _own(w, key_headers(_rolled(w, grace_left=timedelta(hours=1)))),
        ("in_scope",),
    ),
    "inside_allowed_ips": (
        lambda w: _own(
            w, key_headers(_key(w, allowed_ips=["192.0.2.0/24"])), REMOTE_ADDR="192.0.2.10"
        ),
        ("in_scope",),
    ),
}


def _rolled(world: World, *, grace_left: timedelta):
    """A key whose secret was rolled, holding the *previous* secret in `plain_secret`."""
    old, new = generate_api_secret(), generate_api_secret()
    key = _key(world, secret=new)
    key.previous_secret_digest = secret_digest(old)
    key.previous_secret_expires_at = timezone.now() + grace_left
    key.save()
    key.plain_secret = old
    return key


def _created_later(world: World) -> Setup:
    key = world.key  # created before the facility
    facility = FacilityFactory(account=world.facility.account, name="Harbor New")
    unit = UnitFactory(facility=facility, unit_number="N001")
    lock = assigned_lock(unit, serial="HN000001")
    return Setup(key_headers(key), facility, unit, lock, invisible=[world.rival, world.excluded])


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_answers_case(world, api, endpoint, case):
    build, expected = CASES[case]
    setup = build(world)
    events_before = LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count()
    target = _target(setup)
    response = api.call(ENDPOINTS[endpoint](target), **setup.headers, **setup.extra)

    if expected[0] == "refused":
        _, status, code = expected
        assert (response.status_code, error_code(response)) == (status, code)
        if status == 401:
            assert response["WWW-Authenticate"].startswith("Basic ")
    elif expected[0] == "out_of_scope":
        if endpoint == "facility_list":
            assert response.status_code == 200
            returned = {f["facility_id"] for f in response.data["data"]}
            assert target["facility_id"] not in returned
        else:
            assert response.status_code == 404
            # Byte for byte what a facility that never existed gets: scope cannot be probed.
            missing = api.call(
                ENDPOINTS[endpoint](target | {"facility_id": "doesnotexist0000"}),
                **setup.headers,
                **setup.extra,
            )
            assert missing.status_code == 404
            assert response.content == missing.content
            assert error_code(response) == "not_found"
    else:
        assert response.status_code == 200, response.data
        _assert_answer_is_target(endpoint, response.data, target)

    # Whatever the answer, nothing of a facility outside the key's scope is in it.
    body = response.content.decode()
    for outsider in setup.invisible:
        assert outsider.facility_id not in body
        assert outsider.name not in body
    if expected[0] != "in_scope" or endpoint not in {"unit_detail", "lock_detail"}:
        assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count() == (
            events_before
        )
        assert "1234" not in body  # every lock of the world has this code


def _assert_answer_is_target(endpoint: str, data: dict, target: dict) -> None:
    if endpoint == "facility_list":
        assert target["facility_id"] in {f["facility_id"] for f in data["data"]}
    elif endpoint == "facility_detail":
        assert data["data"]["facility_id"] == target["facility_id"]
    elif endpoint == "unit_list":
        assert [u["unit_number"] for u in data["data"]] == [target["unit_number"]]
    elif endpoint == "unit_detail":
        assert data["data"]["unit_number"] == target["unit_number"]
        assert data["data"]["lock"]["serial"] == target["serial"]
        assert data["data"]["lock"]["unlock_code"] is not None
    else:
        assert data["data"]["serial"] == target["serial"]
        assert data["data"]["unlock_code"] is not None


# --- the writes: every case above, by POST -----------------------------------------------------
# Scope, disabled, expired, the IP allowlist and the rest refuse a write exactly as they refuse
# a read; a refused write changes nothing and records nothing.

WRITES: dict[str, tuple[Callable[[dict], str], dict]] = {
    "unit_release": (
        lambda t: f"/api/v1/facilities/{t['facility_id']}/units/{t['unit_number']}/release/",
        {"notify_tenant": False},
    ),
    "lock_status": (
        lambda t: f"/api/v1/facilities/{t['facility_id']}/locks/{t['serial']}/status/",
        {"status": "tenant_using_lock"},
    ),
}
WRITE_PERMISSIONS = ["read", "release", "set_status"]


def _post(api, url: str, body: dict, setup: Setup, idempotency_key: str):
    return api.call(
        url,
        method="post",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
        **setup.headers,
        **setup.extra,
    )


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("case", CASES)
def test_write_answers_case(world, api, write, case):
    build, expected = CASES[case]
    setup = build(world)
    # Every key of the world may write: what refuses the request is the case, not permissions.
    ApiKey.objects.update(permissions=WRITE_PERMISSIONS)
    url, body = WRITES[write]
    target = _target(setup)
    status_before = setup.lock.status
    response = _post(api, url(target), body, setup, "matrix-1")

    if expected[0] == "refused":
        _, status, code = expected
        assert (response.status_code, error_code(response)) == (status, code)
        if status == 401:
            assert response["WWW-Authenticate"].startswith("Basic ")
    elif expected[0] == "out_of_scope":
        assert response.status_code == 404
        missing = _post(
            api, url(target | {"facility_id": "doesnotexist0000"}), body, setup, "matrix-2"
        )
        assert missing.status_code == 404
        assert response.content == missing.content
        assert error_code(response) == "not_found"
    else:
        assert response.status_code == 200, response.data
        data = response.data["data"]
        lock = data["lock"] if write == "unit_release" else data
        assert lock["serial"] == target["serial"]
        assert lock["status"] == (
            "returned_to_dropbox" if write == "unit_release" else "tenant_using_lock"
        )

    body_text = response.content.decode()
    for outsider in setup.invisible:
        assert outsider.facility_id not in body_text
        assert outsider.name not in body_text
    setup.lock.refresh_from_db()
    changes = LockEvent.objects.exclude(kind=LockEvent.Kind.CODE_LOOKED_UP)
    if expected[0] == "in_scope":
        assert changes.filter(lock=setup.lock, api_key__isnull=False).count() == 1
    else:
        assert setup.lock.status == status_before
        assert not changes.filter(api_key__isnull=False).exists()
        assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()
        assert "1234" not in body_text


@pytest.mark.parametrize("write", WRITES)
def test_a_write_outside_the_keys_permissions_is_refused_and_changes_nothing(world, api, write):
    url, body = WRITES[write]
    setup = _own(world, key_headers(_key(world, permissions=["read"])))
    response = _post(api, url(_target(setup)), body, setup, "matrix-1")
    assert (response.status_code, error_code(response)) == (403, "insufficient_permission")
    needed = "release" if write == "unit_release" else "set_status"
    assert needed in response.data["error"]["message"]
    world.lock.refresh_from_db()
    assert world.lock.status == "assigned_overlock"
    assert not LockEvent.objects.filter(api_key__isnull=False).exists()


@override_settings(API_RATE_LIMIT_PER_MINUTE=3)
@pytest.mark.parametrize("write", WRITES)
def test_writes_count_against_the_keys_limit_as_reads_do(world, api, write, monkeypatch):
    now = 1_700_000_000 // 60 * 60 + 10.0
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    key = _key(world, permissions=WRITE_PERMISSIONS)
    setup = _own(world, key_headers(key))
    url, body = WRITES[write]
    assert api.call(ENDPOINTS["facility_list"](_target(setup)), key).status_code == 200
    assert _post(api, url(_target(setup)), body, setup, "limit-1").status_code == 200
    # A replay is a request too.
    assert _post(api, url(_target(setup)), body, setup, "limit-1").status_code == 200
    refused = _post(api, url(_target(setup)), body, setup, "limit-2")
    assert (refused.status_code, error_code(refused)) == (429, "rate_limited")
    assert refused["Retry-After"] == "50"
    assert api.call(ENDPOINTS["facility_list"](_target(setup)), key).status_code == 429
    assert LockEvent.objects.exclude(kind=LockEvent.Kind.CODE_LOOKED_UP).filter(
        api_key=key
    ).count() == (1)


@override_settings(API_AUTH_FAILURE_LIMIT_PER_MINUTE=2)
@pytest.mark.parametrize("write", WRITES)
def test_failed_authentications_pause_the_ip_for_writes_too(world, api, write):
    key = _key(world, permissions=WRITE_PERMISSIONS)
    url, body = WRITES[write]
    wrong = _own(world, key_headers(key, generate_api_secret()), REMOTE_ADDR="192.0.2.66")
    for n in range(2):
        response = _post(api, url(_target(wrong)), body, wrong, f"pause-{n}")
        assert error_code(response) == "invalid_credentials"
    right = _own(world, key_headers(key), REMOTE_ADDR="192.0.2.66")
    response = _post(api, url(_target(right)), body, right, "pause-right")
    assert (response.status_code, error_code(response)) == (429, "rate_limited")
    world.lock.refresh_from_db()
    assert world.lock.status == "assigned_overlock"
