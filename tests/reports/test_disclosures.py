"""Code disclosures kept three ways (running totals per facility, per user or key and day,
per facility and who): any period is counted right from them, a report narrowed to a
facility counts its users and keys there only, and the page's queries do not grow with the
disclosures."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facilities.models import Facility, LockEvent
from reports.disclosures import disclosures_for
from reports.models import (
    DisclosureActorDay,
    DisclosureDay,
    DisclosureFacilityTotal,
    LockUsageDay,
)
from reports.services import reports_daily_all
from reports.templatetags.report_numbers import thousands
from reports.usage import utc_today
from tests.factories import ApiKeyFactory, FacilityFactory, UnitFactory, UserFactory, assigned_lock


def _disclose(lock, days_ago: int, *, user=None, key=None) -> LockEvent:
    event = LockEvent.objects.create(
        lock=lock,
        actor_type="user" if user else "api_key",
        actor_user=user,
        api_key=key,
        kind="code_revealed" if user else "code_looked_up",
    )
    with connection.cursor() as cursor:  # history is append-only: only SQL moves it in time
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=days_ago), event.pk],
        )
    return event


def _counts(found) -> dict:
    return {(row.by, row.name): (row.revealed, row.looked_up) for row in found.rows}


@pytest.fixture
def history(account, facility, second_facility, owner):
    key = ApiKeyFactory(account=account, name="FMS")
    here = assigned_lock(UnitFactory(facility=facility))
    there = assigned_lock(UnitFactory(facility=second_facility))
    _disclose(here, 6, user=owner)  # the first day of history
    _disclose(here, 5, user=owner)
    _disclose(here, 5, key=key)
    _disclose(there, 3, key=key)
    _disclose(there, 1, user=owner)
    _disclose(here, 0, key=key)  # today: counted after midnight UTC, not yet
    reports_daily_all()
    return {"key": key, "here": here, "there": there}


def test_running_totals_per_facility_and_counts_per_actor_are_kept_per_day(
    history, facility, second_facility, owner
):
    today = utc_today()
    totals = {
        (row.day, row.facility_id): (row.revealed, row.looked_up)
        for row in DisclosureFacilityTotal.objects.all()
    }
    assert totals[(today - timedelta(days=4), facility.pk)] == (2, 1)
    assert (today - timedelta(days=4), second_facility.pk) not in totals
    assert totals[(today - timedelta(days=1), second_facility.pk)] == (1, 1)
    assert totals[(today - timedelta(days=1), facility.pk)] == (2, 1)
    assert not DisclosureFacilityTotal.objects.filter(day=today).exists()
    key = history["key"].pk
    assert set(
        DisclosureActorDay.objects.values_list(
            "day", "actor_user", "api_key", "revealed", "looked_up"
        )
    ) == {
        (today - timedelta(days=6), owner.pk, None, 1, 0),
        (today - timedelta(days=5), owner.pk, None, 1, 0),
        (today - timedelta(days=5), None, key, 0, 1),
        (today - timedelta(days=3), None, key, 0, 1),
        (today - timedelta(days=1), owner.pk, None, 1, 0),
    }


def test_the_next_night_continues_the_running_totals(history, facility, owner):
    reports_daily_all(now=timezone.now() + timedelta(days=1))
    today_row = DisclosureFacilityTotal.objects.get(day=utc_today(), facility=facility)
    assert (today_row.revealed, today_row.looked_up) == (2, 2)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (6, 0, {"Here": (2, 1), "There": (1, 1), "Owner": (3, 0), "FMS": (0, 2)}),
        (4, 2, {"There": (0, 1), "FMS": (0, 1)}),
        (5, 5, {"Here": (1, 1), "Owner": (1, 0), "FMS": (0, 1)}),
        (3, 0, {"There": (1, 1), "Owner": (1, 0), "FMS": (0, 1)}),
        (0, 0, {}),  # today is counted after midnight UTC
        (30, 7, {}),
    ],
)
def test_any_period_counts_its_own_days(
    history, facility, second_facility, owner, first, last, expected
):
    Facility.objects.filter(pk=facility.pk).update(name="Here")
    Facility.objects.filter(pk=second_facility.pk).update(name="There")
    owner.name = "Owner"
    owner.save()
    today = utc_today()
    found = disclosures_for(
        account=facility.account,
        facilities=None,
        first=today - timedelta(days=first),
        last=today - timedelta(days=last),
    )
    assert {name: counts for (_, name), counts in _counts(found).items()} == expected


def test_a_report_narrowed_to_a_facility_counts_its_users_and_keys_there(history, facility, owner):
    today = utc_today()
    found = disclosures_for(
        account=facility.account,
        facilities=Facility.objects.filter(pk=facility.pk),
        first=today - timedelta(days=30),
        last=today,
    )
    assert _counts(found) == {
        ("facility", facility.name): (2, 1),
        ("user", owner.name or owner.email): (2, 0),
        ("api_key", "FMS"): (0, 1),
    }


@pytest.mark.parametrize("narrowed", [False, True])
def test_the_queries_do_not_grow_with_the_disclosures(
    account, facility, owner, other_account, narrowed
):
    def queries(of) -> int:
        today = utc_today()
        facilities = Facility.objects.filter(account=of) if narrowed else None
        with CaptureQueriesContext(connection) as captured:
            found = disclosures_for(
                account=of, facilities=facilities, first=today - timedelta(days=29), last=today
            )
        assert found.rows
        return len(captured)

    lock = assigned_lock(UnitFactory(facility=facility))
    _disclose(lock, 2, user=owner)
    _disclose(lock, 0, user=owner)
    for _ in range(6):
        other = assigned_lock(UnitFactory(facility=FacilityFactory(account=other_account)))
        for days_ago in (3, 2, 0):
            _disclose(other, days_ago, user=UserFactory())
            _disclose(other, days_ago, key=ApiKeyFactory(account=other_account))
    reports_daily_all()

    assert queries(other_account) == queries(account)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (999, "999"), (1234567, "1,234,567"), (-1200, "-1,200"), (None, "")],
)
def test_thousands_writes_counts_as_intcomma_does_in_english(value, shown):
    assert thousands(value) == shown
    if value is not None:
        assert thousands(value) == intcomma(value)


def test_the_migration_builds_the_new_roll_ups_from_the_kept_days(account, facility, owner):
    """reports 0002 rebuilds running totals and per-actor days from DisclosureDay rows (the
    events behind them may be gone with the retention), the nightly run's way."""
    migration = importlib.import_module("reports.migrations.0002_disclosure_totals_and_actor_days")
    key = ApiKeyFactory(account=account)
    today = utc_today()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    for day in days:
        LockUsageDay.objects.create(account=account, day=day, counting=0, source="history")
    for day, kind, user, api_key in [
        (days[0], "code_revealed", owner, None),
        (days[0], "code_looked_up", None, key),
        (days[2], "code_looked_up", None, key),
    ]:
        DisclosureDay.objects.create(
            account=account,
            day=day,
            facility=facility,
            kind=kind,
            actor_user=user,
            api_key=api_key,
            count=2,
        )

    migration.from_disclosure_days(django_apps, None)

    totals = dict(
        DisclosureFacilityTotal.objects.values_list("day")
        .annotate(n=F("revealed") + F("looked_up"))
        .values_list("day", "n")
    )
    assert totals == {days[0]: 4, days[1]: 4, days[2]: 6}
    assert set(
        DisclosureActorDay.objects.values_list(
            "day", "actor_user", "api_key", "revealed", "looked_up"
        )
    ) == {
        (days[0], owner.pk, None, 2, 0),
        (days[0], None, key.pk, 0, 2),
        (days[2], None, key.pk, 0, 2),
    }
