import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from davinci import crypto
from davinci.accounts.models import AuditEvent
from davinci.outbox.models import Notice
from davinci.outbox.tasks import MAX_ATTEMPTS
from integrations import services
from integrations.models import ApiKey
from integrations.secrets import secret_digest, secret_has_valid_checksum, secret_matches
from tests.factories import ApiKeyFactory, FacilityFactory

Action = AuditEvent.Action


def _events(account, action):
    return AuditEvent.objects.for_account(account).filter(action=action)


def _create(account, owner, **kwargs):
    kwargs.setdefault("name", "Call Center")
    return services.api_key_create(account=account, actor=owner, ip="203.0.113.9", **kwargs)


# --- create --------------------------------------------------------------------------------


def test_secret_is_stored_only_as_digest_and_ciphertext(account, owner):
    created = _create(account, owner)
    secret = created.secret
    assert secret.startswith("dvs_") and secret_has_valid_checksum(secret)
    assert created.api_key.api_key.startswith("dvk_")

    # Read the raw row, every column, as the database holds it.
    table = ApiKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [created.api_key.pk])  # noqa: S608
        columns = [column[0] for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    assert not any(secret in str(value) for value in row.values())
    assert row["secret_digest"] == secret_digest(secret)
    assert secret_matches(secret, row["secret_digest"])
    assert row["secret_encrypted"] != secret
    assert crypto.decrypt(row["secret_encrypted"]) == secret


def test_create_for_all_facilities_includes_facilities_added_later(account, owner, facility):
    key = _create(account, owner, all_facilities=True).api_key
    later = FacilityFactory(account=account, name="Built Later")
    assert set(key.facilities_in_scope()) == {facility, later}


def test_create_without_any_facility_is_refused(account, owner, facility):
    with pytest.raises(ValidationError) as excinfo:
        _create(account, owner, all_facilities=False, facilities=[])
    assert excinfo.value.error_dict["facilities"][0].code == "no_facilities"
    assert not ApiKey.objects.exists()


def test_create_with_another_accounts_facility_is_refused(account, owner, other_facility):
    with pytest.raises(ValidationError) as excinfo:
        _create(account, owner, all_facilities=False, facilities=[other_facility])
    assert excinfo.value.error_dict["facilities"][0].code == "wrong_account"
    assert not ApiKey.objects.exists()


def test_create_writes_audit_event_and_emails_owners(
    account, owner, admin_user, facility, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.api_key_create(
            account=account,
            name="Call Center",
            all_facilities=False,
            facilities=[facility],
            actor=admin_user,
            ip="203.0.113.9",
        )
    event = _events(account, Action.KEY_CREATED).get()
    assert event.actor == admin_user
    assert event.ip == "203.0.113.9"
    assert event.target_id == created.api_key.api_key
    assert event.details["facility_ids"] == [facility.facility_id]
    # Owners only (the admin who did it is not an owner), and never the secret.
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [owner.email]
    assert admin_user.email in message.body
    assert created.api_key.api_key in message.body
    assert "203.0.113.9" in message.body
    assert created.secret not in message.body + message.subject


def test_new_api_key_repr_hides_the_secret(account, owner):
    created = _create(account, owner)
    assert created.secret not in repr(created)


# --- reveal --------------------------------------------------------------------------------


def test_reveal_returns_secret_audits_and_emails(
    account, owner, mailoutbox, django_capture_on_commit_callbacks
):
    key = ApiKeyFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        secret = services.api_key_reveal(api_key=key, actor=owner, ip="198.51.100.4")
    assert secret == key.plain_secret
    event = _events(account, Action.KEY_REVEALED).get()
    assert (event.actor, event.ip, event.target_id) == (owner, "198.51.100.4", key.api_key)
    assert len(mailoutbox) == 1
    assert "revealed the secret" in mailoutbox[0].body
    assert key.plain_secret not in mailoutbox[0].body


# --- update --------------------------------------------------------------------------------


def test_update_changes_scope_and_records_what_changed(account, owner, facility):
    second = FacilityFactory(account=account, name="Harbor Eastside")
    key = ApiKeyFactory(account=account)
    expires_at = timezone.now() + timedelta(days=30)
    changed = services.api_key_update(
        api_key=key,
        name="Night desk",
        all_facilities=False,
        facilities=[second],
        expires_at=expires_at,
        allowed_ips=["203.0.113.0/24"],
        actor=owner,
        ip="203.0.113.9",
    )
    assert changed
    key.refresh_from_db()
    assert (key.name, key.all_facilities, key.allowed_ips) == (
        "Night desk",
        False,
        ["203.0.113.0/24"],
    )
    assert key.expires_at == expires_at
    assert list(key.facilities_in_scope()) == [second]
    event = _events(account, Action.KEY_EDITED).get()
    assert "Facilities: All Facilities → Harbor Eastside" in event.details["summary"]
    assert event.details["changes"]["name"] == ["Call Center", "Night desk"]


def test_create_records_the_permissions_and_the_notice_names_them(
    account, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = _create(account, owner, permissions=["release", "read"])
    assert created.api_key.permissions == ["read", "release"]
    event = _events(account, Action.KEY_CREATED).get()
    assert event.details["permissions"] == ["read", "release"]
    assert "Permissions: Read lock information, Release overlocks" in mailoutbox[0].body


def test_create_refuses_unknown_or_no_permissions(account, owner):
    for permissions in (["read", "write"], []):
        with pytest.raises(ValidationError) as caught:
            _create(account, owner, permissions=permissions)
        assert "permissions" in caught.value.message_dict
    assert not ApiKey.objects.exists()


def test_update_records_changed_permissions(account, owner):
    key = ApiKeyFactory(account=account)
    changed = services.api_key_update(
        api_key=key,
        name=key.name,
        all_facilities=True,
        facilities=[],
        expires_at=None,
        allowed_ips=[],
        permissions=["set_status", "read"],
        actor=owner,
        ip=None,
    )
    assert changed
    key.refresh_from_db()
    assert key.permissions == ["read", "set_status"]
    event = _events(account, Action.KEY_EDITED).get()
    assert event.details["changes"] == {"permissions": [["read"], ["read", "set_status"]]}


def test_update_without_permissions_keeps_them(account, owner):
    key = ApiKeyFactory(account=account, permissions=["read", "release"])
    services.api_key_update(
        api_key=key,
        name="Renamed",
        all_facilities=True,
        facilities=[],
        expires_at=None,
        allowed_ips=[],
        actor=owner,
        ip=None,
    )
    key.refresh_from_db()
    assert key.permissions == ["read", "release"]


def test_update_without_changes_records_nothing(account, owner):
    key = ApiKeyFactory(account=account)
    changed = services.api_key_update(
        api_key=key,
        name=key.name,
        all_facilities=True,
        facilities=[],
        expires_at=None,
        allowed_ips=[],
        actor=owner,
        ip=None,
    )
    assert not changed
    assert not _events(account, Action.KEY_EDITED).exists()


def test_update_with_another_accounts_facility_is_refused(account, owner, other_facility):
    key = ApiKeyFactory(account=account)
    with pytest.raises(ValidationError):
        services.api_key_update(
            api_key=key,
            name=key.name,
            all_facilities=False,
            facilities=[other_facility],
            expires_at=None,
            allowed_ips=[],
            actor=owner,
            ip=None,
        )
    key.refresh_from_db()
    assert key.all_facilities and not key.facilities.exists()


# --- disable / enable ----------------------------------------------------------------------


def test_disable_then_enable(account, owner, mailoutbox, django_capture_on_commit_callbacks):
    key = ApiKeyFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.api_key_disable(api_key=key, actor=owner, ip="203.0.113.9")
        assert not services.api_key_disable(api_key=key, actor=owner, ip="203.0.113.9")
    key.refresh_from_db()
    assert not key.is_active and key.disabled_by == owner and key.disabled_at
    assert key.status_label == "Disabled"
    assert _events(account, Action.KEY_DISABLED).count() == 1
    assert mailoutbox == []  # disabling is not one of the notices

    with django_capture_on_commit_callbacks(execute=True):
        assert services.api_key_enable(api_key=key, actor=owner, ip="203.0.113.9")
    key.refresh_from_db()
    assert key.is_active and key.disabled_at is None
    assert _events(account, Action.KEY_ENABLED).count() == 1
    assert len(mailoutbox) == 1 and "re-enabled" in mailoutbox[0].body


# --- roll ----------------------------------------------------------------------------------


def test_roll_without_grace_stops_the_old_secret_at_once(
    account, owner, mailoutbox, django_capture_on_commit_callbacks
):
    key = ApiKeyFactory(account=account)
    old = key.plain_secret
    with django_capture_on_commit_callbacks(execute=True):
        new = services.api_key_roll(api_key=key, actor=owner, ip="203.0.113.9")
    key.refresh_from_db()
    assert new != old and secret_has_valid_checksum(new)
    assert secret_matches(new, key.secret_digest)
    assert not secret_matches(old, key.secret_digest)
    assert key.previous_secret_digest == "" and key.previous_secret_expires_at is None
    assert crypto.decrypt(key.secret_encrypted) == new
    assert _events(account, Action.KEY_ROLLED).get().details["grace_seconds"] == 0
    assert len(mailoutbox) == 1 and "rolled" in mailoutbox[0].subject


def test_roll_with_grace_keeps_the_old_secret_for_a_while(account, owner):
    key = ApiKeyFactory(account=account)
    old = key.plain_secret
    before = timezone.now()
    services.api_key_roll(api_key=key, grace=timedelta(hours=4), actor=owner, ip=None)
    key.refresh_from_db()
    assert secret_matches(old, key.previous_secret_digest)
    assert (
        before + timedelta(hours=4)
        <= key.previous_secret_expires_at
        <= timezone.now() + timedelta(hours=4)
    )
    assert key.in_grace_period


def test_roll_grace_is_at_most_a_day(account, owner):
    key = ApiKeyFactory(account=account)
    with pytest.raises(ValidationError):
        services.api_key_roll(api_key=key, grace=timedelta(hours=25), actor=owner, ip=None)
    key.refresh_from_db()
    assert secret_matches(key.plain_secret, key.secret_digest)


def test_a_key_deleted_meanwhile_does_not_get_a_secret_back(account, owner):
    key = ApiKeyFactory(account=account)
    stale = ApiKey.objects.get(pk=key.pk)  # another browser tab still shows the key
    services.api_key_delete(api_key=key, actor=owner, ip=None)
    with pytest.raises(ValidationError):
        services.api_key_roll(api_key=stale, actor=owner, ip=None)
    key.refresh_from_db()
    assert key.secret_encrypted == ""


# --- delete --------------------------------------------------------------------------------


def test_delete_is_soft_and_forgets_the_ciphertext(account, owner):
    key = ApiKeyFactory(account=account)
    services.api_key_delete(api_key=key, actor=owner, ip="203.0.113.9")
    key.refresh_from_db()
    assert key.deleted_at and key.deleted_by == owner and not key.is_active
    assert key.secret_encrypted == ""
    assert not ApiKey.objects.for_account(account).not_deleted().exists()
    assert _events(account, Action.KEY_DELETED).get().target_id == key.api_key
    with pytest.raises(ValidationError):
        services.api_key_reveal(api_key=key, actor=owner, ip=None)
    with pytest.raises(ValidationError):
        services.api_key_enable(api_key=key, actor=owner, ip=None)


# --- Include in API ------------------------------------------------------------------------


def test_excluding_a_facility_removes_it_from_scope_and_keeps_the_selection(
    account, owner, facility
):
    key = ApiKeyFactory(account=account, facilities=[facility])
    assert services.facility_set_included(
        facility=facility, include_in_api=False, actor=owner, ip="203.0.113.9"
    )
    assert not key.facilities_in_scope().exists()
    assert list(key.facilities.all()) == [facility]  # the saved selection is kept
    event = _events(account, Action.FACILITY_EXCLUDED).get()
    assert (event.actor, event.target_id) == (owner, facility.facility_id)

    assert services.facility_set_included(
        facility=facility, include_in_api=True, actor=owner, ip="203.0.113.9"
    )
    assert list(key.facilities_in_scope()) == [facility]
    assert _events(account, Action.FACILITY_INCLUDED).count() == 1


def test_setting_include_in_api_to_its_current_value_records_nothing(account, owner, facility):
    assert not services.facility_set_included(
        facility=facility, include_in_api=True, actor=owner, ip=None
    )
    assert not AuditEvent.objects.exists()


# --- the secret never reaches the logs ------------------------------------------------------


def test_no_secret_in_logs(account, owner, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        created = _create(account, owner)
        revealed = services.api_key_reveal(api_key=created.api_key, actor=owner, ip=None)
        rolled = services.api_key_roll(api_key=created.api_key, actor=owner, ip=None)
    for secret in (created.secret, revealed, rolled):
        assert secret not in caplog.text


def test_a_mail_server_failure_does_not_undo_the_action(
    account, owner, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken_send(*args, **kwargs):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr("davinci.outbox.emails.EmailMessage.send", broken_send)
    with django_capture_on_commit_callbacks(execute=True):
        created = _create(account, owner)
    assert ApiKey.objects.filter(pk=created.api_key.pk).exists()
    # Retried, then given up on, the failure kept where the admin shows it.
    notice = Notice.objects.get(kind="key_notice")
    assert (notice.status, notice.attempts) == (Notice.Status.FAILED, MAX_ATTEMPTS)
    assert notice.last_error == "ConnectionRefusedError"
    assert "not sent: ConnectionRefusedError" in caplog.text
    assert created.secret not in caplog.text
