from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Case, Count, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from facilities.statuses import LIMIT_STATUSES

if TYPE_CHECKING:
    from davinci.accounts.models import Account, Membership

# The status filter value for units that have no lock on their door.
NO_LOCK = "none"
# The shortest text searched inside numbers: a trigram, what PostgreSQL's trigram indexes
# (migration 0010) need to find it without reading every row; shorter text matches whole.
CONTAINS_MIN_LENGTH = 3
SERIAL_LENGTH = 8
# How many of a key's or a member's chosen facilities a list names ("A, B, C and 1,997 more").
FIRST_FACILITIES = 3
# Up to this many choices, a row's first names are read from its choices (sorted); past it,
# by walking the account's facilities in name order until three of the row's are met.
FEW_CHOSEN = 50


def _count_of(queryset: models.QuerySet, field: str) -> Coalesce:
    """A correlated COUNT(*) subquery: one row per outer row, no join fan-out."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=models.IntegerField()), 0)


def first_names_of(row: models.Model) -> list[str]:
    """The facility names FacilityQuerySet.first_names_chosen_by annotated on `row`."""
    names = (getattr(row, f"first_facility_{n + 1}") for n in range(FIRST_FACILITIES))
    return [name for name in names if name]


class FacilityQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> FacilityQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> FacilityQuerySet:
        """The facilities a member sees: their account's, narrowed to the chosen ones unless
        they have All Facilities. The one rule of facility access, as for_account() is of
        tenancy; a join in the same query, never a query per row."""
        facilities = self.filter(account_id=membership.account_id)
        if not membership.all_facilities:
            facilities = facilities.filter(memberships=membership)
        return facilities

    def included_in_api(self) -> FacilityQuerySet:
        return self.filter(include_in_api=True)

    def search(self, q: str) -> FacilityQuerySet:
        """Name or address (street, city, state, ZIP) containing `q`, case-insensitive, or
        exactly that Facility ID. Callers scope it to an account first and bound the result:
        the account's facilities are the rows read."""
        q = q.strip()
        if not q:
            return self
        return self.filter(
            Q(name__icontains=q) | Q(address__icontains=q) | Q(facility_id=q.lower())
        )

    def first_names_chosen_by(self, relation: str, *, row_field: str) -> dict[str, Case]:
        """Annotations for a list of API keys or members: `first_facility_1` … `_3`, the
        names of the first three facilities the row chose, in name order. `relation` is the
        facility's name for the rows ("api_keys", "memberships"), `row_field` the row's on
        the table of choices ("apikey", "membership").

        A row with All Facilities reads nothing. A row with few choices (FEW_CHOSEN) reads
        just those and sorts them; a row with many walks its account's facilities in name
        order (the index on account and name) until it meets three of its own, about
        facilities / choices rows. Either way a few dozen rows, however many it chose."""
        choices = getattr(self.model, relation).through.objects.filter(
            **{row_field: OuterRef("pk")}
        )
        has_many = Exists(choices.order_by("pk")[FEW_CHOSEN : FEW_CHOSEN + 1])
        few = choices.order_by("facility__name", "facility_id").values("facility__name")
        many = (
            self.filter(account_id=OuterRef("account_id"), **{relation: OuterRef("pk")})
            .order_by("name", "id")
            .values("name")
        )
        return {
            f"first_facility_{n + 1}": Case(
                When(all_facilities=True, then=Value(None)),
                When(has_many, then=Subquery(many[n : n + 1])),
                default=Subquery(few[n : n + 1]),
                output_field=models.CharField(),
            )
            for n in range(FIRST_FACILITIES)
        }

    def chosen_count(self, relation: str, *, row_field: str) -> Coalesce:
        """How many facilities the outer row (an API key, a member) chose: a count on the
        table of choices' index, never reading the facilities."""
        choices = getattr(self.model, relation).through.objects
        return _count_of(choices.all(), row_field)

    def with_counts(self) -> FacilityQuerySet:
        """`unit_count`, `lock_count` and `limit_count` (its locks that count towards the lock
        limit) as subqueries (a double join would multiply rows)."""
        units = self.model._meta.get_field("units").related_model.objects
        locks = self.model._meta.get_field("locks").related_model.objects
        return self.annotate(
            unit_count=_count_of(units.all(), "facility"),
            lock_count=_count_of(locks.all(), "facility"),
            limit_count=_count_of(locks.counting_towards_limit(), "facility"),
        )


