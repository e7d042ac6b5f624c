"""Key permissions: every endpoint names the one it needs, and a key without it is refused
with `403 insufficient_permission` before anything is read; a new key may only read."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import get_resolver

from facilities.models import LockEvent
from integrations.api.openapi import SERVER_URL
from integrations.models import ApiKey
from tests.api.conftest import error_code
from tests.api.test_auth_matrix import ENDPOINTS
from tests.factories import ApiKeyFactory


def _target(world) -> dict:
    return {
        "facility_id": world.facility.facility_id,
        "unit_number": world.unit.unit_number,
        "serial": world.lock.serial,
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_key_without_read_cannot_look_anything_up(world, api, endpoint):
    key = ApiKeyFactory(account=world.facility.account, permissions=["release", "set_status"])
    response = api.call(ENDPOINTS[endpoint](_target(world)), key)
    assert (response.status_code, error_code(response)) == (403, "insufficient_permission")
    assert "read" in response.data["error"]["message"]
    assert "1234" not in response.content.decode()
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).exists()


def test_a_key_with_read_looks_up(world, api):
    key = ApiKeyFactory(account=world.facility.account, permissions=["read"])
    response = api.call(ENDPOINTS["unit_detail"](_target(world)), key)
    assert response.status_code == 200
    assert response.data["data"]["lock"]["unlock_code"] == "1234"


def test_the_permission_refusal_comes_after_the_key_is_known(world, api):
    """A wrong secret is still 401, a disabled key still 401: permissions are asked last."""
    key = ApiKeyFactory(account=world.facility.account, permissions=[], is_active=False)
    response = api.call(ENDPOINTS["unit_detail"](_target(world)), key)
    assert (response.status_code, error_code(response)) == (401, "key_disabled")


@pytest.mark.django_db
def test_a_new_key_may_only_read(account):
    key = ApiKey(account=account, name="New")
    assert key.permissions == ["read"]


@pytest.mark.django_db
def test_a_key_stores_only_known_permissions(account):
    key = ApiKeyFactory(account=account, permissions=["read", "write"])
    with pytest.raises(ValidationError) as caught:
        key.full_clean()
    assert "permissions" in caught.value.message_dict


def test_the_document_names_the_permission_each_operation_needs(api, db):
    document = json.loads(api.get("/api/v1/openapi.json").content)
    (api_patterns,) = [p for p in get_resolver().url_patterns if str(p.pattern) == "api/"]
    checked = 0
    for pattern in api_patterns.url_patterns:
        permission = getattr(pattern.callback, "permission", None)
        if permission is None:
            continue
        path = "/api/" + str(pattern.pattern).replace("<str:", "{").replace(">", "}")
        for operation in document["paths"][path.removeprefix(SERVER_URL)].values():
            assert operation["x-permission"] == permission.value
            assert f"`{permission.value}`" in operation["description"]
            checked += 1
    assert checked >= 5
