"""Shared helpers of the bench scripts: bench/multi_instance.py, bench/api_bench.py,
bench/db_outage.py and bench/load_test.py.

They run the portal the way it is deployed: production settings (DEBUG off, fresh secrets,
collected static files), gunicorn, PostgreSQL and Redis; on loopback only. Every process, database,
cluster and Redis database a script makes is its own, and it removes them when it ends, also
on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, for harness

from harness import production
from harness.production import (  # noqa: F401 - the scripts import these from here
    GUNICORN,
    PYTHON,
    ROOT,
    Http,
    Response,
    csrf_token,
    port_open,
)

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
MAIN_POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "bench-password-" + secrets.token_urlsafe(8)
OWNER_EMAIL = "owner@bench.example.com"


# --- Figures and promises ------------------------------------------------------------------


class Report:
    """Prints figures as they come and remembers every broken promise; `finish()` exits 1
    when one was broken."""

    def __init__(self, title: str):
        self.title = title
        self.broken: list[str] = []
        self.started = time.monotonic()
        print(f"== {title}", flush=True)

    def section(self, name: str) -> None:
        print(f"\n-- {name}", flush=True)

    def figure(self, name: str, value: Any) -> None:
        print(f"   {name:<46} {value}", flush=True)

    def promise(self, description: str, kept: bool, detail: str = "") -> bool:
        mark = "ok  " if kept else "FAIL"
        detail = f"\n          {detail}" if detail and not kept else ""
        print(f"   [{mark}] {description}{detail}", flush=True)
        if not kept:
            self.broken.append(description)
        return kept

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        print(f"\n== {self.title}: {elapsed:.1f} s", flush=True)
        if self.broken:
            print(f"== {len(self.broken)} promise(s) broken:", flush=True)
            for description in self.broken:
                print(f"   - {description}", flush=True)
            sys.exit(1)
        print("== every promise kept", flush=True)


# --- Clean-up on every exit ------------------------------------------------------------------


class Workspace(contextlib.ExitStack):
    """A temporary folder plus every clean-up registered on it, run in reverse order when the
    `with` block ends, on an exception and on SIGTERM/SIGINT."""

    def __init__(self, name: str):
        super().__init__()
        self.path = Path(tempfile.mkdtemp(prefix=f"davinci-{name}-"))
        self.path.chmod(0o755)  # the throwaway PostgreSQL runs as another user
        self.callback(shutil.rmtree, self.path, ignore_errors=True)

    def __enter__(self) -> Workspace:
        super().__enter__()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _raise_keyboard_interrupt)
        return self


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- Databases and Redis -------------------------------------------------------------------


def recreate_database(name: str, server: str = MAIN_POSTGRES) -> str:
    """An empty database `name` (davinci_sec* only) on `server`; returns its URL."""
    if not re.fullmatch(r"davinci_sec\w*", name):
        raise ValueError(f"refusing to touch database {name!r}: bench databases are davinci_sec*")
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(name: str, server: str = MAIN_POSTGRES) -> None:
    if not re.fullmatch(r"davinci_sec\w*", name):
        raise ValueError(f"refusing to drop database {name!r}")
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis_db(number: int) -> None:
    """Empty one of the bench's own Redis databases (5-9); never FLUSHALL."""
    if not 5 <= number <= 9:
        raise ValueError("the bench scripts only use Redis databases 5 to 9")
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()


def default_postgres_port(wanted: int = 55432) -> int:
    """`wanted`, or the first port above the kernel's ephemeral range when `wanted` is in it:
    while the database is down, any outgoing connection on the machine could be given its
    port, and PostgreSQL could then not start on it again."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return wanted
    return high + 1 if low <= wanted <= high and high < 65000 else wanted


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own: initdb into the workspace, its own port and socket
    folder, started and stopped with pg_ctl. Never the machine's main cluster."""

    def __init__(self, workspace: Workspace, port: int):
        self.port = port
        self.root = workspace.path / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        workspace.callback(self._remove)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
        )
        if check and result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )
        return result

    def init(self) -> None:
        """initdb; the port is the first free one from the one asked for (up to +9)."""
        free = [port for port in range(self.port, self.port + 10) if not port_open(port)]
        if not free:
            raise SystemExit(f"ports {self.port}-{self.port + 9} are in use: pick --pg-port")
        self.port = free[0]
        self.root.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )

    def start(self) -> float:
        """Start and wait until it accepts connections; returns the seconds it took."""
        started = time.monotonic()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return time.monotonic() - started

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash (no checkpoint; recovery replays the WAL on start);
        `fast` a clean shutdown that disconnects every client."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def _remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
                check=False,
            )  # fmt: skip