def _in_facilities_of(membership: Membership) -> models.QuerySet:
    """The ids of the facilities chosen for a member without All Facilities, as a subquery
    for other models' filters (which also keep to the member's account)."""
    return membership.facilities.values("pk")


class UnitQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> UnitQuerySet:
        return self.filter(facility__account=account)

    def for_membership(self, membership: Membership) -> UnitQuerySet:
        units = self.filter(facility__account_id=membership.account_id)
        if membership.all_facilities:
            return units
        return units.filter(facility_id__in=_in_facilities_of(membership))

    def with_lock(self) -> UnitQuerySet:
        return self.select_related("lock")

    def search(self, q: str) -> UnitQuerySet:
        """Unit number or the serial of the lock on its door, case-insensitive."""
        q = q.strip()
        if not q:
            return self
        return self.filter(Q(unit_number__icontains=q) | Q(lock__serial__icontains=q))

    def number_matching(self, q: str) -> UnitQuerySet:
        """Units whose number is `q` or, from CONTAINS_MIN_LENGTH characters on, contains
        it (case-insensitive): exact matches first, then by number and facility. PostgreSQL
        answers both from the trigram index on UPPER(unit_number), never by reading every
        unit."""
        q = q.strip()
        if len(q) < CONTAINS_MIN_LENGTH:
            return self.filter(unit_number__iexact=q).order_by("unit_number", "facility__name")
        exact_first = Case(When(unit_number__iexact=q, then=Value(0)), default=Value(1))
        return self.filter(unit_number__icontains=q).order_by(
            exact_first, "unit_number", "facility__name"
        )

    def with_lock_status(self, status: str) -> UnitQuerySet:
        """Units whose lock is in `status`; NO_LOCK for units with no lock; "" for all."""
        if not status:
            return self
        if status == NO_LOCK:
            return self.filter(lock__isnull=True)
        return self.filter(lock__status=status)


class LockQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> LockQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> LockQuerySet:
        locks = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return locks
        return locks.filter(facility_id__in=_in_facilities_of(membership))

    def search(self, q: str) -> LockQuerySet:
        q = q.strip()
        if not q:
            return self
        return self.filter(Q(serial__icontains=q) | Q(unit__unit_number__icontains=q))

    def serial_matching(self, q: str) -> LockQuerySet:
        """Locks whose serial is `q` or, from CONTAINS_MIN_LENGTH characters on, contains it.
        Serials are capitals: a whole serial is an equality on the unique index, part of one
        a LIKE that PostgreSQL answers from the trigram index on serial."""
        q = q.strip().upper()
        if len(q) < CONTAINS_MIN_LENGTH or len(q) == SERIAL_LENGTH:
            return self.filter(serial=q)
        return self.filter(serial__contains=q)

    def counting_towards_limit(self) -> LockQuerySet:
        """The locks DaVinci bills for: every status on a unit, and On Dropbox."""
        return self.filter(status__in=sorted(LIMIT_STATUSES))

    def status_counts(self) -> dict[str, int]:
        """{status: number of locks}, in one GROUP BY query."""
        rows = self.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
        return dict(rows)


class LockEventQuerySet(models.QuerySet):
    """History is append-only: rows are added, never changed or removed in bulk."""

    def for_account(self, account: Account) -> LockEventQuerySet:
        return self.filter(lock__account=account)

    def for_membership(self, membership: Membership) -> LockEventQuerySet:
        events = self.filter(lock__account_id=membership.account_id)
        if membership.all_facilities:
            return events
        return events.filter(lock__facility_id__in=_in_facilities_of(membership))

    def with_actors(self) -> LockEventQuerySet:
        return self.select_related("actor_user", "api_key", "unit")

    def update(self, **kwargs):
        raise TypeError("Lock events are append-only.")

    def delete(self):
        raise TypeError("Lock events are append-only.")


class HistoryArchiveQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> HistoryArchiveQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> HistoryArchiveQuerySet:
        """An archive holds the history of every facility of the account: only the owner
        reaches it; anyone else, as another account, finds nothing (404)."""
        if not membership.is_owner:
            return self.none()
        return self.filter(account_id=membership.account_id)

    def done(self) -> HistoryArchiveQuerySet:
        """Archives whose rows have left the tables: complete, and the only ones listed."""
        return self.filter(state="done")
