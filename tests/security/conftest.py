"""The cast of the security tests, and `production_server`: the portal as deployed (gunicorn,
`davinci.settings` with DEBUG off and every SECURE_* default, collected static files) on a
throwaway SQLite database, for the tests that must see the real server and real settings:
raw HTTP (oversized headers, invalid UTF-8) and the headers and cookies of production."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PORTS = range(8124, 8140)  # this suite's share of the machine's ports

SEED = """
import json
from davinci.accounts.models import Account, Membership, Role, User
from facilities.models import Facility, Lock, LockStatus, Unit
from integrations import services

account = Account.objects.create(name="Harbor Self Storage", slug="harbor-self-storage")
owner = User.objects.create_user(email="owner@example.com", password={password!r})
Membership.objects.create(user=owner, account=account, role=Role.OWNER)
User.objects.create_superuser(email="staff@example.com", password={password!r})
facility = Facility.objects.create(account=account, name="Harbor Downtown")
unit = Unit.objects.create(facility=facility, unit_number="A101")
lock = Lock(account=account, facility=facility, serial="HD000001",
            status=LockStatus.ASSIGNED_OVERLOCK, unit=unit)
lock.unlock_code = "7391"
lock.save()
created = services.api_key_create(account=account, name="Call Center", actor=owner, ip=None)
print(json.dumps({{"facility_id": facility.facility_id, "api_key": created.api_key.api_key,
                  "secret": created.secret, "key_pk": created.api_key.pk}}))
"""


@dataclass
class ProductionServer:
    port: int
    env: dict[str, str] = field(repr=False)
    log: Path
    facility_id: str
    api_key: str
    secret: str = field(repr=False)
    key_pk: int
    password: str = field(repr=False)

    @property
    def unit_path(self) -> str:
        return f"/api/v1/facilities/{self.facility_id}/units/A101/"

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key, "X-API-Secret": self.secret}

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        https: bool = True,
    ) -> http.client.HTTPResponse:
        """One request as the TLS-terminating load balancer forwards it (or plain HTTP)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        all_headers = {"X-Forwarded-Proto": "https"} if https else {}
        connection.request(method, path, body=body, headers={**all_headers, **(headers or {})})
        response = connection.getresponse()
        response.data = response.read()
        connection.close()
        return response

    def raw(self, data: bytes) -> bytes:
        """Send bytes as they are (no client library to tidy them up); the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            sock.sendall(data)
            chunks = []
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        return b"".join(chunks)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the production server")


def production_env(tmp: Path) -> dict[str, str]:
    """davinci.settings as README's 'Deployment' runs it: only what must be set is set."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "davinci.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_DIGEST_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "SECURE_PROXY_SSL_HEADER": "1",
        "EMAIL_URL": "dummymail://",
        "LOG_FORMAT": "json",
        # The fuzzers send thousands of requests, many with wrong credentials on purpose;
        # the limits themselves are tested in tests/api and bench/multi_instance.py.
        "API_RATE_LIMIT_PER_MINUTE": "1000000",
        "API_AUTH_FAILURE_LIMIT_PER_MINUTE": "1000000",
    }


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def production_server(tmp_path_factory) -> Iterator[ProductionServer]:
    tmp = tmp_path_factory.mktemp("production")
    env = production_env(tmp)
    password = secrets.token_urlsafe(16)
    _manage(env, "migrate", "--no-input", "-v0")
    _manage(env, "collectstatic", "--no-input", "-v0")
    output = _manage(env, "shell", "--no-imports", "-c", SEED.format(password=password))
    seeded = json.loads(output.strip().splitlines()[-1])
    port = _free_port()
    log = tmp / "gunicorn.log"
    command = [
        str(GUNICORN), "davinci.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--timeout", "30",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = ProductionServer(port=port, env=env, log=log, password=password, **seeded)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(OSError):
                if server.request("GET", "/healthz").status == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
