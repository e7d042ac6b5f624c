"""50 payment_received events for one unit at the same moment, by the engine and through the
API (50 Idempotency-Keys): the overlock is released once and the tenant notified once; every
event is recorded, the others skipped with the reason. The engine locks the lock's row first,
so the events of one lock run one after the other."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, connections

from automations import engine
from automations.models import AutomationRun, FmsEvent
from davinci.outbox.models import Notice
from facilities.models import LockEvent, LockStatus
from tests.automations.conftest import PAID_AT
from tests.factories import ApiKeyFactory, UnitFactory, assigned_lock

PARALLEL = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_payments_release_once_and_notify_once(owner, facility):
    if connection.vendor == "sqlite":
        pytest.skip("parallel transactions need a database with a connection per thread")
    unit = UnitFactory(facility=facility, tenant_email="paid@example.com", tenant_phone="")
    lock = assigned_lock(unit)
    barrier = threading.Barrier(PARALLEL)

    def pay(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            engine.fms_event_receive(
                unit=unit,
                type="payment_received",
                occurred_at=PAID_AT,
                reference=f"R-{n}",
                user=owner,
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(pay, range(PARALLEL)))

    lock.refresh_from_db()
    assert lock.status == LockStatus.RETURNED_TO_DROPBOX
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED).count() == 1
    notices = Notice.objects.filter(kind="tenant_code", arguments__lock_id=lock.pk)
    assert notices.count() == 1
    assert FmsEvent.objects.filter(unit=unit).count() == PARALLEL
    results = list(AutomationRun.objects.filter(unit=unit).values_list("result", flat=True))
    assert sorted(set(results)) == ["acted", "skipped"]
    assert results.count("acted") == 1


def test_fifty_parallel_payments_through_the_api_release_once(live, account, facility):
    """The same through the FMS feed: 50 requests at once, each with its own Idempotency-Key,
    each answered 202; one acted, 49 skipped; one release, one notice."""
    if connection.vendor == "sqlite":
        pytest.skip("parallel transactions need a database with a connection per thread")
    unit = UnitFactory(facility=facility, tenant_email="paid@example.com", tenant_phone="")
    lock = assigned_lock(unit)
    key = ApiKeyFactory(account=account, permissions=["fms_events"])
    url = f"{live.url}/api/v1/facilities/{facility.facility_id}/units/{unit.unit_number}/events/"
    body = json.dumps(
        {"type": "payment_received", "occurred_at": "2026-03-02T09:30:00Z", "reference": "R"}
    )
    barrier = threading.Barrier(PARALLEL)

    def pay(n: int) -> requests.Response:
        headers = {
            "X-API-Key": key.api_key,
            "X-API-Secret": key.plain_secret,
            "Content-Type": "application/json",
            "Idempotency-Key": f"payment-{n}",
        }
        barrier.wait(timeout=30)
        # The test server's listen queue is short: a connection it resets is sent again, with
        # the same Idempotency-Key, as an FMS retries (it acts once either way).
        for _ in range(10):
            try:
                answer = requests.post(url, data=body, headers=headers, timeout=60)
            except requests.ConnectionError:
                time.sleep(0.2)
                continue
            if answer.status_code != 409:  # idempotency_key_in_use: the first is still acting
                return answer
            time.sleep(0.2)
        raise AssertionError(f"payment {n} got no answer")

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(pay, range(PARALLEL)))

    assert [answer.status_code for answer in answers] == [202] * PARALLEL
    results = [answer.json()["data"]["runs"][0]["result"] for answer in answers]
    assert (results.count("acted"), results.count("skipped")) == (1, PARALLEL - 1)
    lock.refresh_from_db()
    assert lock.status == LockStatus.RETURNED_TO_DROPBOX
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED).count() == 1
    assert Notice.objects.filter(kind="tenant_code", arguments__lock_id=lock.pk).count() == 1
