"""CSV import and export of a facility's units and locks.

One file, one row per unit (with the lock on its door, if any) plus one row per lock that is on
no unit. The export writes the same columns (without codes), so an export is also a template.

`plan_import()` reads the file and the database (a few queries whatever the number of rows) and
says, line by line, what is wrong or what would change; it writes nothing. `apply_plan()`
writes a valid plan with bulk statements and one LockEvent per lock that changed. Rows that
match the database change nothing, so importing the same file twice is harmless.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection
from django.utils import timezone

from davinci import crypto
from facilities.models import (
    UNIT_STATUSES,
    Facility,
    Lock,
    LockEvent,
    LockStatus,
    Unit,
    serial_validator,
    unit_number_validator,
    unlock_code_validator,
    validate_tenant_phone,
)

if TYPE_CHECKING:
    from davinci.accounts.models import User

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
BATCH = 500

COLUMNS = [
    "unit_number",
    "tenant_name",
    "tenant_email",
    "tenant_phone",
    "serial",
    "unlock_code",
    "status",
]
TENANT_COLUMNS = ["tenant_name", "tenant_email", "tenant_phone"]
# Headings people write instead of ours.
ALIASES = {
    "unit": "unit_number",
    "unit_no": "unit_number",
    "unit_#": "unit_number",
    "tenant": "tenant_name",
    "name": "tenant_name",
    "email": "tenant_email",
    "phone": "tenant_phone",
    "lock": "serial",
    "lock_serial": "serial",
    "serial_number": "serial",
    "code": "unlock_code",
    "lock_status": "status",
}
# "Assigned Overlock", "assigned_overlock" and "ASSIGNED OVERLOCK" all mean the same status.
STATUS_BY_TEXT = {status.label.lower(): LockStatus(status.value) for status in LockStatus} | {
    status.value.replace("_", " "): LockStatus(status.value) for status in LockStatus
}
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

validate_email = EmailValidator(message="Enter a valid email address.")


def normalize_serial(value: str) -> str:
    """Serials are engraved in capitals; accept them typed in any case."""
    return value.strip().upper()


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252 as Excel writes it."""
    if b"\x00" in data:
        raise ValidationError(
            "This is not a CSV file. Save the spreadsheet as “CSV UTF-8” and upload that.",
            code="not_csv",
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        "The file's characters could not be read. Save it as “CSV UTF-8” and upload it again.",
        code="bad_encoding",
    )


def _unescape(cell: str) -> str:
    """Undo the export's guard against spreadsheet formulas ('=… → =…)."""
    cell = cell.strip()
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_PREFIXES:
        return cell[1:]
    return cell


def _escape(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_PREFIXES) else cell


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class UnitRow:
    line: int
    unit_number: str
    values: dict[str, str]  # only the tenant columns the file has
    existing: Unit | None = None
    changes: list[str] = field(default_factory=list)


@dataclass
class LockRow:
    line: int
    serial: str
    status: str
    unlock_code: str  # "" keeps the code of an existing lock
    unit_number: str  # "" for a lock on no unit
    existing: Lock | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def from_status(self) -> str:
        return self.existing.status if self.existing else ""


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
    labels = ", ".join(name.replace("_", " ") for name in row.changes)
    return f"Unit {row.unit_number}: {labels}"


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


# --- Reading the file -------------------------------------------------------------------------


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """Our column names for the heading cells, and the problems with them."""
    names, problems = [], []
    for cell in cells:
        key = cell.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        key = ALIASES.get(key, key)
        if key and key not in COLUMNS:
            problems.append(f"Unknown column “{cell.strip()}”.")
        elif key and key in names:
            problems.append(f"The column “{cell.strip()}” appears twice.")
        names.append(key)
    if not {"unit_number", "serial"} & set(names):
        problems.append("The file needs a unit_number column, a serial column, or both.")
    if problems:
        problems.append(f"The columns are: {', '.join(COLUMNS)}.")
    return names, problems


def _records(text: str, errors: list[RowError]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: cell}) for each non-empty row after the heading."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        heading = next(reader, None)
        if heading is None:
            errors.append(RowError(1, "The file is empty."))
            return
        names, problems = _header(heading)
        if problems:
            errors.extend(RowError(1, problem) for problem in problems)
            return
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                errors.append(
                    RowError(
                        start, f"The row has {len(cells)} cells; the heading has {len(names)}."
                    )
                )
                continue
            cells = (cells + [""] * len(names))[: len(names)]
            yield (
                start,
                {name: _unescape(cell) for name, cell in zip(names, cells, strict=True) if name},
            )
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"The file is not valid CSV ({exc})."))


