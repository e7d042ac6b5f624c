"""CSV import and export of a facility's units and locks.

One file, one row per unit (with the lock on its door, if any) plus one row per lock that is on
no unit. The export writes the same columns (without codes), so an export is also a template.

`plan_import()` reads the file and the database (a few queries whatever the number of rows) and
says, line by line, what is wrong or what would change; it writes nothing. `apply_plan()`
writes a valid plan with bulk statements and one LockEvent per lock that changed. Rows that
match the database change nothing, so importing the same file twice is harmless.
"""

from facilities.imports.export import EXPORT_COLUMNS, export_rows
from facilities.imports.plan import ImportPlan, plan_import
from facilities.imports.rows import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    Columns,
    RowError,
    decode_csv,
    normalize_serial,
    read_records,
)
from facilities.imports.write import ImportResult, apply_plan

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "Columns",
    "ImportPlan",
    "ImportResult",
    "RowError",
    "apply_plan",
    "decode_csv",
    "export_rows",
    "normalize_serial",
    "plan_import",
    "read_records",
]
