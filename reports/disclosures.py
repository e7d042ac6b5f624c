"""Code disclosures: how many times unlock codes were revealed in the portal (per user) and
read through the API (per key), per facility, over a period.

Each disclosure is a LockEvent ("Code revealed in the portal", "Code looked up through the
API"); at the largest operator's size (4 million lookups a year) counting them live for a
period would read millions of rows, and so would one roll-up crossing facility, user and
key (3.4 million rows a year). So the nightly task (reports/tasks.py) rolls each finished
UTC day up three ways (reports/models.py):
- DisclosureFacilityTotal: each facility's running totals at the end of the day, so a
  period's count per facility is two rows per facility (its end minus the day before its
  start), whatever the period's length;
- DisclosureActorDay: per user or key and day (a hundred rows a day at most);
- DisclosureDay: per facility, user or key and day, read only by a report narrowed to some
  facilities (its users and keys there), so bounded by those facilities' disclosures.
A period counts finished UTC days only: today's disclosures are counted after midnight
UTC (each is already a line of its lock's history and of the audit export). Counting today
live was measured at the largest size: a day's 8,500 reads joined to their 110,000 locks
took 150 ms, half the page's budget, and grows with the day's traffic. The names come in the
same queries (joins), so the page runs the same queries at any size.
Days are rolled up in the same run that counts their lock usage (reports/usage.py), from
the account's first remaining LockEvent on. A disclosure counts at its lock's facility of
the day it was rolled up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.db.models import Count, F, Max, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from davinci.accounts.models import Account
from facilities.models import Facility, LockEvent
from reports.models import DisclosureActorDay, DisclosureDay, DisclosureFacilityTotal
from reports.usage import BATCH, day_start, utc_today

KINDS = [DisclosureDay.Kind.REVEALED, DisclosureDay.Kind.LOOKED_UP]
COLUMNS = ("lock__facility_id", "kind", "actor_user_id", "api_key_id")


def _events(account: Account, first: date, last: date) -> QuerySet[LockEvent]:
    """The account's disclosures on the UTC days first..last."""
    return LockEvent.objects.for_account(account).filter(
        kind__in=KINDS,
        created_at__gte=day_start(first),
        created_at__lt=day_start(last + timedelta(days=1)),
    )


def disclosures_roll_up(*, account: Account, days: list[date]) -> int:
    """Write the roll-ups of `days` (finished days not rolled up yet: the days
    reports/usage.py's missing_days() returns, in the same transaction as their usage). Three
    queries for all of them (the last totals kept, the events grouped); returns the rows
    written."""
    if not days:
        return 0
    wanted = set(days)
    kept = DisclosureFacilityTotal.objects.filter(account=account, day__lt=min(days))
    base_day = kept.aggregate(day=Max("day"))["day"]
    totals: dict[int, list[int]] = {
        facility: [revealed, looked_up]
        for facility, revealed, looked_up in kept.filter(day=base_day).values_list(
            "facility_id", "revealed", "looked_up"
        )
    }
    first = base_day + timedelta(days=1) if base_day else min(days)
    grouped = (
        _events(account, first, max(days))
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day", *COLUMNS)
        .annotate(n=Count("pk"))
        .values_list("day", *COLUMNS, "n")
    )
    by_day: dict[date, list[tuple]] = defaultdict(list)
    for day, *rest in grouped:
        by_day[day].append(tuple(rest))
    rows: list = []
    day = first
    while day <= max(days):
        actors: Counter = Counter()
        for facility, kind, user, key, n in by_day.get(day, []):
            column = 0 if kind == DisclosureDay.Kind.REVEALED else 1
            totals.setdefault(facility, [0, 0])[column] += n
            actors[(user, key, column)] += n
            if day in wanted:
                rows.append(_day_row(account, day, facility, kind, user, key, n))
        if day in wanted:
            rows += _actor_rows(account, day, actors)
            rows += [
                DisclosureFacilityTotal(
                    account=account, day=day, facility_id=facility, revealed=r, looked_up=a
                )
                for facility, (r, a) in totals.items()
            ]
        day += timedelta(days=1)
    for model in (DisclosureDay, DisclosureActorDay, DisclosureFacilityTotal):
        model.objects.bulk_create([r for r in rows if type(r) is model], batch_size=BATCH)
    return len(rows)


def _day_row(account, day, facility, kind, user, key, n) -> DisclosureDay:
    return DisclosureDay(
        account=account,
        day=day,
        facility_id=facility,
        kind=kind,
        actor_user_id=user,
        api_key_id=key,
        count=n,
    )


def _actor_rows(account: Account, day: date, actors: Counter) -> list[DisclosureActorDay]:
    merged: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (user, key, column), n in actors.items():
        merged[(user, key)][column] += n
    return [
        DisclosureActorDay(
            account=account, day=day, actor_user_id=user, api_key_id=key, revealed=r, looked_up=a
        )
        for (user, key), (r, a) in merged.items()
    ]


