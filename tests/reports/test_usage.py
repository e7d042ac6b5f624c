"""The nightly count: each finished UTC day's lock usage, rebuilt from the lock history as far
back as it reaches, once; the disclosures of the same days rolled up with it; and who may
see reports (the rule table)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from davinci.accounts import permissions
from davinci.accounts.models import Role
from facilities.models import LockEvent, LockStatus
from reports.models import DisclosureDay, LockUsageDay
from reports.services import reports_daily_all
from reports.usage import usage_days, utc_today
from tests.factories import LockFactory, UnitFactory, assigned_lock


def _event(lock, days_ago: int, **fields) -> LockEvent:
    event = LockEvent.objects.create(lock=lock, actor_type="system", **fields)
    with connection.cursor() as cursor:  # history is append-only: only SQL moves it in time
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=days_ago), event.pk],
        )
    return event


def test_past_days_are_rebuilt_from_the_status_changes_once(account, facility, second_facility):
    vacant = assigned_lock(UnitFactory(facility=facility), LockStatus.ASSIGNED_VACANT)
    released = LockFactory(facility=second_facility)  # overlocked, released, set Available
    _event(vacant, 5, kind="created", to_status="available")
    _event(released, 5, kind="created", to_status="available")
    _event(released, 4, kind="assigned", from_status="available", to_status="assigned_overlock")
    _event(vacant, 3, kind="assigned", from_status="available", to_status="assigned_vacant")
    _event(
        released, 1, kind="status_changed", from_status="returned_to_dropbox", to_status="available"
    )

    assert reports_daily_all() == 5  # days 5..1 ago
    assert reports_daily_all() == 0  # counted once

    today = utc_today()
    days = usage_days(account=account, facilities=None, first=today - timedelta(days=6), last=today)
    assert [day.counting for day in days] == [None, 0, 1, 2, 2, 1, 1]
    assert days[-1].live
    one = usage_days(
        account=account,
        facilities=type(facility).objects.filter(pk=facility.pk),
        first=today - timedelta(days=5),
        last=today - timedelta(days=1),
    )
    assert [day.counting for day in one] == [0, 0, 1, 1, 1]
    yesterday = LockUsageDay.objects.get(facility=None, day=today - timedelta(days=1))
    assert yesterday.source == LockUsageDay.Source.SNAPSHOT
    older = LockUsageDay.objects.get(facility=None, day=today - timedelta(days=3))
    assert older.source == LockUsageDay.Source.HISTORY


def test_an_account_without_history_counts_yesterday_only(account, facility):
    assigned_lock(UnitFactory(facility=facility))
    reports_daily_all()
    assert list(LockUsageDay.objects.filter(facility=None).values_list("day", "counting")) == [
        (utc_today() - timedelta(days=1), 1)
    ]


def test_disclosures_of_the_counted_days_are_rolled_up(account, facility, owner):
    lock = assigned_lock(UnitFactory(facility=facility))
    _event(lock, 2, kind="code_revealed", actor_user=owner)
    _event(lock, 2, kind="code_revealed", actor_user=owner)
    _event(lock, 0, kind="code_revealed", actor_user=owner)  # today: counted live, not rolled up

    reports_daily_all()

    day = (timezone.now() - timedelta(days=2)).astimezone(UTC).date()
    assert list(DisclosureDay.objects.values_list("day", "facility", "actor_user", "count")) == [
        (day, facility.pk, owner.pk, 2)
    ]


@pytest.mark.parametrize(
    ("role", "reports", "export"),
    [
        (Role.OWNER, True, True),
        (Role.CLIENT_ADMIN, True, True),
        (Role.CLIENT_PERSONNEL, True, False),
        (Role.CLIENT_PERSONNEL_RESTRICTED, True, False),
        (Role.CLIENT_CALL_CENTER, False, False),
    ],
)
def test_who_sees_reports_and_exports_history(role, reports, export):
    assert permissions.can_see_reports(role) is reports
    assert permissions.can_export_history(role) is export
