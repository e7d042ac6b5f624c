"""The unit lookup side by side with its whole-job floor, a Django REST framework peer and,
with --baseline, the same lookup in another version of the code.

    .venv/bin/python bench/api_bench.py [--duration 10] [--rounds 3] [--port 8107]
        [--baseline REV] [--database davinci_bench] [--redis-db 9] [--profile 2000] [--drop]

What it does, on loopback only:
  1. creates (or reuses) the PostgreSQL database, migrates it (with the bench's own settings,
     bench/settings.py) and loads one account with 200 facilities and 100,000 units, each with
     a lock (COPY, a few seconds), one product API key and one djangorestframework-api-key key;
  2. starts each server the same way (harness.production.Gunicorn with bench/gunicorn.conf.py:
     2 sync workers, DEBUG off, Redis cache), each on its own port from --port:
       (a) the product as deployed (davinci.settings, its middleware, its URLs),
       (b) the DRF peer (bench/drf_peer.py) under the same settings and middleware
           (bench/settings.py adds DRF),
       (c) the whole-job floor under no middleware (bench/floor_settings.py),
       (d) with --baseline REV: the product at git revision REV (exported with `git archive`
           beside this checkout), with the same settings, database and cache as (a);
  3. checks that each answers a 4-digit code and writes its LockEvent, warms up, then for
     each round runs wrk (2 threads, 16 connections) on each server in turn (the order turns
     round by round, the lookup and its baseline back to back), each rotating over the same
     20,000 units:
       (a) and (d) GET /api/v1/facilities/{id}/units/{number}/,
       (b) HasAPIKey once, DRF's throttle in Redis, read + insert in one transaction,
       (c) one key SELECT + HMAC, one pipelined Redis INCR, one statement reading the scoped
           lock and inserting its event, a decrypt;
     With --baseline, each round then loads the lookup and the baseline at the same time (a
     wrk each), so that the machine's other work weighs on both alike;
  4. prints requests/s, p50 and p99 of each (median of the rounds) and the lookup's ratios to
     the others, and checks: the lookup >= 0.95 x the baseline's req/s when loaded together
     (median of the rounds), every answer 2xx, the data at full size; exits 1 if one is
     missed;
  5. with --profile N, profiles N unit lookups in this process (cProfile, through the full
     middleware stack) and prints where the time goes, by part and by function.
It stops the servers when it ends (also on Ctrl-C); --drop also drops the database.
Django REST framework comes from the `bench` extra (`pip install ".[bench]"`), or from a
directory on PYTHONPATH, which the servers inherit.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import PYTHON, ROOT, django_setup, port_open

from harness.production import Gunicorn

LUA = Path(__file__).with_name("api_wrk.lua")
POSTGRES = "postgres://postgres@127.0.0.1:5432"
FACILITIES = 200
UNITS = 100_000
ROTATION = 20_000
TARGET_BASELINE_RATIO = 0.95  # issue 22: the lookup keeps its speed


def _bench_key(label: str) -> str:
    # Fixed, bench-only secrets: a reused database must decrypt what an earlier run wrote.
    return base64.urlsafe_b64encode(
        hashlib.sha256(f"davinci-bench:{label}".encode()).digest()
    ).decode()


ENV = {
    "DEBUG": "0",
    "SECRET_KEY": _bench_key("secret-key"),
    "FIELD_ENCRYPTION_KEYS": _bench_key("fernet"),
    "API_KEY_DIGEST_SECRET": _bench_key("digest"),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    # The per-key limit is measured (it is counted in Redis), never reached.
    "API_RATE_LIMIT_PER_MINUTE": "1000000000",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "600",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
}


def _pythonpath(root: Path) -> str:
    """`root` first, then whatever PYTHONPATH the bench was started with (where DRF may be)."""
    return os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))


DATABASE = "davinci_bench"  # --database


def configure(database: str, redis_db: int) -> None:
    global DATABASE
    DATABASE = database
    ENV["DATABASE_URL"] = f"{POSTGRES}/{database}"
    ENV["CACHE_URL"] = f"redis://127.0.0.1:6379/{redis_db}"


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

    from rest_framework_api_key.models import APIKey

    APIKey.objects.filter(name=f"{account.pk}:{key.pk}").delete()
    _, drf_key = APIKey.objects.create_key(name=f"{account.pk}:{key.pk}")

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
        "drf_key": drf_key,
        "units": rows[:ROTATION],
        "facility_ids": facility_ids,
        "facility_count": len(facility_ids),
        "unit_count": len(rows),
    }


# --- Server and load -------------------------------------------------------------------------


def gunicorn(port: int, settings_module: str, log: Path, root: Path = ROOT) -> Gunicorn:
    """One of the bench's servers (harness.production), as bench/gunicorn.conf.py runs it;
    `root` is the checkout it serves."""
    if port_open(port):
        raise SystemExit(f"port {port} is in use: choose another with --port")
    env = {"DJANGO_SETTINGS_MODULE": settings_module, "PYTHONPATH": _pythonpath(root)}
    return Gunicorn(
        settings_module,
        port,
        os.environ | ENV | env,
        log=log,
        config=ROOT / "bench" / "gunicorn.conf.py",
        ready_path=None,  # the floor serves one route only
        root=root,
    )


def export(revision: str, directory: Path) -> str:
    """The code at `revision` written into `directory` (git archive: no work tree or branch
    of the repository is touched); its short commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{revision}^{{commit}}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return commit


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"not JSON": body[:300].decode(errors="replace")}


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
    with contextlib.suppress(OSError, StopIteration):
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


