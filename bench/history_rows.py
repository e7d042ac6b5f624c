"""Bytes per LockEvent on PostgreSQL with LockEvent's indexes of before and of now, the plans
of the queries that read LockEvent, and what a history retention run costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/davinci .venv/bin/python bench/history_rows.py
    ... bench/history_rows.py --events 1000000

It builds a throw-away test database (test_<name>, dropped at the end) and loads `--events`
LockEvents in one INSERT ... SELECT, shaped like the largest operator's history: four in five
are API lookups (a key, no user, details with the lookup and the Facility ID), one in five a
member's status change; 2,000 locks on units, 20 keys, 5 members; one row every few minutes
over 800 days. It does so twice: with the schema of before (facilities 0007: single-column
indexes on lock_id, api_key_id and actor_user_id beside the composite ones) and of now, each
time building the indexes by the inserts themselves as production does, then VACUUM ANALYZE,
and prints every relation's size per row. Then, on today's schema: EXPLAIN ANALYZE of the
queries that read LockEvent, and one retention run (24 months: about 1 row in 11 is older).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

LOCKS = 2_000
KEYS = 20
MEMBERS = 5
DAYS = 800
BEFORE = "0007_tenant_phone_e164"  # the last migration with the old indexes

LOAD = """
INSERT INTO facilities_lockevent
    (lock_id, unit_id, created_at, kind, actor_type, actor_user_id, api_key_id,
     from_status, to_status, ip, details)
SELECT l.id, l.unit_id,
       %(start)s::timestamptz + g * (%(span)s::float / %(n)s) * interval '1 second',
       CASE WHEN g %% 5 = 0 THEN 'status_changed' ELSE 'code_looked_up' END,
       CASE WHEN g %% 5 = 0 THEN 'user' ELSE 'api_key' END,
       CASE WHEN g %% 5 = 0 THEN (%(users)s::bigint[])[1 + g %% %(n_users)s] END,
       CASE WHEN g %% 5 = 0 THEN NULL ELSE (%(keys)s::bigint[])[1 + g %% %(n_keys)s] END,
       CASE WHEN g %% 5 = 0 THEN 'assigned_overlock' ELSE '' END,
       CASE WHEN g %% 5 = 0 THEN 'returned_to_dropbox' ELSE '' END,
       ('203.0.113.' || (g %% 250))::inet,
       CASE WHEN g %% 5 = 0 THEN '{}'::jsonb
            ELSE jsonb_build_object('lookup', 'unit', 'facility_id', l.facility_id) END
FROM generate_series(1, %(n)s) AS g
JOIN (SELECT lock.id, lock.unit_id, f.facility_id, row_number() OVER (ORDER BY lock.id) - 1 AS i
      FROM facilities_lock lock JOIN facilities_facility f ON f.id = lock.facility_id) AS l
  ON l.i = (g * 7919) %% %(n_locks)s
