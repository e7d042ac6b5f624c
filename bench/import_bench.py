"""CSV import benchmark: a 5,000-row file, previewed and imported, then imported again.

    .venv/bin/python bench/import_bench.py                  # SQLite in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/davinci .venv/bin/python bench/import_bench.py
    .venv/bin/python bench/import_bench.py --rows 20000

It builds a throw-away test database (migrated, then dropped), makes an account, a facility
and an owner, writes a file of `--rows` units (nine in ten with a lock on the door, the tenth's
lock on a row of its own, every lock status on a unit represented), and measures what the
portal does with it: the preview (read and check, no writes), the commit (check again, write
all), then the same file again (which must change nothing). It prints the time and number of
SQL queries of each step and exits 1 when preview + commit takes longer than the target
(10 s by default) or a check fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
)

from facilities.imports.rows import COLUMNS  # noqa: E402

STATUSES = ["Assigned Overlock", "Tenant Using Lock", "Assigned Vacant", "Assigned Auction"]


def sample_csv(rows: int, shift: int = 0) -> str:
    """`shift` moves every lock on a unit to the next status: a file that changes them all."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    n = 0
    while written < rows:
        unit = [f"U{n:05d}", f"Tenant {n}", f"tenant{n}@example.com", f"(603) 555-{n % 10000:04d}"]
        lock = [f"BN{n:06d}", f"{(n * 7919) % 10000:04d}"]
        if n % 10:
            writer.writerow([*unit, *lock, STATUSES[(n + shift) % len(STATUSES)]])
            written += 1
        else:
            writer.writerow([*unit, "", "", ""])
            writer.writerow(["", "", "", "", *lock, "Available"])
            written += 2
        n += 1
    return out.getvalue()


def measure(label: str, step):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        value = step()
        elapsed = time.perf_counter() - started
    print(f"  {label:<34} {elapsed:7.2f} s {len(queries):6d} queries")
    return value, elapsed


def run(rows: int, target: float) -> bool:
    from davinci.accounts.models import Account, Membership, Role, User
    from facilities import services
    from facilities.models import Facility, Lock, LockEvent, Unit

    account = Account.objects.create(name="Bench Storage", slug="bench-storage")
    owner = User.objects.create_user("bench@example.com", "not-used-bench-password")
    Membership.objects.create(user=owner, account=account, role=Role.OWNER)
    facility = Facility.objects.create(account=account, name="Bench Facility")
    text = sample_csv(rows)

    print(
        f"CSV import benchmark · {connection.vendor} · {rows:,} rows "
        f"({len(text.encode()) / 1024:.0f} KiB) · target {target:.0f} s for preview + commit"
    )

    def preview():
        return services.facility_import_preview(facility=facility, text=text, filename="b.csv")

    def commit():
        return services.facility_import_commit(
            facility=facility, text=text, filename="b.csv", user=owner, ip="127.0.0.1"
        )

    plan, preview_time = measure("preview (check, nothing written)", preview)
    (plan, result), commit_time = measure("commit (check again, write all)", commit)
    again, _ = measure("preview of the same file again", preview)
    (_, result_again), _ = measure("commit of the same file again", commit)

    units, locks, events = Unit.objects.count(), Lock.objects.count(), LockEvent.objects.count()

    text = sample_csv(rows, shift=1)
    (_, changed), change_time = measure("commit of a file changing each lock", commit)
    total = preview_time + commit_time
    print(f"  {'preview + commit':<34} {total:7.2f} s")
    print(
        f"  written: {result.units_created:,} units, {result.locks_created:,} locks, "
        f"{result.events:,} lock events; in the database: {units:,} units, {locks:,} locks, "
        f"{events:,} events"
    )
    print(
        f"  again: {len(again.units) + len(again.locks)} changes planned, "
        f"{result_again.events} events written"
    )
    print(
        f"  changing file: {changed.locks_updated:,} locks updated, {changed.events:,} events "
        f"written in {change_time:.2f} s"
    )
    on_units = Lock.objects.filter(unit__isnull=False).count()
    checks = {
        "every row valid": plan.is_valid,
        "one event per lock": result.events == locks == events,
        "re-import changes nothing": not again.has_changes and result_again.events == 0,
        "a change is one event per lock changed": changed.events
        == changed.locks_updated
        == on_units,
        f"preview + commit under {target:.0f} s": total < target,
        f"changing every lock under {target:.0f} s": change_time < target,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows in the file (5000)")
    parser.add_argument("--target", type=float, default=10.0, help="seconds allowed (10)")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return 0 if run(args.rows, args.target) else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