# --- Correctness of what is measured --------------------------------------------------------


def _events() -> int:
    from facilities.models import LockEvent

    return LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count()


def check_answers(name: str, url: str, headers: dict[str, str]) -> None:
    """The endpoint answers a 4-digit code and has written its LockEvent by then."""
    before = _events()
    status, body = _get(url, headers)
    lock = (body.get("data") or {}).get("lock") or {}
    if status != 200 or not re.fullmatch(r"\d{4}", lock.get("unlock_code") or ""):
        raise SystemExit(f"{name} is not answering a code: {status} {body}")
    if _events() != before + 1:
        raise SystemExit(f"{name} answered a code without its LockEvent")


# --- Profile ---------------------------------------------------------------------------------

PARTS = (
    # (part, path fragments of the functions that count towards it), first match wins
    ("PostgreSQL driver and waiting (psycopg)", ("/psycopg/", "psycopg_")),
    ("ORM: building SQL, rows to objects", ("/django/db/",)),
    ("Redis client and waiting", ("/redis/",)),
    ("Fernet decrypt, HMAC", ("/cryptography/", "hmac.py", "/hashlib")),
    (
        "middleware",
        (
            "/django/middleware/",
            "/django/contrib/sessions/",
            "/django/contrib/auth/",
            "/django/contrib/messages/",
            "/whitenoise/",
            "davinci/middleware.py",
            "davinci/accounts/middleware.py",
            "integrations/api/errors.py",
        ),
    ),
    ("logging", ("/logging/",)),
    ("request, routing, response (Django)", ("/django/core/", "/django/http/", "/django/urls/")),
    ("JSON", ("/json/",)),
    ("the lookup's own code", ("/integrations/", "/facilities/", "/davinci/")),
    ("Django, other", ("/django/",)),
)


def _part(filename: str) -> str:
    for part, fragments in PARTS:
        if any(fragment in filename for fragment in fragments):
            return part
    return "other (stdlib, builtins)"


