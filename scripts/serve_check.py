"""Start the Procfile's processes with production settings and check that they serve.

    .venv/bin/python scripts/serve_check.py [--port N]

Runs the Procfile's `release:` command (migrations) and collectstatic, then the `web:`
command exactly as the Procfile writes it (gunicorn -c gunicorn.conf.py ...), with DEBUG off
and the secrets set, behind an imaginary TLS proxy on 127.0.0.1 (TRUSTED_PROXIES). Checks:
/healthz and /readyz answer 200, the sign-in page and its stylesheet are served over the
proxy's HTTPS, plain HTTP is redirected to HTTPS, and gunicorn's access log names the path
but not the query string. DATABASE_URL and CACHE_URL are used when set (CI: PostgreSQL and
Redis), else a throw-away SQLite file and the local-memory cache. Exits non-zero on failure.

Processes are started by `start(name)`, so another process of the Procfile (the worker) is
checked the same way: start it, then ask it to do something.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def procfile() -> dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(port: int, scratch: Path) -> dict[str, str]:
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(scratch),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "API_KEY_DIGEST_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{scratch / 'db.sqlite3'}"),
        "SECURE_PROXY_SSL_HEADER": "1",
        "TRUSTED_PROXIES": "127.0.0.1",
        "STATIC_ROOT": str(scratch / "static"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
    }
    if os.environ.get("CACHE_URL"):
        env["CACHE_URL"] = os.environ["CACHE_URL"]
    return env


class Check:
    def __init__(self, port: int, env: dict[str, str], scratch: Path) -> None:
        self.port, self.env, self.scratch = port, env, scratch
        self.processes: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.failures: list[str] = []

    def run(self, name: str) -> None:
        command = procfile()[name]
        print(f"== {name}: {command}")
        subprocess.run(shlex.split(command), cwd=ROOT, env=self.env, check=True, timeout=300)

    def start(self, name: str) -> None:
        command = procfile()[name]
        print(f"== {name}: {command}")
        log = self.scratch / f"{name}.log"
        process = subprocess.Popen(
            shlex.split(command),
            cwd=ROOT,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = (process, log)

    def log(self, name: str) -> str:
        return self.processes[name][1].read_text(errors="replace")

    def get(self, path: str, *, https: bool = True) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if https:
            request.add_header("X-Forwarded-Proto", "https")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def wait_until_serving(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        process = self.processes["web"][0]
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"web exited with {process.returncode}:\n{self.log('web')}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"web did not answer /healthz within {seconds}s:\n{self.log('web')}")

    def expect(self, what: str, ok: bool) -> None:
        print(f"   {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)

    def stop(self) -> None:
        for process, _log in self.processes.values():
            process.terminate()
        for process, _log in self.processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_web(check: Check) -> None:
    check.wait_until_serving()
    status, _, body = check.get("/healthz")
    check.expect("/healthz answers 200", status == 200 and b'"ok"' in body)
    status, _, body = check.get("/readyz")
    check.expect(f"/readyz answers 200 (database and cache): {body[:80]!r}", status == 200)
    status, headers, body = check.get("/accounts/sign-in/?next=/secret-query-value")
    check.expect("the sign-in page is served over the proxy's HTTPS", status == 200)
    check.expect("  with HSTS", "max-age=" in headers.get("Strict-Transport-Security", ""))
    stylesheet = re.search(rb'href="(/static/css/portal\.[0-9a-f]+\.css)"', body)
    check.expect("  naming a hashed stylesheet", stylesheet is not None)
    if stylesheet:
        status, headers, _ = check.get(stylesheet.group(1).decode())
        check.expect(
            "  which whitenoise serves, cached for ever",
            status == 200 and "immutable" in headers.get("Cache-Control", ""),
        )
    status, headers, _ = check.get("/accounts/sign-in/", https=False)
    check.expect(
        "plain HTTP is redirected to HTTPS",
        status == 301 and headers.get("Location", "").startswith("https://"),
    )
    time.sleep(0.5)  # gunicorn writes the access log after the response
    log = check.log("web")
    check.expect("the access log names the path", '"GET /accounts/sign-in/ HTTP/1.1" 200' in log)
    check.expect("  but not the query string", "secret-query-value" not in log)
    workers = len(re.findall(r"Booting worker with pid", log))
    check.expect(f"gunicorn booted WEB_CONCURRENCY=2 workers ({workers})", workers >= 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="davinci-serve-check-") as scratch_dir:
        scratch = Path(scratch_dir)
        env = production_env(port, scratch)
        check = Check(port, env, scratch)
        check.run("release")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        check.start("web")
        try:
            check_web(check)
        finally:
            check.stop()
        if check.failures:
            print(f"serve_check: {len(check.failures)} check(s) failed:\n{check.log('web')}")
            return 1
        print(f"serve_check: the Procfile's web process serves on port {port}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