"""
SIZES = """
SELECT 'table (heap, TOAST)', pg_table_size('facilities_lockevent')
UNION ALL
SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
FROM pg_index WHERE indrelid = 'facilities_lockevent'::regclass
"""


def cast() -> dict:
    """An account with its facilities, 2,000 locks on units, keys and members."""
    from davinci import crypto
    from davinci.accounts.models import Role
    from facilities.models import Lock, LockStatus, Unit
    from integrations.models import ApiKey
    from tests.factories import AccountFactory, FacilityFactory, MembershipFactory

    account = AccountFactory(name="Bench Storage", slug="bench-storage")
    facilities = [FacilityFactory(account=account) for _ in range(20)]
    units = Unit.objects.bulk_create(
        Unit(facility=facilities[n % 20], unit_number=f"U{n:05d}") for n in range(LOCKS)
    )
    code = crypto.encrypt("1234")
    Lock.objects.bulk_create(
        Lock(
            account=account,
            facility=unit.facility,
            unit=unit,
            serial=f"BN{n:06d}",
            unlock_code_encrypted=code,
            status=LockStatus.ASSIGNED_OVERLOCK,
        )
        for n, unit in enumerate(units)
    )
    keys = ApiKey.objects.bulk_create(
        ApiKey(
            account=account,
            name=f"Key {n}",
            api_key=f"bench{n:035d}",
            secret_digest="0" * 64,
            secret_encrypted=code,
        )
        for n in range(KEYS)
    )
    users = [
        MembershipFactory(account=account, role=Role.OWNER if n == 0 else Role.CLIENT_ADMIN).user
        for n in range(MEMBERS)
    ]
    return {"account": account, "keys": keys, "users": users}


def load(world: dict, events: int) -> float:
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE facilities_lockevent")
        cursor.execute(
            LOAD,
            {
                "start": now - timedelta(days=DAYS),
                "span": DAYS * 86400 - 3600,
                "n": events,
                "users": [u.pk for u in world["users"]],
                "n_users": MEMBERS,
                "keys": [k.pk for k in world["keys"]],
                "n_keys": KEYS,
                "n_locks": LOCKS,
            },
        )
    took = time.perf_counter() - started
    vacuum()
    return took


def vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE facilities_lockevent")


def sizes(events: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(SIZES)
        rows = cursor.fetchall()
    total = sum(size for _, size in rows)
    for name, size in rows:
        print(f"  {name:<45} {size / 2**20:8.1f} MiB {size / events:7.1f} B/row")
    print(f"  {'total':<45} {total / 2**20:8.1f} MiB {total / events:7.1f} B/row")
    return total


def explain(label: str, queryset) -> None:
    print(f"\n-- {label}")
    print(queryset.explain(analyze=True))


def plans(world: dict) -> None:
    from django.db.models import Count

    from facilities.models import Lock, LockEvent
    from facilities.retention import BATCH_SIZE, retention_cutoff
    from integrations.models import ApiKey
    from integrations.usage import usage_days, with_list_usage

    lock = Lock.objects.order_by("pk")[LOCKS // 2]
    key = world["keys"][3]
    explain(
        "lock page: a lock's history, newest first (50 a page)",
        lock.events.with_actors().order_by("-created_at", "-id")[:50],
    )
    since = timezone.now() - timedelta(days=30)
    explain(
        "key usage chart: a key's lookups per day, 30 days",
        LockEvent.objects.filter(
            api_key=key, kind=LockEvent.Kind.CODE_LOOKED_UP, created_at__gte=since
        )
        .order_by()
        .values("created_at__date")
        .annotate(n=Count("id")),
    )
    started = time.perf_counter()
    usage_days(api_key=key)
    print(f"usage_days(): {(time.perf_counter() - started) * 1000:.1f} ms")
    explain(
        "API Settings: every key's lookups of the last days",
        with_list_usage(ApiKey.objects.filter(account=world["account"])),
    )
    explain(
        "unit page: the unit's last 20 events",
        LockEvent.objects.filter(lock__account=world["account"], unit_id=lock.unit_id)[:20],
    )
    explain(
        "deleting a user: the PROTECT check (partial index on actor_user_id)",
        LockEvent.objects.filter(actor_user__in=[world["users"][0]]).order_by().only("pk"),
    )
    cutoff = retention_cutoff(account=world["account"], now=timezone.now())
    explain(
        "history retention: one batch of the account's rows past the cutoff",
        LockEvent.objects.for_account(world["account"])
        .filter(created_at__lt=cutoff, pk__gt=0)
        .order_by("pk")
        .values("id", "created_at", "lock__serial")[:BATCH_SIZE],
    )


def retention_run(world: dict) -> None:
    from facilities.models import LockEvent
    from facilities.retention import history_archive_account

    account = world["account"]
    before = LockEvent.objects.for_account(account).count()
    started = time.perf_counter()
    run = history_archive_account(account=account, now=timezone.now())
    took = time.perf_counter() - started
    archive = next(a for a in run.archives if a.kind == "lock_events")
    print(
        f"\nretention run (24 months): {archive.rows} of {before} events archived and removed "
        f"in {took:.1f} s ({archive.rows / took:,.0f} rows/s); the file: {archive.bytes:,} "
        f"bytes, {archive.bytes / archive.rows:.0f} B/row gzip JSON Lines"
    )
    vacuum()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server: this measures PostgreSQL's bytes.")
        return 2
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with override_settings(MEDIA_ROOT=Path(settings.BASE_DIR) / "bench" / "results" / "media"):
            world = cast()
            totals = {}
            for label, target in (("before", BEFORE), ("now", None)):
                call_command("migrate", "facilities", *([target] if target else []), verbosity=0)
                took = load(world, args.events)
                print(f"\n{label}: {args.events:,} LockEvents loaded in {took:.1f} s")
                totals[label] = sizes(args.events)
            saved = totals["before"] - totals["now"]
            print(
                f"\ndropped indexes save {saved / args.events:.1f} B/row "
                f"({saved / totals['before']:.0%} of the table with its indexes)"
            )
            plans(world)
            retention_run(world)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
