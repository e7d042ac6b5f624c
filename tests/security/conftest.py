"""The cast of the security tests, and `production_server`: the portal as deployed
(harness/production.py, the same harness bench/ measures: gunicorn, `davinci.settings` with
DEBUG off and every SECURE_* default, collected static files) on a throwaway SQLite database,
for the tests that must see the real server and real settings: raw HTTP (oversized headers,
invalid UTF-8) and the headers and cookies of production."""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import production

PORTS = range(8124, 8140)  # this suite's share of the machine's ports

SEED = """
import json
from davinci.accounts.models import Account, Membership, Role, User
from facilities.models import Facility, Lock, LockStatus, Unit
from davinci.accounts.permissions import KeyPermission
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
created = services.api_key_create(account=account, name="Call Center", actor=owner, ip=None,
                                  permissions=[permission.value for permission in KeyPermission])
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


def production_env(tmp: Path) -> dict[str, str]:
    """harness.production's environment, on a throwaway SQLite database."""
    return production.production_env(
        directory=tmp,
        database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
        LOG_LEVEL="WARNING",
        # The fuzzers send thousands of requests, many with wrong credentials on purpose;
        # the limits themselves are tested in tests/api and bench/multi_instance.py.
        API_RATE_LIMIT_PER_MINUTE=1_000_000,
        API_AUTH_FAILURE_LIMIT_PER_MINUTE=1_000_000,
    )


@pytest.fixture(scope="session")
def production_server(tmp_path_factory) -> Iterator[ProductionServer]:
    tmp = tmp_path_factory.mktemp("production")
    env = production_env(tmp)
    password = secrets.token_urlsafe(16)
    production.manage(env, "migrate", "--no-input", "-v0")
    production.manage(env, "collectstatic", "--no-input", "-v0")
    output = production.manage(env, "shell", "--no-imports", "-c", SEED.format(password=password))
    seeded = json.loads(output.strip().splitlines()[-1])
    port = production.free_port(PORTS)
    log = tmp / "gunicorn.log"
    with production.Gunicorn("security", port, env, log=log, workers=1, threads=4):
        yield ProductionServer(port=port, env=env, log=log, password=password, **seeded)
