"""The four reports on the demo data show what a hand count of the rows gives; each
download, read back, holds exactly the rows the page shows; bad filters are form errors;
who may see them."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from davinci.accounts.models import Account, AuditEvent, Membership, User
from facilities.models import Facility, Lock, LockEvent, LockStatus
from facilities.statuses import LIMIT_STATUSES
from integrations.models import ApiKey
from reports.services import reports_daily_all
from tests.conftest import signed_in
from tests.factories import FacilityFactory, UnitFactory, assigned_lock

REPORTS = [
    "reports:lock_usage",
    "reports:overlocks_by_age",
    "reports:remove_overlock_queue",
    "reports:code_disclosures",
]


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return Account.objects.get(slug="harbor-self-storage")


def _client(email: str):
    return signed_in(User.objects.get(email=email))


def _table(html: str) -> list[list[str]]:
    """The rows of the page's table#report-rows, each cell's text."""
    table = re.search(r'<table[^>]*id="report-rows".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response) -> list[list]:
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- Overlocks by age -------------------------------------------------------------------


def _age(lock: Lock) -> int:
    return (timezone.now().astimezone(UTC).date() - lock.updated_at.astimezone(UTC).date()).days


def test_overlocks_by_age_match_a_hand_count_of_the_demo(demo):
    # Age some of the demo's overlocks, so every bucket has locks.
    overlocks = list(
        Lock.objects.filter(account=demo, status=LockStatus.ASSIGNED_OVERLOCK).order_by("pk")
    )
    for n, lock in enumerate(overlocks):
        Lock.objects.filter(pk=lock.pk).update(
            updated_at=timezone.now() - timedelta(days=[0, 30, 31, 61, 7, 60][n % 6])
        )
    expected: dict[str, Counter] = {}
    for lock in Lock.objects.filter(
        account=demo, status=LockStatus.ASSIGNED_OVERLOCK
    ).select_related("facility"):
        age = _age(lock)
        bucket = 0 if age <= 7 else 1 if age <= 30 else 2 if age <= 60 else 3
        expected.setdefault(lock.facility.name, Counter())[bucket] += 1

    response = _client("owner@example.com").get(reverse("reports:overlocks_by_age"))

    shown = _table(response.content.decode())
    assert shown == [
        [name, *(str(counts[b]) for b in range(4)), str(sum(counts.values()))]
        for name, counts in sorted(expected.items())
    ]
    assert all(counts[b] for counts in expected.values() for b in range(4))


def test_the_overlock_downloads_hold_the_rows_the_page_shows(demo):
    client = _client("owner@example.com")
    url = reverse("reports:overlocks_by_age")
    shown = _table(client.get(url).content.decode())

    as_csv = _csv(client.get(url, {"download": "csv"}))
    as_xlsx = _xlsx(client.get(url, {"download": "xlsx"}))

    assert as_csv[0] == [
        "Facility",
        "Facility ID",
        "0\u20137 days",
        "8\u201330 days",
        "31\u201360 days",
        "60+ days",
        "Total",
    ]
    assert [[row[0], *row[2:]] for row in as_csv[1:]] == shown
    assert [[str(cell) for cell in row] for row in as_xlsx] == as_csv
    assert (
        AuditEvent.objects.filter(account=demo, action=AuditEvent.Action.REPORT_DOWNLOADED).count()
        == 2
    )


# --- Remove-overlock queue --------------------------------------------------------------


def test_the_remove_overlock_queue_lists_released_locks_on_units_oldest_first(demo):
    released = list(
        Lock.objects.filter(account=demo, status=LockStatus.RETURNED_TO_DROPBOX).order_by("pk")
    )
    for n, lock in enumerate(released):
        Lock.objects.filter(pk=lock.pk).update(updated_at=timezone.now() - timedelta(days=n))
    expected = sorted(
        Lock.objects.filter(
            account=demo, status=LockStatus.RETURNED_TO_DROPBOX, unit__isnull=False
        ).select_related("unit"),
        key=lambda lock: (lock.updated_at, lock.pk),
    )
    client = _client("owner@example.com")
    url = reverse("reports:remove_overlock_queue")

    html = client.get(url).content.decode()

    shown = _table(html)
    assert [row[-1] for row in shown] == [lock.serial for lock in expected]
    assert [row[3] for row in shown] == [f"Unit {lock.unit.unit_number}" for lock in expected]
    for lock in expected:
        assert reverse("facilities:unit_detail", args=[lock.unit_id]) in html
    as_csv = _csv(client.get(url, {"download": "csv"}))
    assert [row[5] for row in as_csv[1:]] == [lock.serial for lock in expected]
    assert [row[1:2] + row[2:3] for row in as_csv[1:]] == [[r[1], r[2]] for r in shown]
    assert [[str(c) for c in row][1:] for row in _xlsx(client.get(url, {"download": "xlsx"}))] == [
        row[1:] for row in as_csv
    ]


# --- Lock usage -------------------------------------------------------------------------


def test_lock_usage_shows_todays_count_and_the_days_the_nightly_task_counted(demo):
    counting = Lock.objects.filter(account=demo, status__in=LIMIT_STATUSES).count()
    # Yesterday one lock went from Available to Assigned Vacant: the day before counted one less.
    lock = Lock.objects.filter(account=demo, status=LockStatus.ASSIGNED_VACANT).first()
    yesterday = timezone.now() - timedelta(days=1)
    event = LockEvent.objects.create(
        lock=lock,
        actor_type="system",
        kind="status_changed",
        from_status="available",
        to_status="assigned_vacant",
    )
    with connection.cursor() as cursor:  # the event happened yesterday, the seed before
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s", [yesterday, event.pk]
        )
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id <> %s AND lock_id IN"
            " (SELECT id FROM facilities_lock WHERE account_id = %s)",
            [yesterday - timedelta(days=3), event.pk, demo.pk],
        )
    reports_daily_all()

    response = _client("owner@example.com").get(reverse("reports:lock_usage"))

    shown = dict(_table(response.content.decode()))
    today = timezone.now().astimezone(UTC).date()
    assert shown[str(today)] == f"{counting} (now)"
    assert shown[str(today - timedelta(days=1))] == str(counting)
    assert shown[str(today - timedelta(days=2))] == str(counting - 1)
    assert shown[str(today - timedelta(days=4))] == str(counting - 1)
    assert shown[str(today - timedelta(days=5))] == "Not known"  # before the history starts
    assert "counting starts on" in response.content.decode()
    rows = _csv(
        _client("owner@example.com").get(reverse("reports:lock_usage"), {"download": "csv"})
    )
    assert {row[0]: row[1] for row in rows[1:]} == {
        day: (count.replace(" (now)", "") if count != "Not known" else "")
        for day, count in shown.items()
    }


# --- Code disclosures -------------------------------------------------------------------


def test_code_disclosures_count_reveals_per_user_and_reads_per_key_and_facility(demo):
    owner = User.objects.get(email="owner@example.com")
    manager = User.objects.get(email="manager@example.com")
    key = ApiKey.objects.filter(account=demo).first()
    locks = list(
        Lock.objects.filter(account=demo, unit__isnull=False).select_related("facility")[:5]
    )
    plan = [
        (locks[0], owner, None),
        (locks[0], owner, None),
        (locks[1], manager, None),
        (locks[2], None, key),
        (locks[3], None, key),
    ]
    for n, (lock, user, api_key) in enumerate(plan):
        event = LockEvent.objects.create(
            lock=lock,
            actor_type="user" if user else "api_key",
            actor_user=user,
            api_key=api_key,
            kind="code_revealed" if user else "code_looked_up",
        )
        if n:  # the first today: counted after midnight UTC, not yet; the others yesterday
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s",
                    [timezone.now() - timedelta(days=1), event.pk],
                )
    # One disclosure two days ago, rolled up by the nightly task.
    old = LockEvent.objects.create(
        lock=locks[4], actor_type="user", actor_user=owner, kind="code_revealed"
    )
    with connection.cursor() as cursor:  # append-only: only SQL moves it back in time
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=2), old.pk],
        )
    reports_daily_all()
    # Finished UTC days only: today's are counted after midnight.
    today_starts = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    events = LockEvent.objects.filter(
        lock__account=demo,
        kind__in=["code_revealed", "code_looked_up"],
        created_at__lt=today_starts.astimezone(UTC),
    )
    by_user = Counter(e.actor_user.name or e.actor_user.email for e in events if e.actor_user)
    by_key = Counter(e.api_key.name for e in events if e.api_key)
    by_facility = Counter((e.lock.facility.name, e.kind) for e in events)

    client = _client("owner@example.com")
    html = client.get(reverse("reports:code_disclosures")).content.decode()
    rows = _csv(client.get(reverse("reports:code_disclosures"), {"download": "csv"}))

    got = {(row[0], row[1]): (int(row[2]), int(row[3])) for row in rows[1:]}
    assert {name: r for (by, name), (r, _) in got.items() if by == "User"} == dict(by_user)
    assert {name: a for (by, name), (_, a) in got.items() if by == "API key"} == dict(by_key)
    assert {name: (r, a) for (by, name), (r, a) in got.items() if by == "Facility"} == {
        name: (by_facility[(name, "code_revealed")], by_facility[(name, "code_looked_up")])
        for name, _ in by_facility
    }
    for (_by, name), (revealed, looked_up) in got.items():
        assert f'<th scope="row">{name}</th><td>{revealed}</td><td>{looked_up}</td>' in re.sub(
            r' data-label="[^"]*"', "", html
        )
    assert [
        list(map(str, r))
        for r in _xlsx(client.get(reverse("reports:code_disclosures"), {"download": "xlsx"}))
    ] == rows


# --- Filters and access -----------------------------------------------------------------


@pytest.mark.parametrize("name", [*REPORTS, "reports:audit_export"])
def test_every_report_page_links_every_report_and_the_audit_export(owner_client, name):
    body = owner_client.get(reverse(name)).content.decode()
    for other in [*REPORTS, "reports:audit_export"]:
        assert f'href="{reverse(other)}"' in body, other
    assert f'aria-current="page" href="{reverse(name)}"' in body


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"start": "2024-13-40"}, "Enter a valid date"),
        ({"facility": "nosuchfacility00"}, "None of your facilities"),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "The period ends before it starts"),
        ({"start": "2020-01-01", "end": "2024-01-01"}, "at most 366 days"),
    ],
)
def test_bad_filters_are_form_errors_never_a_server_error(owner_client, name, query, error):
    response = owner_client.get(reverse(name), query)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "Download CSV" not in response.content.decode()


def test_a_facility_of_another_account_is_unknown(owner_client, other_facility):
    response = owner_client.get(
        reverse("reports:overlocks_by_age"), {"facility": other_facility.facility_id}
    )
    assert "None of your facilities" in response.content.decode()


@pytest.mark.parametrize("name", REPORTS)
def test_the_call_center_gets_no_reports_and_anonymous_signs_in(call_center_client, client, name):
    assert call_center_client.get(reverse(name)).status_code == 403
    assert client.get(reverse(name)).status_code == 302


@pytest.mark.parametrize("name", REPORTS)
def test_reports_refuse_post(owner_client, name):
    assert owner_client.post(reverse(name)).status_code == 405


def test_a_member_with_chosen_facilities_sees_only_theirs(demo):
    member = Membership.objects.get(user__email="manager@example.com", account=demo)
    downtown = Facility.objects.get(account=demo, name="Harbor Downtown")
    member.all_facilities = False
    member.save()
    member.facilities.set([downtown])
    client = _client("manager@example.com")

    shown = _table(client.get(reverse("reports:overlocks_by_age")).content.decode())
    queue = _table(client.get(reverse("reports:remove_overlock_queue")).content.decode())
    other = Facility.objects.filter(account=demo).exclude(pk=downtown.pk).first()

    assert [row[0] for row in shown] == ["Harbor Downtown"]
    assert {row[2] for row in queue} == {"Harbor Downtown"}
    assert (
        "None of your facilities"
        in client.get(
            reverse("reports:overlocks_by_age"), {"facility": other.facility_id}
        ).content.decode()
    )


def test_the_reports_tab_is_in_the_navigation_for_those_who_may_see_it(
    owner_client, call_center_client
):
    assert (
        'href="/reports/">Reports</a>'
        in owner_client.get(reverse("facilities:facility_list")).content.decode()
    )
    assert (
        ">Reports</a>"
        not in call_center_client.get(reverse("facilities:facility_list")).content.decode()
    )


@pytest.mark.parametrize("name", ["reports:overlocks_by_age", "reports:remove_overlock_queue"])
def test_the_overlock_pages_queries_do_not_grow_with_the_facilities(
    owner_client, account, facility, name
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse(name)).status_code == 200
        return len(captured)

    assigned_lock(UnitFactory(facility=facility))
    assigned_lock(UnitFactory(facility=facility), status=LockStatus.RETURNED_TO_DROPBOX)
    few = queries()
    for _ in range(5):
        more = FacilityFactory(account=account)
        for status in (LockStatus.ASSIGNED_OVERLOCK, LockStatus.RETURNED_TO_DROPBOX):
            assigned_lock(UnitFactory(facility=more), status=status)
    assert queries() == few
