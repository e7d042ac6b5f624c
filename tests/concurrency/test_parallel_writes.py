"""Issue 23, acceptance 3: parallel releases of one unit through the live server. With 20
Idempotency-Keys exactly one acts (the lock's row lock), the others are 409
invalid_transition; with one Idempotency-Key exactly one acts (the claim's unique INSERT),
the others get its answer replayed or 409 idempotency_key_in_use. PostgreSQL only: SQLite
serialises every writer, so nothing would run at once."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
from django.db import connection

from facilities.models import LockEvent
from tests.concurrency.conftest import at_once
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, assigned_lock

PARALLEL = 20


@pytest.fixture
def target(live, account):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): concurrent writers")
    facility = FacilityFactory(account=account, name="Harbor Downtown")
    unit = UnitFactory(facility=facility, unit_number="A101")
    lock = assigned_lock(unit, serial="HD000001", code="1234")
    key = ApiKeyFactory(account=account, permissions=["read", "release"])
    url = f"{live.url}/api/v1/facilities/{facility.facility_id}/units/A101/release/"
    return url, key, lock


def _release(url, key, idempotency_key):
    def call():
        return requests.post(
            url,
            data=json.dumps({"notify_tenant": False}),
            headers={
                "Content-Type": "application/json",
                "X-API-Key": key.api_key,
                "X-API-Secret": key.plain_secret,
                "Idempotency-Key": idempotency_key,
            },
            timeout=30,
        )

    return call


def _outcome(response) -> str:
    if response.status_code == 200:
        return "replayed" if response.headers.get("Idempotent-Replayed") else "acted"
    return response.json()["error"]["code"]


def test_twenty_idempotency_keys_release_once(target):
    url, key, lock = target
    responses = at_once([_release(url, key, f"key-{n}") for n in range(PARALLEL)])
    assert Counter(map(_outcome, responses)) == {"acted": 1, "invalid_transition": PARALLEL - 1}
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED).count() == 1


def test_one_idempotency_key_acts_once(target):
    url, key, lock = target
    responses = at_once([_release(url, key, "the-same") for _ in range(PARALLEL)])
    outcomes = Counter(map(_outcome, responses))
    assert outcomes["acted"] == 1
    assert set(outcomes) <= {"acted", "replayed", "idempotency_key_in_use"}
    acted = next(r for r in responses if _outcome(r) == "acted")
    for response in responses:
        if _outcome(response) == "replayed":
            assert response.content == acted.content
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED).count() == 1
