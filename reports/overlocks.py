"""Overlocks by age and the remove-overlock queue: two views of the locks on delinquent
tenants' doors, read live from the locks (a tenth of the account's locks at most, through the
index on account and status).

A lock's age in its status is counted from its `updated_at`: a lock on a unit changes only
when its status or its unit changes (its code may change only in a status that does not
count, facilities/models.py), so for an Assigned Overlock lock that is when it was put on
the door as an overlock, and for a Returned to Dropbox lock when the overlock was released.
Days are whole UTC days: a lock overlocked today is 0 days old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet

from facilities.models import Facility, Lock
from facilities.statuses import LockStatus
from reports.usage import day_start, utc_today


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    youngest: int  # days
    oldest: int | None


BUCKETS = (
    Bucket("days_0_7", "0\u20137 days", 0, 7),
    Bucket("days_8_30", "8\u201330 days", 8, 30),
    Bucket("days_31_60", "31\u201360 days", 31, 60),
    Bucket("days_60_plus", "60+ days", 61, None),
)


def _in_bucket(bucket: Bucket, today: date) -> Q:
    """Locks whose age in whole UTC days lies in `bucket`."""
    condition = Q(updated_at__lt=day_start(today - timedelta(days=bucket.youngest - 1)))
    if bucket.oldest is not None:
        condition &= Q(updated_at__gte=day_start(today - timedelta(days=bucket.oldest)))
    return condition


def in_period(locks: QuerySet[Lock], first: date | None, last: date | None) -> QuerySet[Lock]:
    """Locks that entered their status on the UTC days first..last (either end open)."""
    if first:
        locks = locks.filter(updated_at__gte=day_start(first))
    if last:
        locks = locks.filter(updated_at__lt=day_start(last + timedelta(days=1)))
    return locks


def overlocks_by_age(locks: QuerySet[Lock], facilities: QuerySet[Facility]) -> list[dict]:
    """Per facility of `locks` (a member's locks, filtered; `facilities` the member's, for
    the names), its Assigned Overlock locks in each bucket and in all: dicts with
    facility_id, facility__name, facility__facility_id, total and each bucket's key, in
    facility name order. Two queries whatever the size: the counts grouped by facility
    alone, from the index on account, status and age (counting updated_at, which the index
    holds, not the id it does not; a join before grouping would sort every lock by name),
    then the facilities' names (a plain read of a few thousand rows; sending the counted
    ids back, or a semi-join, cost more)."""
    today = utc_today()
    keys = [b.key for b in BUCKETS]
    buckets = {b.key: Count("updated_at", filter=_in_bucket(b, today)) for b in BUCKETS}
    counts = {
        facility: counted
        for facility, *counted in locks.filter(status=LockStatus.ASSIGNED_OVERLOCK)
        .order_by()
        .values("facility_id")
        .annotate(total=Count("updated_at"), **buckets)
        .values_list("facility_id", "total", *keys)
    }
    names = facilities.order_by("name", "pk").values_list("pk", "name", "facility_id")
    return [
        {
            "facility_id": pk,
            "facility__name": name,
            "facility__facility_id": facility_id,
            **dict(zip(["total", *keys], counts[pk], strict=True)),
        }
        for pk, name, facility_id in names
        if pk in counts
    ]


def overlock_totals(rows: list[dict]) -> dict[str, int]:
    """The buckets over all the facilities of overlocks_by_age()'s rows: {bucket key: count,
    "total": count}."""
    keys = ["total", *(b.key for b in BUCKETS)]
    return {key: sum(row[key] for row in rows) for key in keys}


def remove_overlock_queue(locks: QuerySet[Lock]) -> QuerySet[Lock]:
    """Returned to Dropbox locks still on their units, released longest ago first: the
    doors staff still have to take a lock off (and then set it Available)."""
    return (
        locks.filter(status=LockStatus.RETURNED_TO_DROPBOX, unit__isnull=False)
        .select_related("unit", "facility")
        .order_by("updated_at", "id")
    )


def days_since(moment: datetime) -> int:
    """Whole UTC days from `moment` to today."""
    return (utc_today() - moment.astimezone(UTC).date()).days
