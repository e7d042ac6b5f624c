"""`manage.py create_api_key`."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from davinci.accounts.models import AuditEvent
from integrations.models import ApiKey
from integrations.secrets import secret_matches
from tests.factories import FacilityFactory


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return json.loads(out.getvalue())


def test_prints_the_key_and_secret_as_json(
    account, owner, facility, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        printed = _run("--account", account.slug, "--name", "Call Center")
    key = ApiKey.objects.get()
    assert printed["api_key"] == key.api_key
    assert secret_matches(printed["api_secret"], key.secret_digest)
    assert printed["all_facilities"] is True
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.KEY_CREATED and event.actor is None
    assert event.details["via"] == "command"
    assert len(mailoutbox) == 1 and printed["api_secret"] not in mailoutbox[0].body


def test_limits_the_key_to_the_named_facilities(account, facility):
    FacilityFactory(account=account, name="Other")
    printed = _run(
        "--account",
        account.slug,
        "--name",
        "Call Center",
        "--facility",
        facility.facility_id,
        "--allowed-ip",
        "203.0.113.0/24",
        "--expires",
        "2099-01-01",
    )
    key = ApiKey.objects.get()
    assert printed["facility_ids"] == [facility.facility_id]
    assert list(key.facilities_in_scope()) == [facility]
    assert key.allowed_ips == ["203.0.113.0/24"]
    assert key.expires_at.year == 2099


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "nope", "--name", "X"], "No account"),
        (["--account", "harbor-self-storage", "--name", " "], "--name"),
        (["--account", "harbor-self-storage", "--name", "X", "--facility", "zzz"], "zzz"),
        (["--account", "harbor-self-storage", "--name", "X", "--expires", "soon"], "--expires"),
        (["--account", "harbor-self-storage", "--name", "X", "--expires", "2001-01-01"], "after"),
        (["--account", "harbor-self-storage", "--name", "X", "--allowed-ip", "nope"], "CIDR"),
    ],
)
def test_bad_arguments_are_clear_errors(account, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiKey.objects.exists()


def test_another_accounts_facility_is_refused(account, other_facility):
    with pytest.raises(CommandError, match=other_facility.facility_id):
        _run("--account", account.slug, "--name", "X", "--facility", other_facility.facility_id)
    assert not ApiKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stdout_stays_pure_json_with_the_console_mail_backend(account, owner, settings, capsys):
    # A real commit (no test transaction around it), so the owners' notice is sent for real.
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = StringIO()
    call_command("create_api_key", "--account", account.slug, "--name", "X", stdout=out)
    assert json.loads(out.getvalue())["name"] == "X"
    captured = capsys.readouterr()
    assert "created the API key" in captured.err
    assert "created the API key" not in captured.out


def test_a_key_reads_by_default_and_prints_its_permissions(account):
    printed = _run("--account", account.slug, "--name", "Call Center")
    assert printed["permissions"] == ["read"]
    assert ApiKey.objects.get().permissions == ["read"]


def test_permissions_are_chosen_by_name(account):
    printed = _run(
        "--account", account.slug, "--name", "Call Center", "--permissions", "release, read"
    )
    assert printed["permissions"] == ["read", "release"]
    assert ApiKey.objects.get().permissions == ["read", "release"]
    event = AuditEvent.objects.get()
    assert event.details["permissions"] == ["read", "release"]


@pytest.mark.parametrize("value", ["read,write", "", " , "])
def test_unknown_or_no_permissions_are_a_clear_error_listing_the_valid_ones(account, value):
    with pytest.raises(CommandError) as caught:
        _run("--account", account.slug, "--name", "X", "--permissions", value)
    message = str(caught.value)
    assert "read, release, set_status, fms_events, events" in message
    if "write" in value:
        assert "write" in message
    assert not ApiKey.objects.exists()
