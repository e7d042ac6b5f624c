"""Benchmark of the lookup API's unit lookup against a minimal endpoint of the same server.

    .venv/bin/python bench/api_bench.py [--duration 15] [--rounds 2] [--port 8107] [--drop]

What it does, on loopback only:
  1. creates (or reuses) the PostgreSQL database `davinci_bench`, migrates it and loads one
     account with 200 facilities and 100,000 units, each with a lock (COPY, a few seconds);
  2. serves the project with gunicorn (2 workers, production settings: DEBUG off, Redis
     cache for the rate limits, BENCH_ENDPOINTS=1 for /api/bench/ping/);
  3. checks both endpoints answer correctly, warms up, then for each round runs wrk at 16
     connections on (a) /api/bench/ping/ — one indexed SELECT, a small JSON answer — and
     (b) the unit lookup GET /api/v1/facilities/{id}/units/{number}/ rotating over 20,000
     units: key authentication, rate limit, scoped read, decryption of the code and the
     LockEvent insert;
  4. prints requests/s, p50 and p99 of both and their ratio, and checks the targets
     (lookup >= 0.6 x the ping's req/s, lookup p99 < 50 ms); exits 1 if one is missed.
It stops gunicorn when it ends (also on Ctrl-C); --drop also drops the database.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

from _common import GUNICORN, PYTHON, ROOT, django_setup, port_open

LUA = Path(__file__).with_name("api_wrk.lua")
POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE = "davinci_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"
FACILITIES = 200
UNITS = 100_000
ROTATION = 20_000
TARGET_RATIO = 0.6
TARGET_P99_MS = 50.0


def _bench_key(label: str) -> str:
    # Fixed, bench-only secrets: a reused database must decrypt what an earlier run wrote.
    return base64.urlsafe_b64encode(
        hashlib.sha256(f"davinci-bench:{label}".encode()).digest()
    ).decode()


ENV = {
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "CACHE_URL": REDIS_URL,
    "DEBUG": "0",
    "SECRET_KEY": _bench_key("secret-key"),
    "FIELD_ENCRYPTION_KEYS": _bench_key("fernet"),
    "API_KEY_DIGEST_SECRET": _bench_key("digest"),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "BENCH_ENDPOINTS": "1",
    # The per-key limit is measured (it is counted in Redis), never reached.
    "API_RATE_LIMIT_PER_MINUTE": "1000000000",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "600",
    "DJANGO_SETTINGS_MODULE": "davinci.settings",
}


def log(message: str) -> None:
    print(message, flush=True)


# --- Database and data -----------------------------------------------------------------------


def _psql(sql: str) -> str:
    return subprocess.run(
        ["psql", POSTGRES + "/postgres", "-tAc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


def prepare_database() -> None:
    if _psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":  # noqa: S608
        _psql(f"CREATE DATABASE {DATABASE}")
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=os.environ | ENV,
        check=True,
        timeout=600,
    )


def load_data() -> dict:
    """One account, FACILITIES facilities, UNITS units each with a lock, one API key.
    Idempotent: an already loaded database is reused as it is."""
    from django.db import connection, transaction
    from django.utils import timezone

    from davinci import crypto
    from davinci.accounts.models import Account
    from facilities.models import Facility, LockStatus, Unit
    from integrations import secrets as api_secrets
    from integrations.models import ApiKey

    account, _ = Account.objects.get_or_create(slug="bench-storage", defaults={"name": "Bench"})
    if Unit.objects.filter(facility__account=account).count() < UNITS:
        started = time.monotonic()
        with transaction.atomic():
            Facility.objects.bulk_create(
                Facility(account=account, name=f"Bench Facility {n:03d}", address=f"{n} Bench Rd")
                for n in range(FACILITIES - Facility.objects.filter(account=account).count())
            )
            facilities = list(Facility.objects.filter(account=account).order_by("id"))
            per_facility = UNITS // len(facilities)
            now = timezone.now()
            statuses = [
                LockStatus.ASSIGNED_OVERLOCK,
                LockStatus.ASSIGNED_VACANT,
                LockStatus.TENANT_USING_LOCK,
                LockStatus.ASSIGNED_OTHER,
                LockStatus.ASSIGNED_VENDOR,
            ]
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg 3: COPY is ~20x faster than bulk_create here
                with raw.copy(
                    "COPY facilities_unit (facility_id, unit_number, tenant_name, tenant_email,"
                    " tenant_phone, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for facility in facilities:
                        for n in range(per_facility):
                            copy.write_row(
                                (facility.pk, f"U{n:04d}", f"Tenant {n}", "", "", now, now)
                            )
                cursor.execute(
                    "SELECT u.id, u.facility_id FROM facilities_unit u"
                    " JOIN facilities_facility f ON f.id = u.facility_id"
                    " WHERE f.account_id = %s ORDER BY u.id",
                    [account.pk],
                )
                units = cursor.fetchall()
                # One ciphertext per distinct code: Fernet tokens are random anyway, and
                # 10,000 encryptions instead of 100,000 keeps the load in seconds.
                tokens = [crypto.encrypt(f"{code:04d}") for code in range(10_000)]
                with raw.copy(
                    "COPY facilities_lock (account_id, facility_id, serial, unlock_code_encrypted,"
                    " status, unit_id, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for index, (unit_id, facility_id) in enumerate(units):
                        copy.write_row(
                            (
                                account.pk,
                                facility_id,
                                f"B{index:07d}",
                                tokens[(index * 7919) % 10_000],
                                statuses[index % len(statuses)],
                                unit_id,
                                now,
                                now,
                            )
                        )
                cursor.execute("ANALYZE")
        log(
            f"   loaded {len(facilities)} facilities, {len(units):,} units and locks "
            f"in {time.monotonic() - started:.1f} s"
        )
    else:
        log("   reusing the data already loaded")

    key = ApiKey.objects.filter(account=account, name="Bench").first()
    secret = api_secrets.generate_api_secret()
    if key is None:
        key = ApiKey(account=account, name="Bench", api_key=api_secrets.generate_api_key())
    key.secret_digest = api_secrets.secret_digest(secret)
    key.secret_encrypted = crypto.encrypt(secret)
    key.is_active, key.all_facilities = True, True
    key.save()

    rows = list(
        Unit.objects.filter(facility__account=account).values_list(
            "facility__facility_id", "unit_number"
        )
    )
    facility_ids = sorted({facility_id for facility_id, _ in rows})
    random.Random(4).shuffle(rows)
    return {
        "api_key": key.api_key,
        "secret": secret,
        "units": rows[:ROTATION],
        "facility_ids": facility_ids,
        "facility_count": len(facility_ids),
        "unit_count": len(rows),
    }


# --- Server and load -------------------------------------------------------------------------


@contextmanager
def gunicorn(port: int):
    if port_open(port):
        raise SystemExit(f"port {port} is in use: choose another with --port")
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "davinci.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | ENV,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _duration(text: str) -> float:
    """wrk's '1.23ms' / '456.00us' / '1.02s' in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(base: str, paths: list[str], headers: tuple[str, ...], duration: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as file:
        file.write("\n".join(paths))
    try:
        result = subprocess.run(
            [
                "wrk",
                "--threads",
                "2",
                "--connections",
                "16",
                "--duration",
                f"{duration}s",
                "--timeout",
                "5s",
                "--latency",
                "--script",
                str(LUA),
                base,
                "--",
                file.name,
                *headers,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        )
    finally:
        os.unlink(file.name)
    out = result.stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _duration(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _duration(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def machine() -> str:
    cpu = "unknown CPU"
    with suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    load = ", load average before the run {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs{memory}, {platform.system()} {platform.release()}{load}"


def versions() -> str:
    import django
    import psycopg

    postgres = _psql("SHOW server_version")
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, psycopg "
        f"{psycopg.__version__}, PostgreSQL {postgres}, gunicorn 2 sync workers, wrk 2 threads"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8107)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="ping + lookup pairs")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    started = time.monotonic()

    log("== Lookup API benchmark")
    log(f"   machine: {machine()}")
    log("-- database")
    prepare_database()
    django_setup(ENV)
    log(f"   {versions()}")
    data = load_data()
    base = f"http://127.0.0.1:{args.port}"
    lookup_paths = [f"/api/v1/facilities/{f}/units/{u}/" for f, u in data["units"]]
    ping_paths = [f"/api/bench/ping/?facility_id={f}" for f in data["facility_ids"]]
    headers = (data["api_key"], data["secret"])

    broken: list[str] = []
    try:
        with gunicorn(args.port):
            log(f"-- gunicorn on {base} (2 workers)")
            auth = {"X-API-Key": data["api_key"], "X-API-Secret": data["secret"]}
            status, body = _get(base + lookup_paths[0], auth)
            code = (body.get("data") or {}).get("lock", {}) or {}
            if status != 200 or not re.fullmatch(r"\d{4}", code.get("unlock_code") or ""):
                raise SystemExit(f"unit lookup is not answering a code: {status} {body}")
            status, body = _get(base + ping_paths[0], {})
            if status != 200 or not body.get("data"):
                raise SystemExit(f"ping is not answering: {status} {body}")
            log("   both endpoints answer (unit lookup with a 4-digit code)")
            wrk(base, ping_paths, (), 3)  # warm-up: imports, connections, caches
            wrk(base, lookup_paths, headers, 3)

            results: dict[str, list[dict]] = {"ping": [], "lookup": []}
            for number in range(1, args.rounds + 1):
                for name, paths, extra in (
                    ("ping", ping_paths, ()),
                    ("lookup", lookup_paths, headers),
                ):
                    figures = wrk(base, paths, extra, args.duration)
                    results[name].append(figures)
                    log(
                        f"   round {number} {name:<7} {figures['rps']:8.1f} req/s   "
                        f"p50 {figures['p50']:6.2f} ms   p99 {figures['p99']:6.2f} ms   "
                        f"({figures['requests']:,} requests)"
                    )
                    if figures["non_2xx"] or figures["socket_errors"]:
                        broken.append(
                            f"{name}: {figures['non_2xx']} non-2xx answers, socket errors "
                            f"{figures['socket_errors'] or 'none'}"
                        )
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()
            _psql(f"DROP DATABASE IF EXISTS {DATABASE}")
            log(f"   dropped {DATABASE}")

    ping = {k: statistics.median(r[k] for r in results["ping"]) for k in ("rps", "p50", "p99")}
    look = {k: statistics.median(r[k] for r in results["lookup"]) for k in ("rps", "p50", "p99")}
    ratio = look["rps"] / ping["rps"]
    log(
        f"-- results (median of {args.rounds} rounds of {args.duration} s, 16 connections, "
        f"{data['facility_count']} facilities, {data['unit_count']:,} units)"
    )
    log(f"   {'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, row in (
        ("minimal one-SELECT JSON (ping)", ping),
        ("unit lookup with code + LockEvent", look),
    ):
        log(f"   {label:<34} {row['rps']:9.1f} {row['p50']:8.2f} {row['p99']:8.2f}")
    log(f"   ratio lookup / ping: {ratio:.2f}  (target >= {TARGET_RATIO})")
    checks = [
        (f"lookup reaches {TARGET_RATIO}x the ping's req/s", ratio >= TARGET_RATIO),
        (f"lookup p99 under {TARGET_P99_MS:.0f} ms", look["p99"] < TARGET_P99_MS),
        (
            "at least 200 facilities and 100,000 units",
            data["facility_count"] >= 200 and data["unit_count"] >= 100_000,
        ),
        ("every answer was 2xx, no socket errors", not broken),
    ]
    for description, kept in checks:
        log(f"   [{'ok  ' if kept else 'FAIL'}] {description}")
    for problem in broken:
        log(f"          {problem}")
    log(f"== done in {time.monotonic() - started:.0f} s")
    if not all(kept for _, kept in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
