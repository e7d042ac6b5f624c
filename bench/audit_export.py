"""The audit export (reports/audit_export.py) over the largest operator's whole history:
how soon the first line leaves, how fast the rest follows, and the process's memory as the
rows stream, to show it stays flat.

    .venv/bin/python bench/audit_export.py [--database davinci_scale] [--kind lock_events]
        [--format csv] [--limit 0]

It reads the database bench/scale.py loaded (run `bench/scale.py --load-only` first: 5
million LockEvents in one account) as that account's owner would export it (All Facilities,
the last two years), consumes the lines as the response would send them, and prints the time
to the first line, the rows and bytes per second, and the resident memory (RSS, from
/proc/self/status) every 500,000 rows and at its highest (VmHWM). Nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import scale
from bench.scale_data import LARGE_OWNER


def _memory(field: str) -> int:
    """VmRSS or VmHWM of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="davinci_scale")
    parser.add_argument("--kind", choices=["lock_events", "audit_events"], default="lock_events")
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many rows (0: all)")
    args = parser.parse_args()
    os.environ.update(scale.bench_env(Path(tempfile.gettempdir()), args.database, 13))
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.utils import timezone

    from davinci.accounts.models import Membership
    from reports import audit_export

    membership = Membership.objects.select_related("account").get(user__email=LARGE_OWNER)
    today = timezone.now().date()
    pick = (
        audit_export.lock_events_for
        if args.kind == "lock_events"
        else audit_export.audit_events_for
    )
    events = pick(membership=membership, first=today - timedelta(days=730), last=today)
    columns = (
        audit_export.LOCK_EVENT_COLUMNS
        if args.kind == "lock_events"
        else audit_export.AUDIT_EVENT_COLUMNS
    )
    print(f"== audit export: {args.kind} as {args.format}, {membership.account.name}, 2 years")
    print(f"   RSS before: {_memory('VmRSS') / 1024:.1f} MiB")
    started = time.perf_counter()
    first_line = None
    rows = size = 0
    for line in audit_export.export_lines(events, columns, args.format):
        if first_line is None:
            first_line = time.perf_counter() - started
        rows += 1
        size += len(line.encode())
        if rows % 500_000 == 0:
            print(
                f"   {rows:>9,} lines  {time.perf_counter() - started:7.1f} s  "
                f"RSS {_memory('VmRSS') / 1024:7.1f} MiB",
                flush=True,
            )
        if args.limit and rows >= args.limit:
            break
    took = time.perf_counter() - started
    print(
        f"== {rows:,} lines ({size / 2**20:,.0f} MiB) in {took:.1f} s "
        f"({rows / took:,.0f} lines/s); first line after {1000 * (first_line or 0):.0f} ms; "
        f"RSS at the end {_memory('VmRSS') / 1024:.1f} MiB, "
        f"highest {_memory('VmHWM') / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
