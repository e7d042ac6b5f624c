"""Code disclosures: how many times unlock codes were revealed in the portal (per user) and
read through the API (per key), per facility, over a period.

Each disclosure is a LockEvent ("Code revealed in the portal", "Code looked up through the
API"); at the largest operator's size (4 million lookups a year) counting them live for a
period would read millions of rows. So the nightly task (reports/tasks.py) rolls each
finished UTC day up into DisclosureDay rows (one per day, facility, kind and user or key),
and a period is the sum of its rolled-up days plus today's events, counted live (a day's
worth). Days are rolled up in the same run that counts their lock usage (reports/usage.py),
from the account's first remaining LockEvent on. A disclosure counts at its lock's facility
of the day it was rolled up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from davinci.accounts.models import Account, User
from facilities.models import Facility, LockEvent
from integrations.models import ApiKey
from reports.models import DisclosureDay
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
    """Write DisclosureDay rows for `days` (finished days not rolled up yet: the days
    reports/usage.py's missing_days() returns, in the same transaction as their usage). One
    grouped query for all of them; returns the rows written."""
    if not days:
        return 0
    wanted = set(days)
    grouped = (
        _events(account, min(days), max(days))
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day", *COLUMNS)
        .annotate(n=Count("pk"))
        .values_list("day", *COLUMNS, "n")
    )
    rows = [
        DisclosureDay(
            account=account,
            day=day,
            facility_id=facility,
            kind=kind,
            actor_user_id=user,
            api_key_id=key,
            count=n,
        )
        for day, facility, kind, user, key, n in grouped
        if day in wanted
    ]
    DisclosureDay.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


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


def disclosures_for(
    *, account: Account, facilities: QuerySet[Facility] | None, first: date, last: date
) -> Disclosures:
    """The disclosures of `first`..`last` (UTC days) at `facilities` (None: all of the
    account's), each grouping largest first. Rolled-up days are summed from DisclosureDay,
    today counted live; four queries and the names of the users, keys and facilities met."""
    today = utc_today()
    counts: Counter = Counter()  # (facility, kind, user, key) -> n
    if first < today:
        kept = DisclosureDay.objects.for_account(account).filter(
            day__range=(first, min(last, today - timedelta(days=1)))
        )
        if facilities is not None:
            kept = kept.filter(facility__in=facilities)
        for facility, kind, user, key, n in (
            kept.order_by()
            .values("facility_id", "kind", "actor_user_id", "api_key_id")
            .annotate(n=Sum("count"))
            .values_list("facility_id", "kind", "actor_user_id", "api_key_id", "n")
        ):
            counts[(facility, kind, user, key)] += n
    if last >= today:
        live = _events(account, today, today)
        if facilities is not None:
            live = live.filter(lock__facility__in=facilities)
        for facility, kind, user, key, n in (
            live.order_by().values(*COLUMNS).annotate(n=Count("pk")).values_list(*COLUMNS, "n")
        ):
            counts[(facility, kind, user, key)] += n
    return _grouped(counts)


def _grouped(counts: Counter) -> Disclosures:
    by: dict[str, Counter] = {"user": Counter(), "api_key": Counter(), "facility": Counter()}
    for (facility, kind, user, key), n in counts.items():
        column = "revealed" if kind == DisclosureDay.Kind.REVEALED else "looked_up"
        by["facility"][(facility, column)] += n
        if user is not None:
            by["user"][(user, column)] += n
        if key is not None:
            by["api_key"][(key, column)] += n
    names = {
        "user": {
            u.pk: u.name or u.email
            for u in User.objects.filter(pk__in={pk for pk, _ in by["user"]})
        },
        "api_key": dict(
            ApiKey.objects.filter(pk__in={pk for pk, _ in by["api_key"]}).values_list("pk", "name")
        ),
        "facility": dict(
            Facility.objects.filter(pk__in={pk for pk, _ in by["facility"]}).values_list(
                "pk", "name"
            )
        ),
    }
    groups = {}
    for kind, counter in by.items():
        rows = {}
        for (pk, column), n in counter.items():
            row = rows.get(pk) or Row(by=kind, pk=pk, name=names[kind].get(pk, "(removed)"))
            rows[pk] = replace(row, **{column: getattr(row, column) + n})
        groups[kind] = sorted(rows.values(), key=lambda row: (-row.total, row.name, row.pk))
    return Disclosures(users=groups["user"], keys=groups["api_key"], facilities=groups["facility"])
