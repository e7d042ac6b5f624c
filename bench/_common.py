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
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
GUNICORN = PYTHON.with_name("gunicorn")
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
    """The environment of a production deployment behind a TLS-terminating load balancer
    (which sets X-Forwarded-Proto), with fresh secrets for this run only."""
    from cryptography.fernet import Fernet

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "davinci.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_DIGEST_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "SECURE_PROXY_SSL_HEADER": "1",
        "STATIC_ROOT": str(workspace.path / "static"),
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        # gunicorn reads ./gunicorn.conf.py, which recycles a worker every 1,000 requests;
        # the scripts count worker boots to catch crashes, so no planned recycling here.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def django_setup(env: dict[str, str]) -> None:
    """Use the same settings as the servers in this process too (seeding and counting)."""
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"  # the script's own output stays readable
    sys.path.insert(0, str(ROOT))
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


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Gunicorn:
    """One instance: `gunicorn davinci.wsgi` with threaded workers (keep-alive), its own port
    and log file in the workspace. Stopped (SIGTERM, then SIGKILL) when the workspace closes."""

    def __init__(
        self,
        workspace: Workspace,
        name: str,
        port: int,
        env: dict[str, str],
        *,
        workers: int = 2,
        threads: int = 4,
    ):
        self.name, self.port, self.env = name, port, env
        self.workers, self.threads = workers, threads
        self.log = workspace.path / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None
        workspace.callback(self.stop)

    def start(self, timeout: float = 60) -> float:
        if port_open(self.port):
            raise SystemExit(f"port {self.port} is in use: pick another with --port(s)")
        started = time.monotonic()
        command = [
            str(GUNICORN), "davinci.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", "gthread", "--threads", str(self.threads),
            "--keep-alive", "10", "--timeout", "30", "--graceful-timeout", "5",
            "--forwarded-allow-ips", "127.0.0.1",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Http(self.port).get("/healthz").status == 200:
                    return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.name} did not answer /healthz:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this script started
            self.process.wait(timeout=5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def request_lines(self) -> list[dict[str, Any]]:
        """The request log lines (davinci.request, one JSON object each) written so far."""
        lines = []
        for line in self.log_text().splitlines():
            if line.startswith("{") and '"status"' in line:
                with contextlib.suppress(ValueError):
                    lines.append(json.loads(line))
        return lines

    def server_errors(self) -> int:
        """Responses with a 5xx status other than the intended 503 of a database outage."""
        return sum(1 for line in self.request_lines() if line.get("status", 0) in (500, 502, 504))

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def error_code(self) -> str | None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return self.json()["error"]["code"]
        return None


class Http:
    """A keep-alive connection to one instance, as the load balancer forwards it: HTTPS said
    by X-Forwarded-Proto. Keeps cookies like a browser, so it can sign in and post forms."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        all_headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers.setdefault("Origin", self.origin)
            all_headers.setdefault("Referer", self.origin + path)
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reused = self._connection is not None
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout
            )
        try:
            self._connection.request(method, path, body=body, headers=all_headers)
            raw = self._connection.getresponse()
            data = raw.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            # The server closed an idle keep-alive connection just as it was reused: any
            # HTTP client retries a GET once on a new connection (RFC 9112, 9.3.1).
            if not reused or method not in ("GET", "HEAD"):
                raise
            return self.request(method, path, headers=headers, form=form)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        headers_out = {name.lower(): value for name, value in raw.getheaders()}
        for value in raw.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if raw.will_close:
            self.close()
        return Response(raw.status, headers_out, data)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict[str, str], **kwargs: Any) -> Response:
        return self.request("POST", path, form=form, **kwargs)

    def sign_in(self, email: str, password: str) -> Response:
        page = self.get("/accounts/sign-in/")
        return self.post(
            "/accounts/sign-in/",
            {"csrfmiddlewaretoken": csrf_token(page), "username": email, "password": password},
        )


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


def csrf_token(page: Response) -> str:
    match = CSRF_INPUT.search(page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on the page (status {page.status})")
    return unescape(match.group(1))


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