# --- Settings and Django in this process -----------------------------------------------------


def production_env(
    workspace: Workspace, *, database_url: str, redis_db: int, **overrides: Any
) -> dict[str, str]:
    """harness.production's environment with Redis db `redis_db` as the cache."""
    return production.production_env(
        directory=workspace.path,
        database_url=database_url,
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        **overrides,
    )


class Gunicorn(production.Gunicorn):
    """harness.production's gunicorn, its log in the workspace, stopped when it closes."""

    def __init__(self, workspace: Workspace, name: str, port: int, env: dict[str, str], **kw):
        super().__init__(name, port, env, log=workspace.path / f"gunicorn-{name}.log", **kw)
        workspace.callback(self.stop)


def django_setup(env: dict[str, str]) -> None:
    """Use the same settings as the servers in this process too (seeding and counting)."""
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"  # the script's own output stays readable
    import django

    django.setup()


def migrate_and_collect_static() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


def prepare_production(
    workspace: Workspace, *, database_url: str, redis_db: int, **overrides: Any
) -> dict[str, str]:
    """What every server script does first: an empty Redis database of its own (emptied again
    at the end), production settings in this process too, the schema migrated and the static
    files collected. Returns the environment for the servers."""
    flush_redis_db(redis_db)
    workspace.callback(flush_redis_db, redis_db)
    env = production_env(workspace, database_url=database_url, redis_db=redis_db, **overrides)
    django_setup(env)
    migrate_and_collect_static()
    return env


@dataclass
class Target:
    """One unit lookup a client can make."""

    facility_id: str
    unit_number: str
    serial: str

    @property
    def path(self) -> str:
        return f"/api/v1/facilities/{self.facility_id}/units/{self.unit_number}/"


@dataclass
class Key:
    pk: int
    api_key: str
    secret: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key, "X-API-Secret": self.secret}


@dataclass
class Seed:
    account_slug: str
    owner_email: str
    password: str = field(repr=False)
    targets: list[Target]
    keys: list[Key]


def seed(*, facilities: int = 2, units_per_facility: int = 20, keys: int = 2) -> Seed:
    """One account with an owner who can sign in, facilities whose units each carry an
    Assigned Overlock lock, and API keys for All Facilities created through the service."""
    from davinci.accounts.models import Account, Membership, Role, User
    from facilities.models import Facility, Lock, LockStatus, Unit
    from integrations import services

    account = Account.objects.create(name="Bench Storage", slug="bench-storage")
    owner = User.objects.create_user(email=OWNER_EMAIL, password=PASSWORD, name="Bench Owner")
    Membership.objects.create(user=owner, account=account, role=Role.OWNER)
    targets = []
    serials = itertools.count(1)
    for f in range(facilities):
        facility = Facility.objects.create(account=account, name=f"Bench {f + 1}")
        for u in range(units_per_facility):
            unit = Unit.objects.create(facility=facility, unit_number=f"B{u + 1:03d}")
            lock = Lock(
                account=account,
                facility=facility,
                serial=f"BE{next(serials):06d}",
                status=LockStatus.ASSIGNED_OVERLOCK,
                unit=unit,
            )
            lock.unlock_code = f"{secrets.randbelow(10_000):04d}"
            lock.save()
            targets.append(Target(facility.facility_id, unit.unit_number, lock.serial))
    created = [
        services.api_key_create(account=account, name=f"Call Center {n + 1}", actor=owner, ip=None)
        for n in range(keys)
    ]
    return Seed(
        account_slug=account.slug,
        owner_email=OWNER_EMAIL,
        password=PASSWORD,
        targets=targets,
        keys=[Key(c.api_key.pk, c.api_key.api_key, c.secret) for c in created],
    )


