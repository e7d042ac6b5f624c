"""CSV export of a facility's units and locks, in the import's columns, never a code."""

from __future__ import annotations

from collections.abc import Iterable

from facilities.imports.rows import COLUMNS, escape_formula
from facilities.models import Facility, Lock, Unit

# --- Export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = [name for name in COLUMNS if name != "unlock_code"]


def export_rows(facility: Facility) -> Iterable[list[str]]:
    """The heading, each unit with the lock on its door, then the locks on no unit. No codes.

    Two queries whatever the size; cells that a spreadsheet would run as a formula are quoted.
    """
    yield EXPORT_COLUMNS
    units = Unit.objects.filter(facility=facility).select_related("lock").order_by("unit_number")
    for unit in units.iterator(chunk_size=2000):
        lock = getattr(unit, "lock", None)
        yield [
            escape_formula(unit.unit_number),
            escape_formula(unit.tenant_name),
            escape_formula(unit.tenant_email),
            escape_formula(unit.tenant_phone),
            lock.serial if lock else "",
            lock.get_status_display() if lock else "",
        ]
    loose = Lock.objects.filter(facility=facility, unit__isnull=True).order_by("serial")
    for lock in loose.iterator(chunk_size=2000):
        yield ["", "", "", "", lock.serial, lock.get_status_display()]
