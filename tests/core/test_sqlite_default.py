"""Finding 7: the embedded SQLite default serves concurrent clients (bench/sqlite_concurrency.py
shows it against a running server: 16 clients x 50 lookups and 4 editors, no 5xx)."""

import subprocess
import sys

from django.conf import settings


def test_sqlite_waits_for_the_writer_and_takes_the_write_lock_up_front(tmp_path):
    probe = (
        "from django.conf import settings; import django; django.setup(); "
        "from django.db import connection; c = connection.cursor(); "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(options['transaction_mode'], options['timeout'], "
        "c.execute('PRAGMA journal_mode').fetchone()[0])"
    )
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "davinci.settings",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    ).stdout.split()
    assert out == ["IMMEDIATE", "20", "wal"]