def profile(data: dict, count: int) -> None:
    """N lookups in this process through Django's full handler and middleware, profiled."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(
        HTTP_HOST="127.0.0.1", HTTP_X_API_KEY=data["api_key"], HTTP_X_API_SECRET=data["secret"]
    )
    paths = [f"/api/v1/facilities/{f}/units/{u}/" for f, u in data["units"][:count]]
    for path in paths[:50]:  # warm: imports, connection, first compilation
        client.get(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for path in paths:
        response = client.get(path)
    profiler.disable()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    stats = pstats.Stats(profiler)
    parts: dict[str, float] = {}
    functions = []
    for (filename, line, function), (_, calls, own, _cum, _) in stats.stats.items():
        parts[_part(filename)] = parts.get(_part(filename), 0.0) + own
        functions.append((own, calls, f"{Path(filename).name}:{line} {function}"))
    total = sum(parts.values())
    log(
        f"-- profile: {len(paths)} unit lookups in-process (cProfile), "
        f"{elapsed / len(paths) * 1000:.2f} ms each with the profiler on"
    )
    log(f"   {'part':<42} {'ms/lookup':>9} {'share':>6}")
    for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        log(f"   {part:<42} {seconds / len(paths) * 1000:9.3f} {seconds / total:6.1%}")
    log("   top functions by own time:")
    for own, calls, where in sorted(functions, reverse=True)[:12]:
        log(f"     {own / len(paths) * 1000:7.3f} ms  {calls // len(paths):>4}x  {where}")


# --- Run -------------------------------------------------------------------------------------

LABELS = {
    "lookup": "unit lookup (product)",
    "baseline": "unit lookup at --baseline",
    "floor": "whole-job floor (bench/floor.py)",
    "drf": "DRF + api-key peer",
}


def together(servers: dict, duration: int) -> dict[str, float]:
    """The lookup and its baseline loaded at the same time, each by its own wrk: whatever
    else the machine does then weighs on both alike. Requests/s of each."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            name: pool.submit(
                wrk, f"http://127.0.0.1:{servers[name][0]}", servers[name][2], servers[name][3],
                duration,
            )
            for name in ("lookup", "baseline")
        }  # fmt: skip
        return {name: run.result()["rps"] for name, run in runs.items()}