# --- Checking rows on their own ----------------------------------------------------------------


def _check_unit(line: int, record: dict[str, str], errors: list[RowError]) -> UnitRow | None:
    number = record.get("unit_number", "")
    if not number:
        return None
    ok = True
    checks = [
        ("unit_number", number, [unit_number_validator], 20),
        ("tenant_name", record.get("tenant_name", ""), [], 200),
        ("tenant_email", record.get("tenant_email", ""), [validate_email], 254),
        ("tenant_phone", record.get("tenant_phone", ""), [validate_tenant_phone], 32),
    ]
    for column, value, validators, max_length in checks:
        if len(value) > max_length:
            errors.append(RowError(line, f"{column}: at most {max_length} characters."))
            ok = False
            continue
        for validator in validators if value else []:
            try:
                validator(value)
            except ValidationError as exc:
                errors.append(RowError(line, f"{column} “{value}”: {_message(exc)}"))
                ok = False
    values = {name: record[name] for name in TENANT_COLUMNS if name in record}
    return UnitRow(line, number, values) if ok else None


def _orphan_row_message(record: dict[str, str]) -> str:
    if record.get("unlock_code") or record.get("status"):
        return "A code or status without a serial: add the serial."
    return "Tenant details without a unit number: add the unit number."


def _check_lock(line: int, record: dict[str, str], errors: list[RowError]) -> LockRow | None:
    serial = normalize_serial(record.get("serial", ""))
    if not serial:
        if record.get("unlock_code") or record.get("status"):
            errors.append(RowError(line, "A code or status without a serial: add the serial."))
        return None
    ok = True
    try:
        serial_validator(serial)
    except ValidationError as exc:
        errors.append(RowError(line, f"serial “{serial}”: {_message(exc)}"))
        ok = False
    code = record.get("unlock_code", "")
    if code:
        try:
            unlock_code_validator(code)
        except ValidationError as exc:
            errors.append(RowError(line, f"unlock_code: {_message(exc)}"))
            ok = False
    status_text = record.get("status", "")
    status = STATUS_BY_TEXT.get(" ".join(status_text.lower().replace("_", " ").split()))
    unit_number = record.get("unit_number", "")
    if not status_text:
        errors.append(RowError(line, f"Lock {serial}: the status is missing."))
        return None
    if status is None:
        errors.append(
            RowError(
                line,
                f"status “{status_text}” is not a lock status (e.g. Available, "
                "Assigned Overlock, On Dropbox).",
            )
        )
        return None
    if status in UNIT_STATUSES and not unit_number:
        errors.append(
            RowError(
                line,
                f"Lock {serial}: a lock that is {status.label} needs a unit number on its row.",
            )
        )
        ok = False
    if status not in UNIT_STATUSES and unit_number:
        errors.append(
            RowError(
                line,
                f"Lock {serial}: a lock that is {status.label} cannot be on unit "
                f"{unit_number}. Put it on a row of its own, without a unit number.",
            )
        )
        ok = False
    return LockRow(line, serial, status.value, code, unit_number) if ok else None


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


def plan_import(
    *, facility: Facility, text: str, filename: str = "", for_update: bool = False
) -> ImportPlan:
    """What importing `text` into `facility` would do, and every row's errors. No writes.

    Queries: one for the file's units and one for its locks (more only where the database
    caps the size of an IN list), never one per row.
    With `for_update` the rows read are locked until the transaction ends (the commit).
    """
    plan = ImportPlan(facility=facility, filename=filename)
    unit_rows: list[UnitRow] = []
    lock_rows: list[LockRow] = []
    unit_lines: dict[str, int] = {}
    serial_lines: dict[str, int] = {}
    row_lines: set[int] = set()
    for line, record in _records(text, plan.errors):
        plan.rows += 1
        if plan.rows > MAX_ROWS:
            plan.errors.append(RowError(line, f"The file has more than {MAX_ROWS:,} rows."))
            break
        row_lines.add(line)
        number = record.get("unit_number", "")
        serial = normalize_serial(record.get("serial", ""))
        if not number and not serial:
            plan.errors.append(RowError(line, _orphan_row_message(record)))
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
        unit_row = _check_unit(line, record, plan.errors)
        lock_row = _check_lock(line, record, plan.errors)
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
    for row in lock_rows:
        _plan_lock(plan, row, facility, units, locks, serial_lines)
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
) -> None:
    def fail(message: str) -> None:
        plan.errors.append(RowError(row.line, message))

    lock = locks.get(row.serial)
    if lock is not None and lock.account_id != facility.account_id:
        return fail(f"Lock {row.serial} is registered to another account.")
    if lock is not None and lock.facility_id != facility.pk:
        return fail(
            f"Lock {row.serial} belongs to {lock.facility.name}. Import it there, or assign it "
            "to a unit here from the unit's page."
        )
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
    was_on_unit = lock.status in UNIT_STATUSES
    if row.status != lock.status:
        row.changes.append("status")
    if (lock.unit.unit_number if lock.unit_id else "") != row.unit_number:
        row.changes.append("unit")
    if row.unlock_code and row.unlock_code != lock.unlock_code:
        if was_on_unit or row.status in UNIT_STATUSES:
            row.changes = []
            return fail(
                f"Lock {row.serial}: the code can only change while the lock is on no unit "
                "(leave unlock_code empty to keep it)."
            )
        row.changes.append("unlock_code")
    return None


