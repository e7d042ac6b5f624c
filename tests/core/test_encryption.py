import subprocess
import sys
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from davinci import crypto
from facilities.models import Lock
from tests.factories import LockFactory


def _raw_codes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT unlock_code_encrypted FROM facilities_lock")
        return [row[0] for row in cursor.fetchall()]


def test_seed_demo_leaves_no_plain_code_in_the_lock_table(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    codes = {lock.unlock_code for lock in Lock.objects.all()}
    raw = _raw_codes()
    assert len(raw) >= 5 * 40
    for value in raw:
        assert value.startswith("gAAAAA")  # a Fernet token
        assert value not in codes
    assert all(len(code) == 4 and code.isdigit() for code in codes)


def test_rotate_encryption_keys_reencrypts_under_the_first_key(db, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    locks = [LockFactory(code=f"{n:04d}") for n in range(3)]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "facilities.Lock.unlock_code_encrypted: 3 value(s) re-encrypted" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    for n, lock in enumerate(locks):
        assert Lock.objects.get(pk=lock.pk).unlock_code == f"{n:04d}"


def test_rotate_encryption_keys_stops_on_a_value_no_key_opens(db, settings):
    from django.core.management.base import CommandError

    LockFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="no key in FIELD_ENCRYPTION_KEYS decrypts"):
        call_command("rotate_encryption_keys", stdout=StringIO())


def test_encrypt_is_not_deterministic():
    assert crypto.encrypt("1234") != crypto.encrypt("1234")
    assert crypto.decrypt(crypto.encrypt("1234")) == "1234"


def _settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'davinci.settings'; "
        "django.setup()"
    )
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_without_keys_refuses_to_start(tmp_path):
    result = _settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


def test_development_without_keys_derives_one_and_warns():
    result = _settings_in_subprocess({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert "FIELD_ENCRYPTION_KEYS, API_KEY_DIGEST_SECRET not set: using development values" in (
        result.stderr
    )
