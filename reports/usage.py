"""Lock usage: the locks counting towards the lock limit (what DaVinci bills on) at the end
of each UTC day, per facility and for the account.

A day's count is kept in LockUsageDay rows, never counted again. They are written by
`lock_usage_fill`, which the nightly task (reports/tasks.py) runs just after midnight UTC:
the count at the end of a day is the count now, minus what the lock history says changed
since (each LockEvent that moved a lock into or out of a counting status). Run for the day
that just ended, that is a snapshot; run for older days (the first night, or after the task
was down), it rebuilds them from history, as far back as the history reaches: before the
account's first remaining LockEvent (history past the retention period is archived and
removed, facilities/retention.py) a day cannot be known, and the report says so.

A lock is counted at its facility of today (a lock moved to another facility takes its past
with it); the account's total is exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from davinci.accounts.models import Account
from facilities.models import Facility, Lock, LockEvent
from facilities.statuses import LIMIT_STATUSES
from reports.models import LockUsageDay

COUNTING = sorted(LIMIT_STATUSES)
BATCH = 5_000


def utc_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def history_starts(account: Account) -> date | None:
    """The first UTC day whose end count the history can rebuild: the day of the account's
    oldest remaining LockEvent (None: no history at all)."""
    first = LockEvent.objects.for_account(account).aggregate(first=Min("created_at"))["first"]
    return first.astimezone(UTC).date() if first else None


def counted_since(account: Account) -> date | None:
    """The first day counted for the account (from the history or by a snapshot): days
    before it are not known. One index lookup."""
    return (
        LockUsageDay.objects.for_account(account)
        .filter(facility__isnull=True)
        .aggregate(first=Min("day"))["first"]
    )


def _changes_since(account: Account, since: datetime) -> dict[tuple[date, int], int]:
    """{(day, facility pk): net change of counting locks that day} from `since` on: +1 for
    each event that put a lock into a counting status from one that does not, -1 the other
    way. One grouped query."""
    into = Q(to_status__in=COUNTING) & ~Q(from_status__in=COUNTING)
    out_of = Q(from_status__in=COUNTING) & ~Q(to_status__in=COUNTING)
    rows = (
        LockEvent.objects.for_account(account)
        .filter(created_at__gte=since)
        .filter(into | out_of)
        .annotate(
            day=TruncDate("created_at", tzinfo=UTC),
            delta=Case(When(into, then=Value(1)), default=Value(-1), output_field=IntegerField()),
        )
        .order_by()
        .values("day", "lock__facility_id")
        .annotate(net=Sum("delta"))
        .values_list("day", "lock__facility_id", "net")
    )
    return {(day, facility): net for day, facility, net in rows}


def _counting_now(account: Account) -> dict[int, int]:
    rows = (
        Lock.objects.for_account(account)
        .counting_towards_limit()
        .order_by()
        .values("facility_id")
        .annotate(n=Count("pk"))
        .values_list("facility_id", "n")
    )
    return dict(rows)


def missing_days(account: Account, *, now: datetime) -> list[date]:
    """The days up to yesterday (UTC) without a count that can still get one: yesterday
    always (today's history is all there), older days from history_starts() on. Newest
    first."""
    yesterday = utc_today(now) - timedelta(days=1)
    # Once counting has started, only the days since can be missing (a night the task did
    # not run); reading where history starts costs a walk of it, so only the first run does.
    starts = counted_since(account) or history_starts(account)
    first = min(starts, yesterday) if starts else yesterday
    have = set(
        LockUsageDay.objects.for_account(account)
        .filter(facility__isnull=True, day__gte=first)
        .values_list("day", flat=True)
    )
    days = (yesterday - timedelta(days=n) for n in range((yesterday - first).days + 1))
    return [day for day in days if day not in have]


@transaction.atomic
def lock_usage_fill(*, account: Account, days: list[date], now: datetime) -> int:
    """Write the end-of-day counts of `days` (missing_days()), per facility and for the
    account; return how many days were written. The day that just ended is a snapshot, older
    days are rebuilt from history. Two grouped queries whatever the number of days."""
    if not days:
        return 0
    yesterday = utc_today(now) - timedelta(days=1)
    counts = defaultdict(int, _counting_now(account))
    changes = _changes_since(account, day_start(min(days) + timedelta(days=1)))
    by_day: dict[date, dict[int, int]] = defaultdict(dict)
    for (day, facility), net in changes.items():
        by_day[day][facility] = net
    wanted = set(days)
    rows = []
    day = utc_today(now)
    while day > min(days):
        # counts holds the end of `day`; take that day's changes off for the day before.
        for facility, net in by_day.get(day, {}).items():
            counts[facility] -= net
        day -= timedelta(days=1)
        if day in wanted:
            source = (
                LockUsageDay.Source.SNAPSHOT if day == yesterday else LockUsageDay.Source.HISTORY
            )
            common = {"account": account, "day": day, "source": source}
            rows.append(LockUsageDay(facility=None, counting=sum(counts.values()), **common))
            rows += [
                LockUsageDay(facility_id=facility, counting=count, **common)
                for facility, count in counts.items()
                if count > 0
            ]
    LockUsageDay.objects.bulk_create(rows, batch_size=BATCH)
    return len(wanted)


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDay:
    day: date
    counting: int | None  # None: not known (before the history, or not yet counted)
    live: bool = False  # today: the count now


@dataclass(frozen=True)
class UsageMonth:
    month: date  # its first day
    peak: int
    average: float
    days_known: int
    days: int


def usage_days(
    *, account: Account, facilities: QuerySet[Facility] | None, first: date, last: date
) -> list[UsageDay]:
    """Each day of `first`..`last` (oldest first): the account's count (`facilities` None)
    or the sum over `facilities`. Today's is the live count. Two queries (three with
    facilities), whatever the account's size: the account's total is one row a day."""
    today = utc_today()
    kept = LockUsageDay.objects.for_account(account).filter(day__range=(first, last))
    totals = dict(kept.filter(facility__isnull=True).values_list("day", "counting"))
    if facilities is not None:
        summed = dict(
            kept.filter(facility__in=facilities)
            .order_by()
            .values("day")
            .annotate(n=Sum("counting"))
            .values_list("day", "n")
        )
        # A known day (its total row exists) without a facility's row counted none there.
        totals = {day: summed.get(day, 0) for day in totals}
    days = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if day == today:
            locks = Lock.objects.for_account(account).counting_towards_limit()
            if facilities is not None:
                locks = locks.filter(facility__in=facilities)
            days.append(UsageDay(day, locks.count(), live=True))
        elif day < today:
            days.append(UsageDay(day, totals.get(day)))
    return days


def usage_months(days: list[UsageDay]) -> list[UsageMonth]:
    """Per calendar month of `days`: the highest day (what the month's bill counts at most),
    the average of the known days, and how many days are known."""
    months: dict[date, list[UsageDay]] = defaultdict(list)
    for day in days:
        months[day.day.replace(day=1)].append(day)
    result = []
    for month, month_days in months.items():
        known = [day.counting for day in month_days if day.counting is not None]
        result.append(
            UsageMonth(
                month=month,
                peak=max(known, default=0),
                average=round(sum(known) / len(known), 1) if known else 0.0,
                days_known=len(known),
                days=len(month_days),
            )
        )
    return result
