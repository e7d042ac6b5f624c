"""50 payment_received events for one unit at the same moment: the overlock is released once
and the tenant notified once; every event is recorded, the others skipped with the reason.
The engine locks the unit's row first, so the events of one unit run one after the other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from automations import engine
from automations.models import AutomationRun, FmsEvent
from davinci.outbox.models import Notice
from facilities.models import LockEvent, LockStatus
from tests.automations.conftest import PAID_AT
from tests.factories import UnitFactory, assigned_lock

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
