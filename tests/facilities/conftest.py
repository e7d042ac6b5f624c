import pytest

from facilities.models import LockStatus
from tests.factories import LockFactory, UnitFactory, assigned_lock


@pytest.fixture
def overlocked(facility):
    """A lock on a unit as Assigned Overlock."""
    return assigned_lock(
        UnitFactory(facility=facility, unit_number="B202"),
        LockStatus.ASSIGNED_OVERLOCK,
        serial="HD000202",
        code="2468",
    )


@pytest.fixture
def auction_lock(facility):
    return assigned_lock(
        UnitFactory(facility=facility, unit_number="C303"),
        LockStatus.ASSIGNED_AUCTION,
        serial="HD000303",
        code="1357",
    )


@pytest.fixture
def other_lock(other_facility):
    return LockFactory(facility=other_facility, serial="RV000001", code="9999")


@pytest.fixture
def other_unit(other_facility):
    return UnitFactory(facility=other_facility, unit_number="A101")
