"""`make run`'s embedded SQLite under a small team and a call center at once.

Against a running portal (e.g. `make run`, or `manage.py runserver` on the same DATABASE_URL
as this script), 16 API clients each make 50 unit lookups while 4 signed-in users save unit
edits in a loop. Prints the status counts and fails if any answer was a 5xx or an edit was
lost (every edit's value must be in the database afterwards).

    DEBUG=1 .venv/bin/python bench/sqlite_concurrency.py --port 8000
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "davinci.settings")

import django

django.setup()

from davinci.accounts.models import Account, Membership, Role  # noqa: E402
from facilities.models import Unit  # noqa: E402
from integrations.services import api_key_create  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--lookups", type=int, default=50)
    parser.add_argument("--editors", type=int, default=4)
    parser.add_argument("--edits", type=int, default=25)
    parser.add_argument("--password", default="davinci-demo")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"

    account = Account.objects.get(slug="harbor-self-storage")
    owner = Membership.objects.get(account=account, role=Role.OWNER).user
    # One key per client, as several call-center agents would have: the per-key limit
    # (API_RATE_LIMIT_PER_MINUTE) is not what this measures.
    keys = [
        api_key_create(account=account, name=f"sqlite_concurrency {n}", actor=owner, ip=None)
        for n in range(args.clients)
    ]
    units = list(
        Unit.objects.filter(facility__account=account, facility__include_in_api=True)
        .select_related("facility")
        .order_by("pk")[: args.editors * 4]
    )
    statuses: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    written: dict[int, str] = {}

    def count(kind: str, status: int) -> None:
        with lock:
            statuses[f"{kind} {status}"] += 1

    def lookups(n: int) -> None:
        session = requests.Session()
        headers = {"X-API-Key": keys[n].api_key.api_key, "X-API-Secret": keys[n].secret}
        for i in range(args.lookups):
            unit = units[(n + i) % len(units)]
            url = f"{base}/api/v1/facilities/{unit.facility.facility_id}/units/{unit.unit_number}/"
            count("lookup", session.get(url, headers=headers, timeout=60).status_code)

    def edits(n: int) -> None:
        session = requests.Session()
        page = session.get(f"{base}/accounts/sign-in/", timeout=60)
        session.post(
            f"{base}/accounts/sign-in/",
            data={
                "username": owner.email,
                "password": args.password,
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
            },
            timeout=60,
        )
        mine = units[n :: args.editors]
        for i in range(args.edits):
            unit = mine[i % len(mine)]
            url = f"{base}/facilities/units/{unit.pk}/edit/"
            form = session.get(url, timeout=60)
            email = f"edit-{n}-{i}@example.com"
            answer = session.post(
                url,
                data={
                    "unit_number": unit.unit_number,
                    "tenant_name": unit.tenant_name,
                    "tenant_email": email,
                    "tenant_phone": unit.tenant_phone,
                    "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
                },
                allow_redirects=False,
                timeout=60,
            )
            count("edit", answer.status_code)
            if answer.status_code == 302:
                written[unit.pk] = email

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.clients + args.editors) as pool:
        jobs = [pool.submit(lookups, n) for n in range(args.clients)]
        jobs += [pool.submit(edits, n) for n in range(args.editors)]
        for job in jobs:
            job.result()
    elapsed = time.monotonic() - started

    lost = [pk for pk, email in written.items() if Unit.objects.get(pk=pk).tenant_email != email]
    print(
        f"sqlite_concurrency: {args.clients} clients x {args.lookups} lookups, "
        f"{args.editors} editors x {args.edits} edits in {elapsed:.1f} s"
    )
    for key in sorted(statuses):
        print(f"  {key}: {statuses[key]}")
    print(f"  edits lost: {len(lost)}")
    server_errors = sum(n for key, n in statuses.items() if key.split()[1].startswith("5"))
    expected = {"lookup 200": args.clients * args.lookups, "edit 302": args.editors * args.edits}
    ok = server_errors == 0 and not lost and all(statuses[k] == n for k, n in expected.items())
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
