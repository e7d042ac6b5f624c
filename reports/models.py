"""What the reports keep because counting it live would grow with the account: the locks
counting towards the lock limit at the end of each UTC day, and the unlock codes disclosed
per day. Both are written by the nightly task (reports/tasks.py) and rebuilt from history
where history allows (reports/usage.py, reports/disclosures.py); neither is ever a source of
truth, only a count of one.

The disclosures are kept three ways, so that the report reads a few thousand rows whatever
the account's size: per facility as running totals (DisclosureFacilityTotal: a period is the
difference of two days), per user or key and day (DisclosureActorDay: a hundred rows a day
at most), and per facility, user or key and day (DisclosureDay: what a report narrowed to
some facilities reads, bounded by their disclosures)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from davinci.accounts.models import Account
from facilities.models import Facility


class LockUsageDayQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> LockUsageDayQuerySet:
        return self.filter(account=account)


class LockUsageDay(models.Model):
    """The locks of a facility (or, with no facility, of the whole account) counting towards
    the lock limit at the end of `day` (UTC)."""

    class Source(models.TextChoices):
        SNAPSHOT = "snapshot", "Daily snapshot"
        HISTORY = "history", "Rebuilt from lock history"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    # Null: the account's total (kept, so the account's chart reads one row a day).
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField()
    counting = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices)

    objects = LockUsageDayQuerySet.as_manager()

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["facility", "day"], name="lockusageday_facility_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day"],
                condition=Q(facility__isnull=True),
                name="lockusageday_one_total_a_day",
            ),
            models.UniqueConstraint(
                fields=["account", "facility", "day"],
                condition=Q(facility__isnull=False),
                name="lockusageday_one_per_facility_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.counting}"


class DisclosureDayQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> DisclosureDayQuerySet:
        return self.filter(account=account)


class DisclosureDay(models.Model):
    """How many times, on one UTC day, the codes of one facility's locks were revealed in the
    portal by one user, or read through the API by one key (LockEvents "Code revealed in the
    portal" and "Code looked up through the API")."""

    class Kind(models.TextChoices):
        REVEALED = "code_revealed", "Revealed in the portal"
        LOOKED_UP = "code_looked_up", "Read through the API"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    api_key = models.ForeignKey(
        "integrations.ApiKey",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    count = models.PositiveIntegerField()

    objects = DisclosureDayQuerySet.as_manager()

    class Meta:
        ordering = ["day"]
        indexes = [
            models.Index(fields=["account", "day"], name="disclosureday_account_day"),
            models.Index(fields=["facility", "day"], name="disclosureday_facility_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.count} {self.get_kind_display()}"


class DisclosureFacilityTotal(models.Model):
    """The codes of one facility's locks disclosed from the first counted day to the end of
    `day` (UTC) included: running totals, one row per facility with any disclosure and per
    counted day, so that a period's count is two rows per facility (end minus the day before
    the start), not one per facility and day."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    revealed = models.PositiveIntegerField()
    looked_up = models.PositiveIntegerField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "facility"], name="disclosurefacilitytotal_one_a_day"
            )
        ]
        indexes = [models.Index(fields=["facility", "day"], name="disclosuretotal_facility_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.revealed} revealed, {self.looked_up} read to date"


class DisclosureActorDay(models.Model):
    """The codes disclosed on one UTC day by one user (revealed in the portal) or one API key
    (read through the API), at all the account's facilities."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    api_key = models.ForeignKey(
        "integrations.ApiKey",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    revealed = models.PositiveIntegerField()
    looked_up = models.PositiveIntegerField()

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["account", "day"], name="disclosureactorday_acct_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.revealed} revealed, {self.looked_up} read"
