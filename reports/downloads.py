"""A report as a file: CSV (streamed, a row at a time) or XLSX (openpyxl's write-only
workbook, written to a temporary file and sent from it), each cell guarded against
spreadsheet formulas as the units export is (facilities/imports/rows.py). The rows are the
report's own rows: the download holds what the page shows, without its pagination."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook

from facilities.imports.rows import escape_formula

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def safe_cell(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers and days
    stay what they are."""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _Line:
    """A file-like that hands back what csv.writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(header)  # the mark so Excel reads UTF-8
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def file_response(
    file_format: str, *, filename: str, title: str, header: Sequence[str], rows: Iterable[Sequence]
):
    """The report as `filename`.csv or .xlsx."""
    if file_format == "csv":
        response = StreamingHttpResponse(csv_lines(header, rows), content_type=CSV_TYPE)
        return _attachment(response, f"{filename}.csv")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(spool)
    spool.seek(0)
    response = FileResponse(spool, content_type=XLSX_TYPE)
    return _attachment(response, f"{filename}.xlsx")


def _xlsx_cell(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # UTC; a spreadsheet keeps no zone
    if isinstance(value, date):
        return value
    return safe_cell(value)