def code_lookups_by_key_and_serial(since: Any) -> dict[tuple[str, str], int]:
    """LockEvents "code looked up" written since `since`, counted per (API key, serial)."""
    from django.db import connections
    from django.db.models import Count

    from facilities.models import LockEvent

    connections.close_all()  # the server may have restarted under us
    rows = (
        LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP, created_at__gte=since)
        .values_list("api_key__api_key", "lock__serial")
        .annotate(n=Count("id"))
    )
    return {(key, serial): n for key, serial, n in rows}


# --- gunicorn ----------------------------------------------------------------------------------


# --- HTTP ------------------------------------------------------------------------------------


# --- A bounded load of unit lookups ------------------------------------------------------------


@dataclass
class Outcome:
    """What one lookup got back. `status` 0 means the connection failed."""

    started: float
    finished: float
    status: int
    key: str
    serial: str
    error_code: str | None = None
    code_returned: bool = False
    json_body: bool = True
    retry_after: bool = False
    retry_after_seconds: int | None = None
    problem: str = ""


def run_lookups(
    port: int,
    keys: list[Key],
    targets: list[Target],
    *,
    concurrency: int,
    total: int | None = None,
    stop: threading.Event | None = None,
    pick: Callable[[int, int], tuple[Key, Target]] | None = None,
    polite: Callable[[int], bool] = lambda thread: False,
) -> list[Outcome]:
    """`concurrency` threads, each with its own keep-alive connection, make unit lookups
    until `total` were made or `stop` is set. Thread t's request n uses `pick(t, n)`
    (default: keys and targets in turn). A thread for which `polite(t)` is true waits as long
    as a 429's Retry-After says before its next request, as a well-behaved client does."""
    if total is None and stop is None:
        raise ValueError("give a total or a stop event: the load must end by itself")
    done = stop or threading.Event()
    counter = itertools.count()
    outcomes: list[list[Outcome]] = [[] for _ in range(concurrency)]
    pick = pick or (lambda t, n: (keys[n % len(keys)], targets[(n // len(keys)) % len(targets)]))

    def worker(thread: int) -> None:
        client = Http(port, timeout=30)
        while not done.is_set():
            n = next(counter)
            if total is not None and n >= total:
                done.set()
                break
            key, target = pick(thread, n)
            outcome = lookup_once(client, key, target)
            outcomes[thread].append(outcome)
            if outcome.status == 429 and outcome.retry_after_seconds and polite(thread):
                done.wait(min(outcome.retry_after_seconds, 65))
        client.close()

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(itertools.chain.from_iterable(outcomes), key=lambda o: o.started)


def lookup_once(client: Http, key: Key, target: Target) -> Outcome:
    started = time.time()
    try:
        response = client.get(target.path, headers=key.headers())
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(started, time.time(), 0, key.api_key, target.serial, problem=repr(exc))
    outcome = Outcome(started, time.time(), response.status, key.api_key, target.serial)
    outcome.json_body = response.content_type.startswith("application/json")
    outcome.retry_after = "retry-after" in response.headers
    with contextlib.suppress(ValueError):
        outcome.retry_after_seconds = int(response.headers.get("retry-after", ""))
    try:
        data = response.json()
    except ValueError:
        outcome.json_body = False
        outcome.problem = response.text[:200]
        return outcome
    if response.status == 200:
        lock = (data.get("data") or {}).get("lock") or {}
        outcome.code_returned = isinstance(lock.get("unlock_code"), str)
        if lock.get("serial") != target.serial:
            outcome.problem = f"answered serial {lock.get('serial')!r}"
    else:
        outcome.error_code = (data.get("error") or {}).get("code")
        if "Traceback" in response.text:
            outcome.problem = "traceback in the body"
    return outcome


def codes_by_key_and_serial(outcomes: list[Outcome]) -> dict[tuple[str, str], int]:
    counted: dict[tuple[str, str], int] = {}
    for outcome in outcomes:
        if outcome.code_returned:
            pair = (outcome.key, outcome.serial)
            counted[pair] = counted.get(pair, 0) + 1
    return counted


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
