import datetime as dt

import pytest
from django.utils import timezone

from automations import engine
from facilities.models import LockStatus
from tests.factories import UnitFactory, assigned_lock

PAID_AT = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30))


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """`with sent():` runs the outbox's sends as `make run` does: in-process once committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def overlocked(facility):
    unit = UnitFactory(
        facility=facility,
        unit_number="B12",
        tenant_email="paid@example.com",
        tenant_phone="",
    )
    return assigned_lock(unit, LockStatus.ASSIGNED_OVERLOCK, serial="OV000001", code="2468")


@pytest.fixture
def receive(owner):
    """Receive an event for a unit as the CSV upload of `owner` does."""

    def receive(unit, type="payment_received", **kwargs):
        kwargs.setdefault("occurred_at", PAID_AT)
        kwargs.setdefault("reference", "R-1")
        return engine.fms_event_receive(unit=unit, type=type, user=owner, **kwargs)

    return receive
