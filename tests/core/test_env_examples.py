"""The two .env templates: .env.example is safe to copy for development, and
.env.production.example names every variable the settings and gunicorn.conf.py read."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _active(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def test_the_development_example_sets_nothing_but_debug():
    assert _active(ROOT / ".env.example") == {"DEBUG": "1"}


def test_copying_the_development_example_gives_sqlite_locmem_and_the_console(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **_active(ROOT / ".env.example")}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "manage.py", "settings_summary"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG on" in result.stdout
    assert "database: sqlite3" in result.stdout
    assert "cache:    LocMemCache" in result.stdout
    assert "email:    console" in result.stdout
    assert "texts:    davinci.sms.ConsoleBackend" in result.stdout


def test_the_production_example_names_every_variable_read():
    read = set()
    for source in ("davinci/settings.py", "gunicorn.conf.py"):
        text = (ROOT / source).read_text()
        read |= set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
    read |= {"FIELD_ENCRYPTION_KEYS", "API_KEY_DIGEST_SECRET", "SECRET_KEY"}
    assert {"DATABASE_URL", "TWILIO_AUTH_TOKEN", "PORT", "WEB_CONCURRENCY"} <= read
    example = (ROOT / ".env.production.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert read - named == set()
