"""How much an API key is used: unlock-code lookups, writes and refused requests, per day
(UTC).

Lookups are the key's LockEvents ("Code looked up through the API"): the lookup writes that
row anyway, so counting them costs the API nothing. Writes likewise are the LockEvents each
Release overlock or Set status by API leaves ("Overlock released", "Status changed", naming
the key); a release that answers the code also counts as the lookup it is.

Refused requests (401, 403, 429 of a known key) must not add a database write to the API:
`refused_count` adds one to a counter in the cache (one atomic add/incr, shared by every
instance when the cache is Redis). `usage_fold`, a Celery beat task every five minutes
(integrations/tasks.py), moves those counts into `ApiKeyUsageDay` rows, so they outlive the
cache (a Redis restart, an eviction, the counters' TTL). A reader (`usage_days`) adds both:
the rows already folded and the counts still waiting in the cache, so the chart is exact at
once, folded or not.

Days are UTC days for both, so one day's bars always compare the same 24 hours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from davinci import counters
from facilities.models import LockEvent
from facilities.querysets import first_names_of
from integrations.models import ApiKey, ApiKeyUsageDay

REFUSED_STATUSES = (401, 403, 429)
# The LockEvents of a key's writes, counted in the index `lockevent_key_writes` (its condition
# names the same kinds).
WRITE_KINDS = [LockEvent.Kind.RELEASED, LockEvent.Kind.STATUS_CHANGED]
CHART_DAYS = 30
LIST_DAYS = 7
# Counts wait at most this long in the cache; the fold looks back over FOLD_DAYS days, so a
# beat that was down for a while still folds what is left.
PENDING_TTL = 9 * 24 * 60 * 60
FOLD_DAYS = 8
FOLD_BATCH = 200  # keys per cache round trip
FOLD_LOCK = "api-usage:fold-lock"
FOLD_LOCK_SECONDS = 10 * 60


def _today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(UTC).date()


def _counter(api_key_id: int, day: date, status: int) -> str:
    return f"api-usage:refused:{api_key_id}:{day:%Y%m%d}:{status}"


def refused_count(*, api_key_id: int, status: int) -> None:
    """Count one refused request of this key today, in the cache only (no database)."""
    if status in REFUSED_STATUSES:
        counters.count(_counter(api_key_id, _today(), status), timeout=PENDING_TTL)


def usage_fold(*, now: datetime | None = None) -> int:
    """Move the refused-request counts waiting in the cache into ApiKeyUsageDay rows, and
    return how many were moved. One run at a time (a cache lock), so no count is moved twice.

    Each count is written to the row first and then taken off its counter (`decr` by what was
    read, so requests counted meanwhile stay for the next run). A crash between the two counts
    it again on the next run: a count may be doubled in that rare case, never lost.
    """
    if not cache.add(FOLD_LOCK, 1, timeout=FOLD_LOCK_SECONDS):
        return 0
    try:
        today = _today(now)
        days = [today - timedelta(days=n) for n in range(FOLD_DAYS)]
        key_ids = list(ApiKey.objects.order_by("pk").values_list("pk", flat=True))
        moved = 0
        for start in range(0, len(key_ids), FOLD_BATCH):
            names = {
                _counter(key_id, day, status): (key_id, day, status)
                for key_id in key_ids[start : start + FOLD_BATCH]
                for day in days
                for status in REFUSED_STATUSES
            }
            for name, value in cache.get_many(list(names)).items():
                count = int(value or 0)
                if count <= 0:
                    continue
                _fold_one(*names[name], count)
                with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take
                    cache.decr(name, count)
                moved += count
        return moved
    finally:
        cache.delete(FOLD_LOCK)


@transaction.atomic
def _fold_one(api_key_id: int, day: date, status: int, count: int) -> None:
    row, _ = ApiKeyUsageDay.objects.get_or_create(api_key_id=api_key_id, day=day)
    column = f"refused_{status}"
    ApiKeyUsageDay.objects.filter(pk=row.pk).update(**{column: F(column) + count})


@dataclass
class Day:
    day: date
    lookups: int = 0
    writes: int = 0
    refused: dict[int, int] = field(default_factory=lambda: dict.fromkeys(REFUSED_STATUSES, 0))

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def refused_by_status(self) -> list[int]:
        """The refused counts in REFUSED_STATUSES order (401, 403, 429), for a table row."""
        return [self.refused[status] for status in REFUSED_STATUSES]


def usage_days(*, api_key: ApiKey, days: int = CHART_DAYS) -> list[Day]:
    """The last `days` days (UTC, oldest first, today included) of this key: its lookups, its
    writes and its refused requests by status. Three queries and one cache round trip,
    whatever the use; the lookups are counted in the index `lockevent_key_time` alone, the
    writes in `lockevent_key_writes`."""
    today = _today()
    first = today - timedelta(days=days - 1)
    by_day = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    lookups = (
        LockEvent.objects.filter(
            api_key=api_key, kind=LockEvent.Kind.CODE_LOOKED_UP, created_at__gte=since
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(count=Count("*"))  # not a column: nothing to read beyond the index
    )
    for row in lookups:
        if row["day"] in by_day:
            by_day[row["day"]].lookups = row["count"]
    writes = (
        LockEvent.objects.filter(
            api_key=api_key, kind__in=WRITE_KINDS, created_at__gte=since, api_key__isnull=False
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(count=Count("*"))
    )
    for row in writes:
        if row["day"] in by_day:
            by_day[row["day"]].writes = row["count"]
    for row in ApiKeyUsageDay.objects.filter(api_key=api_key, day__gte=first):
        if row.day in by_day:
            for status in REFUSED_STATUSES:
                by_day[row.day].refused[status] += getattr(row, f"refused_{status}")
    names = {
        _counter(api_key.pk, day, status): (day, status)
        for day in by_day
        for status in REFUSED_STATUSES
    }
    for name, value in cache.get_many(list(names)).items():
        day, status = names[name]
        by_day[day].refused[status] += max(0, int(value or 0))
    return list(by_day.values())


def with_list_usage(keys: Sequence[ApiKey]) -> Sequence[ApiKey]:
    """Set on each key of one page of the API Settings list, read through
    `ApiKey.objects.with_facility_summary()`: `recent_lookups` (its lookups in the last
    LIST_DAYS days), `facility_count` (how many facilities are chosen for it),
    `readable_count` (how many it can read now: ApiKey.facilities_in_scope) and
    `first_facilities` (the names of the first three chosen).

    Two queries for the page, each for the page's keys only, whatever their history: no
    count is multiplied by another through a join, and the lookups are counted in the index
    `lockevent_key_time` (api_key, created_at, of lookups only) without reading the events."""
    if not keys:
        return keys
    ids = [key.pk for key in keys]
    since = timezone.now() - timedelta(days=LIST_DAYS)
    lookups = dict(
        LockEvent.objects.filter(
            api_key_id__in=ids, kind=LockEvent.Kind.CODE_LOOKED_UP, created_at__gte=since
        )
        .order_by()
        .values("api_key_id")
        .annotate(count=Count("*"))
        .values_list("api_key_id", "count")
    )
    readable = Q(facility__include_in_api=True, facility__account_id=F("apikey__account_id"))
    chosen = {
        key_id: (count, can_read)
        for key_id, count, can_read in ApiKey.facilities.through.objects.filter(apikey_id__in=ids)
        .order_by()
        .values("apikey_id")
        .annotate(count=Count("*"), readable=Count("facility_id", filter=readable))
        .values_list("apikey_id", "count", "readable")
    }
    for key in keys:
        count, can_read = chosen.get(key.pk, (0, 0))
        key.recent_lookups = lookups.get(key.pk, 0)
        key.facility_count = count
        key.readable_count = key.included_in_account if key.all_facilities else can_read
        key.first_facilities = first_names_of(key)
    return keys
