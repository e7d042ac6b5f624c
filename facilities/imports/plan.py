"""Planning an import against the database: what would change, every row's errors, no writes."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection

from davinci.accounts import permissions
from davinci.accounts.models import Membership
from facilities.imports.rows import (
    MAX_ROWS,
    LockRow,
    RowError,
    UnitRow,
    check_lock,
    check_unit,
    normalize_serial,
    orphan_row_message,
    read_records,
)
from facilities.models import Facility, Lock, LockStatus, Unit

UNUSABLE_SERIAL = "Lock {serial} cannot be imported here: the serial is already registered."


@dataclass
class ImportPlan:
    facility: Facility
    filename: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)  # new or changed
    locks: list[LockRow] = field(default_factory=list)  # new or changed
    unchanged_rows: int = 0
    unit_ids: dict[str, int] = field(default_factory=dict)  # the file's units already there
    # A digest of every existing unit and lock the file names, as the plan read them: the
    # commit refuses when it differs from the preview's (someone changed them meanwhile).
    fingerprint: str = ""
    # Rows that gave a code for a lock already in the portal (ignored: see _plan_lock).
    codes_ignored: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.units or self.locks)

    @property
    def units_created(self) -> int:
        return sum(1 for row in self.units if row.existing is None)

    @property
    def units_updated(self) -> int:
        return sum(1 for row in self.units if row.existing is not None)

    @property
    def locks_created(self) -> int:
        return sum(1 for row in self.locks if row.existing is None)

    @property
    def locks_updated(self) -> int:
        return sum(1 for row in self.locks if row.existing is not None)

    def summary(self) -> str:
        parts = [
            (self.units_created, "new unit", "new units"),
            (self.units_updated, "unit updated", "units updated"),
            (self.locks_created, "new lock", "new locks"),
            (self.locks_updated, "lock updated", "locks updated"),
        ]
        said = [f"{n:,} {one if n == 1 else many}" for n, one, many in parts if n]
        return ", ".join(said) if said else "nothing to change"

    def changes(self) -> list[tuple[int, str]]:
        """(line, what changes) for the preview, in file order."""
        described = [(row.line, 0, _describe_unit(row)) for row in self.units]
        described += [(row.line, 1, _describe_lock(row)) for row in self.locks]
        return [(line, text) for line, _, text in sorted(described)]


def _describe_unit(row: UnitRow) -> str:
    if row.existing is None:
        return f"New unit {row.unit_number}"
    parts = [
        f"{name.replace('_', ' ')} {_shown(getattr(row.existing, name))} → "
        f"{_shown(row.values[name])}"
        for name in row.changes
    ]
    return f"Unit {row.unit_number}: " + "; ".join(parts)


def _shown(value: str) -> str:
    return f"“{value}”" if value else "(empty)"


def _describe_lock(row: LockRow) -> str:
    label = LockStatus(row.status).label
    where = f" on unit {row.unit_number}" if row.unit_number else ""
    if row.existing is None:
        return f"New lock {row.serial}: {label}{where}"
    before = row.existing.get_status_display()
    parts = []
    if "status" in row.changes or "unit" in row.changes:
        was = f" on unit {row.existing.unit.unit_number}" if row.existing.unit_id else ""
        parts.append(f"{before}{was} → {label}{where}")
    if "unlock_code" in row.changes:
        parts.append("new unlock code")
    return f"Lock {row.serial}: " + "; ".join(parts)


# --- Planning against the database ------------------------------------------------------------


def _in_list_size() -> int:
    """How many values one `IN (…)` may hold: a whole file's worth when the database allows
    it. Django assumes SQLite's historic 999, but SQLite ≥ 3.32 allows 32,766 (asked at run
    time); PostgreSQL allows 65,535 parameters."""
    limit = connection.features.max_query_params
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return min(limit or MAX_ROWS, MAX_ROWS)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    size = _in_list_size()
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing_units(facility: Facility, numbers: list[str], for_update: bool) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for chunk in _chunks(numbers):
        units = Unit.objects.filter(facility=facility, unit_number__in=chunk).select_related("lock")
        if for_update:
            units = units.select_for_update(of=("self",))
        found.update((unit.unit_number, unit) for unit in units)
    return found


def _existing_locks(serials: list[str], for_update: bool) -> dict[str, Lock]:
    found: dict[str, Lock] = {}
    for chunk in _chunks(serials):
        locks = Lock.objects.filter(serial__in=chunk).select_related("unit", "facility")
        if for_update:
            locks = locks.select_for_update(of=("self",))
        found.update((lock.serial, lock) for lock in locks)
    return found


def _fingerprint(rows: list[Unit | Lock]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda row: (type(row).__name__, row.pk)):
        values = [type(row).__name__, *(getattr(row, f.attname) for f in row._meta.concrete_fields)]
        digest.update(repr(values).encode())
    return digest.hexdigest()


def plan_import(
    *,
    facility: Facility,
    text: str,
    filename: str = "",
    for_update: bool = False,
    membership: Membership | None = None,
) -> ImportPlan:
    """What importing `text` into `facility` would do, and every row's errors. No writes.

    Queries: one for the file's units and one for its locks (more only where the database
    caps the size of an IN list), never one per row.
    With `for_update` the rows read are locked until the transaction ends (the commit).
    With `membership`, a lock row the member's role may not write is an error of its row.
    """
    plan = ImportPlan(facility=facility, filename=filename)
    unit_rows: list[UnitRow] = []
    lock_rows: list[LockRow] = []
    unit_lines: dict[str, int] = {}
    serial_lines: dict[str, int] = {}
    row_lines: set[int] = set()
    for line, record in read_records(text, plan.errors):
        plan.rows += 1
        if plan.rows > MAX_ROWS:
            plan.errors.append(RowError(line, f"The file has more than {MAX_ROWS:,} rows."))
            break
        row_lines.add(line)
        number = record.get("unit_number", "")
        serial = normalize_serial(record.get("serial", ""))
        if not number and not serial:
            plan.errors.append(RowError(line, orphan_row_message(record)))
            continue
        if number and number in unit_lines:
            plan.errors.append(
                RowError(line, f"Unit {number} is already on line {unit_lines[number]}.")
            )
            continue
        if serial and serial in serial_lines:
            plan.errors.append(
                RowError(line, f"Lock {serial} is already on line {serial_lines[serial]}.")
            )
            continue
        unit_row = check_unit(line, record, plan.errors)
        lock_row = check_lock(line, record, plan.errors)
        if number:
            unit_lines[number] = line
        if serial:
            serial_lines[serial] = line
        if unit_row:
            unit_rows.append(unit_row)
        if lock_row:
            lock_rows.append(lock_row)

    units = _existing_units(facility, list(unit_lines), for_update)
    locks = _existing_locks(list(serial_lines), for_update)
    plan.unit_ids = {number: unit.pk for number, unit in units.items()}
    plan.fingerprint = _fingerprint([*units.values(), *locks.values()])
    changed_lines: set[int] = set()
    for row in unit_rows:
        row.existing = units.get(row.unit_number)
        if row.existing is None:
            row.changes = ["created"]
        else:
            row.changes = [
                name for name, value in row.values.items() if getattr(row.existing, name) != value
            ]
        if row.changes:
            plan.units.append(row)
            changed_lines.add(row.line)
    # A restricted member's facilities (one query), to tell a lock of theirs from one they
    # cannot see; None: every facility of the account.
    seen = None
    if membership is not None and not membership.all_facilities:
        seen = set(membership.facilities.values_list("pk", flat=True))
    for row in lock_rows:
        _plan_lock(plan, row, facility, units, locks, serial_lines, membership, seen)
        if row.changes and membership and not _may_write(membership, row.existing, row.status):
            plan.errors.append(RowError(row.line, _refusal(membership, row.serial, row.status)))
            row.changes = []
        if row.changes:
            plan.locks.append(row)
            changed_lines.add(row.line)
    error_lines = {error.line for error in plan.errors}
    plan.unchanged_rows = len(row_lines - changed_lines - error_lines)
    plan.errors.sort(key=lambda error: error.line)
    return plan


def _plan_lock(
    plan: ImportPlan,
    row: LockRow,
    facility: Facility,
    units: dict[str, Unit],
    locks: dict[str, Lock],
    serial_lines: dict[str, int],
    membership: Membership | None,
    seen: set[int] | None,
) -> None:
    def fail(message: str) -> None:
        plan.errors.append(RowError(row.line, message))

    lock = locks.get(row.serial)
    if lock is not None and (
        lock.account_id != facility.account_id
        or (seen is not None and lock.facility_id != facility.pk and lock.facility_id not in seen)
    ):
        # Another account's lock, or one of a facility this member cannot see: the same words
        # for both, and nothing about whose it is (a preview must be no serial oracle).
        return fail(UNUSABLE_SERIAL.format(serial=row.serial))
    if lock is not None and lock.facility_id != facility.pk:
        return fail(
            f"Lock {row.serial} belongs to {lock.facility.name}. Import it there, or assign it "
            "to a unit here from the unit's page."
        )
    if (
        membership is not None
        and lock is not None
        and not permissions.can_view_code(membership.role, lock.status)
    ):
        # Refused before any comparison with its code: the answer must not tell the code.
        on_unit = lock.unit.unit_number if lock.unit_id else ""
        if row.unlock_code or row.status != lock.status or row.unit_number != on_unit:
            return fail(_refusal(membership, row.serial, lock.status))
    target = units.get(row.unit_number) if row.unit_number else None
    occupant = getattr(target, "lock", None) if target else None
    if occupant is not None and occupant.serial != row.serial:
        leaving = occupant.serial in serial_lines
        if not leaving:
            return fail(
                f"Unit {row.unit_number} already has lock {occupant.serial}. Unassign it first, "
                f"or add a row that moves {occupant.serial} elsewhere."
            )
    row.existing = lock
    if lock is None:
        if not row.unlock_code:
            return fail(f"Lock {row.serial} is new: its unlock_code is required.")
        row.changes = ["created"]
        return None
    if row.status != lock.status:
        row.changes.append("status")
    if (lock.unit.unit_number if lock.unit_id else "") != row.unit_number:
        row.changes.append("unit")
    # An existing lock's code is never compared with the one typed, nor changed by a file:
    # whether they are equal must not change any answer (else each preview would test a
    # guess). Codes are changed with Set code on the lock's page, where the rules (only in a
    # status that does not count towards the lock limit) and the record of who did it live.
    # The preview says how many codes it ignored, right or wrong.
    if row.unlock_code:
        plan.codes_ignored += 1
    return None


def _may_write(membership: Membership, lock: Lock | None, status: str) -> bool:
    """A new lock in `status`, or an existing one changed or kept in it (a row of the file
    may also move or re-code a lock: the role's rule for a change in place)."""
    if lock is None:
        return permissions.can_create_lock(membership.role, status)
    if status == lock.status:
        return permissions.can_change_lock(membership.role, lock.status)
    return permissions.can_change_lock(membership.role, lock.status, to_status=status)


def _refusal(membership: Membership, serial: str, status: str) -> str:
    role = membership.get_role_display()
    return f"Lock {serial}: a {role} cannot import a lock that is {LockStatus(status).label}."
