"""The nightly count of the reports: for each account, each finished UTC day not counted yet
gets its lock usage (reports/usage.py) and its code disclosures (reports/disclosures.py), in
one transaction, so a day is either wholly counted or not at all."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from davinci.accounts.models import Account
from reports.disclosures import disclosures_roll_up
from reports.usage import lock_usage_fill, missing_days


@transaction.atomic
def reports_daily_account(*, account: Account, now: datetime) -> int:
    """Count `account`'s missing days (yesterday on a normal night; the whole history the
    first time); the days written."""
    days = missing_days(account, now=now)
    disclosures_roll_up(account=account, days=days)
    return lock_usage_fill(account=account, days=days, now=now)


def reports_daily_all(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        reports_daily_account(account=account, now=now)
        for account in Account.objects.order_by("pk")
    )
