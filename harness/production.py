"""The portal as it is deployed, started on loopback for the tests that must see the real
server (tests/security/) and for the scripts that measure it (bench/): production settings
(`davinci.settings`, DEBUG off, fresh secrets, every SECURE_* default, collected static
files) behind gunicorn, and an HTTP client that talks to it as the TLS-terminating load
balancer does. One harness, so what the security tests check and what the benchmarks
measure is the same server. Nothing here is imported by the product.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
GUNICORN = PYTHON.with_name("gunicorn")


def production_env(*, directory: Path, database_url: str, **overrides: Any) -> dict[str, str]:
    """The environment of a production deployment behind a TLS-terminating load balancer
    (which sets X-Forwarded-Proto), with fresh secrets for this run only; static files are
    collected into `directory`. `overrides` set or replace variables (CACHE_URL, limits)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(directory)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "davinci.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_DIGEST_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "SECURE_PROXY_SSL_HEADER": "1",
        "STATIC_ROOT": str(directory / "static"),
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        # gunicorn reads ./gunicorn.conf.py, which recycles a worker every 1,000 requests;
        # the scripts count worker boots to catch crashes, so no planned recycling here.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """`manage.py <args>` with `env`; its output, or RuntimeError with it."""
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def free_port(ports: range) -> int:
    for port in ports:
        if not port_open(port):
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Gunicorn:
    """One instance of `gunicorn davinci.wsgi` on loopback, its output in `log`: threaded
    workers with keep-alive (as the Procfile's gunicorn.conf.py runs them) unless `config`
    names another gunicorn configuration file. start() returns once `ready_path` answers 200
    (or, with None, once the port accepts connections); stop() ends it, SIGKILL if need be.
    `root` is the checkout it serves: this one, or another version of the code beside it
    (bench/api_bench.py --baseline); `env` must then put that one on PYTHONPATH."""

    def __init__(
        self,
        name: str,
        port: int,
        env: dict[str, str],
        *,
        log: Path,
        workers: int = 2,
        threads: int = 4,
        config: Path | None = None,
        ready_path: str | None = "/healthz",
        root: Path = ROOT,
    ):
        self.name, self.port, self.env, self.log, self.root = name, port, env, log, root
        self.workers, self.threads, self.config = workers, threads, config
        self.ready_path = ready_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> list[str]:
        command = [str(GUNICORN), "davinci.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        if self.config is not None:
            return [*command, "--config", str(self.config)]
        return [
            *command,
            "--workers", str(self.workers),
            "--worker-class", "gthread", "--threads", str(self.threads),
            "--keep-alive", "10", "--timeout", "30", "--graceful-timeout", "5",
            "--forwarded-allow-ips", "127.0.0.1",
        ]  # fmt: skip

    def _ready(self) -> bool:
        if self.ready_path is None:
            return port_open(self.port)
        with contextlib.suppress(OSError, http.client.HTTPException):
            return Http(self.port).get(self.ready_path).status == 200
        return False

    def start(self, timeout: float = 60) -> float:
        if port_open(self.port):
            raise SystemExit(f"port {self.port} is in use: pick another with --port(s)")
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(),
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log_tail()}")
            if self._ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.name} did not get ready:\n{self.log_tail()}")

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