def _order(names: list[str], number: int) -> list[str]:
    """Round `number`'s order: the lookup and its baseline back to back (which one first
    alternates), so a change in the machine's load hits both alike; the others after, their
    order turning too."""
    pair = [name for name in ("lookup", "baseline") if name in names]
    others = [name for name in names if name not in pair]
    if number % 2 == 0:
        pair.reverse()
    shift = number % len(others)
    return pair + others[shift:] + others[:shift]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8107, help="the first of 3 (4) ports")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline", metavar="REV", help="also serve the lookup as it is at git revision REV"
    )
    parser.add_argument("--database", default="davinci_bench")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N lookups")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    configure(args.database, args.redis_db)
    started = time.monotonic()

    log("== Lookup API benchmark: product, whole-job floor, DRF peer")
    log(f"   machine: {machine()}")
    log("-- database")
    prepare_database()
    django_setup(ENV)
    log(f"   {versions()}")
    data = load_data()
    key = (data["api_key"], data["secret"])
    units = data["units"]
    lookups = [f"/api/v1/facilities/{f}/units/{u}/" for f, u in units]
    # name: (port, settings, paths, (key, secret))
    servers = {
        "lookup": (args.port, "davinci.settings", lookups, key),
        "drf": (
            args.port + 1,
            "bench.settings",
            [f"/bench/drf/facilities/{f}/units/{u}/" for f, u in units],
            (data["drf_key"], "-"),
        ),
        "floor": (
            args.port + 2,
            "bench.floor_settings",
            [f"/bench/floor/facilities/{f}/units/{u}/" for f, u in units],
            key,
        ),
    }
    if args.baseline:
        servers["baseline"] = (args.port + 3, "davinci.settings", lookups, key)

    broken: list[str] = []
    results: dict[str, list[dict]] = {name: [] for name in servers}
    together_rps: list[dict[str, float]] = []
    work = Path(tempfile.mkdtemp(prefix="davinci-api-bench-"))
    try:
        roots = {name: ROOT for name in servers}
        if args.baseline:
            roots["baseline"] = work / "baseline"
            roots["baseline"].mkdir()
            commit = export(args.baseline, roots["baseline"])
            log(f"-- baseline: {args.baseline} ({commit}) exported to {roots['baseline']}")
        with contextlib.ExitStack() as stack:
            for name, (port, settings_module, _, _) in servers.items():
                stack.enter_context(
                    gunicorn(port, settings_module, work / f"{name}.log", roots[name])
                )
            log(
                "-- gunicorn, 2 sync workers each: "
                + ", ".join(f"{name} on :{port}" for name, (port, *_) in servers.items())
                + f"; their logs in {work}"
            )
            for name, (port, _, paths, (api_key, secret)) in servers.items():
                check_answers(
                    name,
                    f"http://127.0.0.1:{port}{paths[0]}",
                    {"X-API-Key": api_key, "X-API-Secret": secret},
                )
            log(f"   all {len(servers)} answer a 4-digit code and write its LockEvent first")
            for port, _, paths, headers in servers.values():
                wrk(f"http://127.0.0.1:{port}", paths, headers, 3)  # warm-up
            for number in range(1, args.rounds + 1):
                for name in _order(list(servers), number):
                    port, _, paths, headers = servers[name]
                    figures = wrk(f"http://127.0.0.1:{port}", paths, headers, args.duration)
                    results[name].append(figures)
                    log(
                        f"   round {number} {name:<8} {figures['rps']:8.1f} req/s   "
                        f"p50 {figures['p50']:6.2f} ms   p99 {figures['p99']:6.2f} ms   "
                        f"({figures['requests']:,} requests)"
                    )
                    if figures["non_2xx"] or figures["socket_errors"]:
                        broken.append(
                            f"{name}: {figures['non_2xx']} non-2xx answers, socket errors "
                            f"{figures['socket_errors'] or 'none'}"
                        )
                if "baseline" in servers:
                    pair = together(servers, args.duration)
                    together_rps.append(pair)
                    log(
                        f"   round {number} together: lookup {pair['lookup']:.1f}, baseline "
                        f"{pair['baseline']:.1f} req/s at the same time"
                    )
        if args.profile:
            profile(data, args.profile)
    finally:
        shutil.rmtree(work / "baseline", ignore_errors=True)
        if args.drop:
            from django.db import connections

            connections.close_all()
            _psql(f"DROP DATABASE IF EXISTS {DATABASE}")
            log(f"   dropped {DATABASE}")

    median = {
        name: {k: statistics.median(r[k] for r in rows) for k in ("rps", "p50", "p99")}
        for name, rows in results.items()
    }
    look = median["lookup"]
    log(
        f"-- results (median of {args.rounds} rounds of {args.duration} s, 16 connections, "
        f"{data['facility_count']} facilities, {data['unit_count']:,} units)"
    )
    log(f"   {'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name in servers:
        row = median[name]
        log(f"   {LABELS[name]:<34} {row['rps']:9.1f} {row['p50']:8.2f} {row['p99']:8.2f}")
    for name in ("baseline", "floor", "drf"):
        if name in median:
            log(f"   lookup / {name:<9} {look['rps'] / median[name]['rps']:.2f}")
    checks = [
        (
            "at least 200 facilities and 100,000 units",
            data["facility_count"] >= 200 and data["unit_count"] >= 100_000,
        ),
        ("every answer was 2xx, no socket errors", not broken),
    ]
    if "baseline" in median:
        # Loaded at the same time, the two share whatever else the machine does: the
        # median of those rounds' ratios is the comparison that holds on a busy machine.
        paired = statistics.median(pair["lookup"] / pair["baseline"] for pair in together_rps)
        log(f"   lookup / baseline, loaded together (median of the rounds): {paired:.2f}")
        checks.insert(
            0,
            (
                f"lookup reaches {TARGET_BASELINE_RATIO}x the baseline's req/s (together)",
                paired >= TARGET_BASELINE_RATIO,
            ),
        )
    for description, kept in checks:
        log(f"   [{'ok  ' if kept else 'FAIL'}] {description}")
    for problem in broken:
        log(f"          {problem}")
    log(f"== done in {time.monotonic() - started:.0f} s")
    if not all(kept for _, kept in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
