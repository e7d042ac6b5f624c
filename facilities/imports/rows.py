"""Reading a CSV file of units and locks: the columns, each row on its own, line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from davinci.phones import normalize_phone
from facilities.models import (
    UNIT_STATUSES,
    Lock,
    LockStatus,
    Unit,
    serial_validator,
    unit_number_validator,
    unlock_code_validator,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000

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


def unescape_formula(cell: str) -> str:
    """Undo the export's guard against spreadsheet formulas ('=… → =…)."""
    cell = cell.strip()
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_PREFIXES:
        return cell[1:]
    return cell


def escape_formula(cell: str) -> str:
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


# --- Reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """The columns a kind of file may have, the headings people write instead of them, and
    what the heading must name at least (one of `needs`, with the sentence that says so)."""

    names: list[str]
    aliases: dict[str, str]
    needs: frozenset[str]
    needs_message: str


UNITS_AND_LOCKS = Columns(
    names=COLUMNS,
    aliases=ALIASES,
    needs=frozenset({"unit_number", "serial"}),
    needs_message="The file needs a unit_number column, a serial column, or both.",
)


def _header(cells: list[str], columns: Columns) -> tuple[list[str], list[str]]:
    """Our column names for the heading cells, and the problems with them."""
    names, problems = [], []
    for cell in cells:
        key = cell.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        key = columns.aliases.get(key, key)
        if key and key not in columns.names:
            problems.append(f"Unknown column “{cell.strip()}”.")
        elif key and key in names:
            problems.append(f"The column “{cell.strip()}” appears twice.")
        names.append(key)
    if not columns.needs & set(names):
        problems.append(columns.needs_message)
    if problems:
        problems.append(f"The columns are: {', '.join(columns.names)}.")
    return names, problems


def read_records(
    text: str, errors: list[RowError], columns: Columns = UNITS_AND_LOCKS
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: cell}) for each non-empty row after the heading, in the
    `columns` of the kind of file (by default the units and locks import's)."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        heading = next(reader, None)
        if heading is None:
            errors.append(RowError(1, "The file is empty."))
            return
        names, problems = _header(heading, columns)
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
            pairs = zip(names, cells, strict=True)
            yield start, {name: unescape_formula(cell) for name, cell in pairs if name}
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"The file is not valid CSV ({exc})."))


# --- Checking rows on their own ----------------------------------------------------------------


def check_unit(line: int, record: dict[str, str], errors: list[RowError]) -> UnitRow | None:
    number = record.get("unit_number", "")
    if not number:
        return None
    ok = True
    checks = [
        ("unit_number", number, [unit_number_validator], 20),
        ("tenant_name", record.get("tenant_name", ""), [], 200),
        ("tenant_email", record.get("tenant_email", ""), [validate_email], 254),
        ("tenant_phone", record.get("tenant_phone", ""), [normalize_phone], 32),
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
    if ok and values.get("tenant_phone"):
        values["tenant_phone"] = normalize_phone(values["tenant_phone"])
    return UnitRow(line, number, values) if ok else None


def orphan_row_message(record: dict[str, str]) -> str:
    if record.get("unlock_code") or record.get("status"):
        return "A code or status without a serial: add the serial."
    return "Tenant details without a unit number: add the unit number."


def check_lock(line: int, record: dict[str, str], errors: list[RowError]) -> LockRow | None:
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
