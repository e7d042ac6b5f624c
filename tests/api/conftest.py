"""The cast of the lookup-API tests: one account with facilities, units and locks in and out
of a key's scope, another account beside it, and a client that speaks with API keys."""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from facilities.models import Facility, Lock, LockStatus, Unit
from integrations.models import ApiKey
from tests.factories import ApiKeyFactory, FacilityFactory, LockFactory, UnitFactory, assigned_lock


@dataclass
class World:
    facility: Facility  # Harbor Downtown: the usual target
    unit: Unit
    lock: Lock  # on `unit`, Assigned Overlock
    sibling: Facility  # another facility of the same account
    sibling_unit: Unit
    sibling_lock: Lock
    excluded: Facility  # same account, Include in API off
    excluded_unit: Unit
    excluded_lock: Lock
    rival: Facility  # another account's facility
    rival_unit: Unit
    rival_lock: Lock
    key: ApiKey  # All Facilities key of the account


def _facility_with_lock(account, name: str, prefix: str, **kwargs) -> tuple:
    facility = FacilityFactory(account=account, name=name, **kwargs)
    unit = UnitFactory(facility=facility, unit_number="A101")
    lock = assigned_lock(unit, serial=f"{prefix}000001", code="1234")
    return facility, unit, lock


@pytest.fixture
def world(account, other_account) -> World:
    facility, unit, lock = _facility_with_lock(account, "Harbor Downtown", "HD")
    sibling, sibling_unit, sibling_lock = _facility_with_lock(account, "Harbor Eastside", "HE")
    excluded, excluded_unit, excluded_lock = _facility_with_lock(
        account, "Harbor Airport", "HA", include_in_api=False
    )
    rival, rival_unit, rival_lock = _facility_with_lock(other_account, "Rival North", "RN")
    return World(
        facility=facility,
        unit=unit,
        lock=lock,
        sibling=sibling,
        sibling_unit=sibling_unit,
        sibling_lock=sibling_lock,
        excluded=excluded,
        excluded_unit=excluded_unit,
        excluded_lock=excluded_lock,
        rival=rival,
        rival_unit=rival_unit,
        rival_lock=rival_lock,
        key=ApiKeyFactory(account=account),
    )


def key_headers(key: ApiKey, secret: str | None = None) -> dict[str, str]:
    return {
        "HTTP_X_API_KEY": key.api_key,
        "HTTP_X_API_SECRET": secret if secret is not None else key.plain_secret,
    }


def basic_headers(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


class ApiClient(Client):
    """A test client whose responses must be JSON; `.call(url, key)` adds the key."""

    def call(self, url: str, key: ApiKey | None = None, method: str = "get", **extra: Any):
        headers = key_headers(key) if key is not None else {}
        response = getattr(self, method)(url, **headers, **extra)
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        response.data = json.loads(response.content)
        return response


@pytest.fixture
def api() -> ApiClient:
    return ApiClient(raise_request_exception=False)


def error_code(response) -> str:
    return response.data["error"]["code"]


def lock_in(facility: Facility, number: str, status: LockStatus, serial: str) -> Lock:
    unit = UnitFactory(facility=facility, unit_number=number)
    return (
        assigned_lock(unit, status, serial=serial)
        if status != LockStatus.AVAILABLE
        else LockFactory(facility=facility, serial=serial)
    )


def fail_to_record(monkeypatch, error: Exception) -> None:
    """Make writing a lookup's LockEvent fail, on whichever path the database takes: the ORM's
    insert (SQLite), or the PostgreSQL statement coming back without its record."""
    from django.db import connection

    from integrations.api import services, statements

    if connection.vendor != "postgresql":

        def refuse(**kwargs):
            raise error

        monkeypatch.setattr(services, "lock_event_record", refuse)
        return
    real = statements.read_and_record

    def unrecorded(**kwargs):
        hit = real(**kwargs)
        return hit and dataclasses.replace(hit, recorded=False)

    monkeypatch.setattr(statements, "read_and_record", unrecorded)
