import pytest
from django.core.cache import cache

from davinci import sms
from facilities.history import lock_event_record
from facilities.models import Lock, LockEvent, LockStatus, Unit
from tests.factories import FacilityFactory, UnitFactory, assigned_lock


@pytest.fixture(autouse=True)
def _release_sandbox(settings):
    """Text messages to the in-memory outbox, and fresh rate-limit counters, for every test."""
    settings.SMS_BACKEND = "davinci.sms.LocMemBackend"
    sms.outbox.clear()
    cache.clear()
    yield
    sms.outbox.clear()
    cache.clear()


def release_lock(lock: Lock) -> Lock:
    """The tenant has paid: the overlock becomes Returned to Dropbox and stays on its unit,
    recorded the way Release overlock does it."""
    from_status = lock.status
    lock.status = LockStatus.RETURNED_TO_DROPBOX
    lock.save()
    lock_event_record(
        lock=lock,
        kind=LockEvent.Kind.RELEASED,
        actor_type=LockEvent.Actor.SYSTEM,
        unit=lock.unit,
        from_status=from_status,
        to_status=LockStatus.RETURNED_TO_DROPBOX,
    )
    return lock


def overlock(unit: Unit, *, code: str) -> Lock:
    """An overlock put on a unit, with the ASSIGNED event the Facilities screens write."""
    lock = assigned_lock(unit, LockStatus.ASSIGNED_OVERLOCK, code=code)
    lock_event_record(
        lock=lock,
        kind=LockEvent.Kind.ASSIGNED,
        actor_type=LockEvent.Actor.SYSTEM,
        unit=unit,
        from_status=LockStatus.AVAILABLE,
        to_status=LockStatus.ASSIGNED_OVERLOCK,
    )
    return lock


@pytest.fixture
def tenant_unit(facility) -> Unit:
    return UnitFactory(
        facility=facility,
        unit_number="A101",
        tenant_name="Avery Johnson",
        tenant_email="Avery.Johnson@example.com",
        tenant_phone="+16035550142",
    )


@pytest.fixture
def released(tenant_unit) -> Lock:
    """The tenant has paid: the overlock on A101 is Returned to Dropbox. Its code is 4812."""
    return release_lock(overlock(tenant_unit, code="4812"))


@pytest.fixture
def excluded_facility(account):
    return FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
