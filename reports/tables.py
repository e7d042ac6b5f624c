"""Each report's rows as a download holds them (reports/downloads.py writes them as CSV or
XLSX): its file name, its title, its header and its rows, built from what the page shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from facilities.models import Lock
from reports import overlocks
from reports.disclosures import Disclosures
from reports.usage import UsageDay

CHUNK = 500  # the queue's locks read at a time


@dataclass(frozen=True)
class Table:
    report: str  # the file name's start
    title: str
    header: Sequence[str]
    rows: Iterable[list]


def usage_table(days: list[UsageDay]) -> Table:
    return Table(
        "lock-usage",
        "Lock usage",
        ["Day (UTC)", "Locks counting towards the limit", "Source"],
        (
            [d.day, d.counting, "live" if d.live else ("" if d.counting is None else "kept")]
            for d in days
        ),
    )


def overlocks_table(rows: list[dict]) -> Table:
    buckets = overlocks.BUCKETS
    return Table(
        "overlocks-by-age",
        "Overlocks by age",
        ["Facility", "Facility ID", *(b.label for b in buckets), "Total"],
        (
            [
                r["facility__name"],
                r["facility__facility_id"],
                *(r[b.key] for b in buckets),
                r["total"],
            ]
            for r in rows
        ),
    )


def queue_table(queue: QuerySet[Lock]) -> Table:
    return Table(
        "remove-overlock-queue",
        "Remove-overlock queue",
        ["Released (UTC)", "Days since", "Facility", "Facility ID", "Unit", "Serial"],
        (
            [
                lock.updated_at,
                overlocks.days_since(lock.updated_at),
                lock.facility.name,
                lock.facility.facility_id,
                lock.unit.unit_number,
                lock.serial,
            ]
            for lock in queue.iterator(chunk_size=CHUNK)
        ),
    )


BY = {"user": "User", "api_key": "API key", "facility": "Facility"}


def disclosures_table(found: Disclosures) -> Table:
    return Table(
        "code-disclosures",
        "Code disclosures",
        ["By", "Name", "Revealed in the portal", "Read through the API", "Total"],
        ([BY[r.by], r.name, r.revealed, r.looked_up, r.total] for r in found.rows),
    )