# --- Writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    units_created: int
    units_updated: int
    locks_created: int
    locks_updated: int
    events: int


def apply_plan(plan: ImportPlan, *, user: User, ip: str | None) -> ImportResult:
    """Write a valid plan. Call inside a transaction (services.facility_import_commit)."""
    if not plan.is_valid:
        raise ValueError("An import with errors is never applied.")
    facility, now = plan.facility, timezone.now()

    new_units = [
        Unit(facility=facility, unit_number=row.unit_number, **row.values)
        for row in plan.units
        if row.existing is None
    ]
    Unit.objects.bulk_create(new_units, batch_size=BATCH)
    changed_units = []
    for row in plan.units:
        if row.existing is not None:
            for name in row.changes:
                setattr(row.existing, name, row.values[name])
            row.existing.updated_at = now
            changed_units.append(row.existing)
    Unit.objects.bulk_update(changed_units, [*TENANT_COLUMNS, "updated_at"], batch_size=BATCH)

    unit_ids = dict(plan.unit_ids)
    unit_ids.update((unit.unit_number, unit.pk) for unit in new_units)

    # Locks leaving a unit first step off it (a valid state on its own), so a lock can take
    # a unit another lock of the same file leaves, whatever order the rows came in.
    moving = [
        row.existing.pk
        for row in plan.locks
        if row.existing is not None and "unit" in row.changes and row.existing.unit_id
    ]
    for start in range(0, len(moving), BATCH):
        Lock.objects.filter(pk__in=moving[start : start + BATCH]).update(
            unit=None, status=LockStatus.AVAILABLE
        )

    events: list[LockEvent] = []
    changed_locks, new_locks = [], []
    for row in plan.locks:
        unit_id = unit_ids[row.unit_number] if row.unit_number else None
        event_unit_id = unit_id or (row.existing.unit_id if row.existing else None)
        from_status = row.from_status
        if row.existing is None:
            lock = Lock(
                account_id=facility.account_id,
                facility=facility,
                serial=row.serial,
                status=row.status,
                unit_id=unit_id,
                unlock_code_encrypted=crypto.encrypt(row.unlock_code),
            )
            new_locks.append(lock)
        else:
            lock = row.existing
            lock.status, lock.unit_id, lock.updated_at = row.status, unit_id, now
            if "unlock_code" in row.changes:
                lock.unlock_code_encrypted = crypto.encrypt(row.unlock_code)
            changed_locks.append(lock)
        events.append(
            LockEvent(
                lock=lock,
                kind=LockEvent.Kind.IMPORTED,
                actor_type=LockEvent.Actor.USER,
                actor_user=user,
                from_status=from_status,
                to_status=row.status,
                unit_id=event_unit_id,
                ip=ip,
                details={"file": plan.filename, "line": row.line, "changes": row.changes},
            )
        )
    Lock.objects.bulk_update(
        changed_locks, ["status", "unit", "unlock_code_encrypted", "updated_at"], batch_size=BATCH
    )
    Lock.objects.bulk_create(new_locks, batch_size=BATCH)
    for event in events:
        event.lock_id = event.lock.pk  # primary keys of new locks are known only now

    from facilities.services import lock_events_record_many

    lock_events_record_many(events=events)
    return ImportResult(
        units_created=len(new_units),
        units_updated=len(changed_units),
        locks_created=len(new_locks),
        locks_updated=len(changed_locks),
        events=len(events),
    )


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
            _escape(unit.unit_number),
            _escape(unit.tenant_name),
            _escape(unit.tenant_email),
            _escape(unit.tenant_phone),
            lock.serial if lock else "",
            lock.get_status_display() if lock else "",
        ]
    loose = Lock.objects.filter(facility=facility, unit__isnull=True).order_by("serial")
    for lock in loose.iterator(chunk_size=2000):
        yield ["", "", "", "", lock.serial, lock.get_status_display()]
