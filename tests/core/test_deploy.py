import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env() -> dict[str, str]:
    """The documented production variables (README, 'Configuration')."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "API_KEY_DIGEST_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "portal.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
        "DATABASE_URL": "sqlite:////tmp/davinci-deploy-check.sqlite3",
    }


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def _gunicorn_conf(**env) -> dict:
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=False):
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_trusts_forwarded_headers_only_from_trusted_proxies():
    conf = _gunicorn_conf(TRUSTED_PROXIES="10.0.0.7/8, 192.168.1.10")
    assert conf["forwarded_allow_ips"] == "10.0.0.0/8,192.168.1.10/32"
    assert conf["proxy_allow_ips"] == conf["forwarded_allow_ips"]
    assert _gunicorn_conf(TRUSTED_PROXIES="")["forwarded_allow_ips"] == ""


def test_gunicorn_workers_follow_the_cores_unless_web_concurrency_says():
    cores = len(os.sched_getaffinity(0))
    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=True):
        assert _gunicorn_conf()["workers"] == cores
    assert _gunicorn_conf(WEB_CONCURRENCY="3")["workers"] == 3
    conf = _gunicorn_conf()
    assert "%(U)s" in conf["access_log_format"]  # the path, never %(r)s / %(q)s
    assert "%(r)s" not in conf["access_log_format"]
    assert "%(q)s" not in conf["access_log_format"]
    assert conf["timeout"] == 30


def test_the_procfile_has_web_worker_beat_and_release():
    sys.path.insert(0, str(ROOT / "scripts"))
    import serve_check

    commands = serve_check.procfile()
    assert commands["web"] == "gunicorn -c gunicorn.conf.py davinci.wsgi"
    assert commands["worker"].startswith("celery -A davinci worker")
    assert commands["beat"].startswith("celery -A davinci beat")
    assert commands["release"] == "python manage.py migrate --no-input"


def test_the_procfile_web_process_serves_with_production_settings():
    """scripts/serve_check.py: migrate, collectstatic, gunicorn from the Procfile, requests."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL"}}
    result = subprocess.run(
        [sys.executable, "scripts/serve_check.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "serves on port" in result.stdout