@dataclass(frozen=True)
class Row:
    """One line of the report: who or where, and how many codes it disclosed."""

    by: str  # "user", "api_key", "facility"
    pk: int
    name: str
    revealed: int = 0
    looked_up: int = 0

    @property
    def total(self) -> int:
        return self.revealed + self.looked_up


@dataclass(frozen=True)
class Disclosures:
    users: list[Row]
    keys: list[Row]
    facilities: list[Row]

    @property
    def revealed(self) -> int:
        return sum(row.revealed for row in self.facilities)

    @property
    def looked_up(self) -> int:
        return sum(row.looked_up for row in self.facilities)

    @property
    def rows(self) -> list[Row]:
        return [*self.users, *self.keys, *self.facilities]


class _Tally:
    """Rows being summed: (by, pk) -> [name, revealed, looked_up]."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], list] = {}

    def add(self, by: str, pk: int | None, name: str, revealed: int, looked_up: int) -> None:
        if pk is None:
            return
        row = self.rows.setdefault((by, pk), [name, 0, 0])
        row[1] += revealed
        row[2] += looked_up

    def grouped(self, by: str) -> list[Row]:
        rows = [
            Row(by=kind, pk=pk, name=name, revealed=r, looked_up=a)
            for (kind, pk), (name, r, a) in self.rows.items()
            if kind == by and r + a
        ]
        return sorted(rows, key=lambda row: (-row.total, row.name, row.pk))


def disclosures_for(
    *, account: Account, facilities: QuerySet[Facility] | None, first: date, last: date
) -> Disclosures:
    """The disclosures of `first`..`last` (UTC days; today not yet: see the module) at
    `facilities` (None: all of the account's), each grouping largest first, from the
    roll-ups: per facility the running totals at the period's end minus those before its
    start. Two queries with the names, whatever the account's size and the period's."""
    tally = _Tally()
    end = min(last, utc_today() - timedelta(days=1))
    found = []
    if first <= end:
        found = [
            Row(by="facility", pk=pk, name=name, revealed=r, looked_up=a)
            for pk, name, r, a in _facility_counts(account, facilities, first, end)
        ]
        for user, user_name, email, key, key_name, r, a in _actors(account, facilities, first, end):
            tally.add("user", user, user_name or email, r, a)
            tally.add("api_key", key, key_name, r, a)
    return Disclosures(
        users=tally.grouped("user"),
        keys=tally.grouped("api_key"),
        facilities=found,
    )


def _last_counted(account: Account, day: date) -> Subquery:
    """The last day counted up to `day` (none before counting started)."""
    return Subquery(
        DisclosureFacilityTotal.objects.filter(account=account, day__lte=day)
        .order_by("-day")
        .values("day")[:1]
    )


def _facility_counts(
    account: Account, facilities: QuerySet[Facility] | None, first: date, last: date
):
    """(facility pk, name, revealed, looked_up) over first..last, the most first: each
    facility's running totals at the end of `last` minus those before `first` (zero before
    counting started), subtracted, filtered and sorted by the database: one pass over two
    rows per facility."""
    end, before = _last_counted(account, last), _last_counted(account, first - timedelta(1))

    def period(column: str) -> Coalesce:
        # Both sums, not a sign per row: a period with no counted day has end == before.
        return Coalesce(Sum(column, filter=Q(day=end)), 0) - Coalesce(
            Sum(column, filter=Q(day=before)), 0
        )

    totals = DisclosureFacilityTotal.objects.filter(account=account).filter(
        Q(day=end) | Q(day=before)
    )
    if facilities is not None:
        totals = totals.filter(facility__in=facilities)
    return (
        totals.values("facility_id", "facility__name")
        .annotate(r=period("revealed"), a=period("looked_up"))
        .annotate(n=F("r") + F("a"))
        .filter(n__gt=0)
        .order_by("-n", "facility__name", "facility_id")
        .values_list("facility_id", "facility__name", "r", "a")
    )


def _actors(account: Account, facilities: QuerySet[Facility] | None, first: date, last: date):
    """(user pk, name, email, key pk, key name, revealed, looked_up) summed over the days:
    from the per-actor roll-up, or, narrowed to some facilities, from the per-facility one."""
    names = ("actor_user_id", "actor_user__name", "actor_user__email", "api_key_id")
    if facilities is None:
        rows = DisclosureActorDay.objects.filter(account=account, day__range=(first, last))
        sums = {"r": Sum("revealed"), "a": Sum("looked_up")}
    else:
        rows = DisclosureDay.objects.for_account(account).filter(
            day__range=(first, last), facility__in=facilities
        )
        revealed = Q(kind=DisclosureDay.Kind.REVEALED)
        sums = {
            "r": Coalesce(Sum("count", filter=revealed), 0),
            "a": Coalesce(Sum("count", filter=~revealed), 0),
        }
    return (
        rows.order_by()
        .values(*names, "api_key__name")
        .annotate(**sums)
        .values_list(*names, "api_key__name", "r", "a")
        .iterator()
    )
