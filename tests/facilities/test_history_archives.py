"""The account's history retention on Your account (Owner only, 12 to 120 months, audited)
and the History archives page with its downloads (Owner only, another account's: 404)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from davinci.accounts.models import AuditEvent
from facilities.models import HistoryArchive
from tests.conftest import signed_in

RETENTION_URL = reverse("accounts:account_history_retention")
LIST_URL = reverse("facilities:history_archive_list")
LINES = b'{"id":1,"kind":"code_revealed"}\n{"id":2,"kind":"status_changed"}\n'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _archive(
    account, state=HistoryArchive.State.DONE, kind=HistoryArchive.Kind.LOCK_EVENTS
) -> HistoryArchive:
    now = timezone.now()
    body = gzip.compress(LINES)
    name = default_storage.save(f"history/{account.pk}/test.jsonl.gz", ContentFile(body))
    return HistoryArchive.objects.create(
        account=account,
        kind=kind,
        state=state,
        cutoff=now - timedelta(days=730),
        first_at=now - timedelta(days=760),
        last_at=now - timedelta(days=731),
        rows=2,
        removed=2,
        bytes=len(body),
        file=name,
    )


def _download_url(archive: HistoryArchive) -> str:
    return reverse("facilities:history_archive_download", args=[archive.pk])


# --- The retention setting --------------------------------------------------------------------


def test_a_new_account_keeps_24_months(account):
    assert account.history_retention_months == 24


def test_the_owner_sees_the_retention_setting(owner_client):
    page = owner_client.get(reverse("accounts:your_account")).content.decode()
    assert 'name="history_retention_months"' in page
    assert 'value="24"' in page
    assert LIST_URL in page


def test_a_client_admin_does_not_see_it(admin_client):
    page = admin_client.get(reverse("accounts:your_account")).content.decode()
    assert "history_retention_months" not in page
    assert 'name="time_zone"' in page  # what they do set there


def test_the_owner_sets_the_retention_and_it_is_audited(owner_client, owner, account):
    response = owner_client.post(RETENTION_URL, {"history_retention_months": "36"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.history_retention_months == 36
    event = AuditEvent.objects.get(action=AuditEvent.Action.HISTORY_RETENTION_CHANGED)
    assert (event.account, event.actor) == (account, owner)
    assert (event.details["from"], event.details["to"]) == (24, 36)
    activity = owner_client.get(reverse("integrations:activity")).content.decode()
    assert "History is kept for 36 months (was 24)." in activity


def test_the_same_value_changes_and_audits_nothing(owner_client, account):
    owner_client.post(RETENTION_URL, {"history_retention_months": "24"})
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_RETENTION_CHANGED)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("11", "Keep history for at least 12 months."),
        ("0", "Keep history for at least 12 months."),
        ("121", "Keep history for at most 120 months."),
        ("twelve", "Enter a whole number of months, e.g. 24."),
        ("", "Enter a number of months, e.g. 24."),
    ],
)
def test_a_retention_out_of_bounds_is_a_form_error(owner_client, account, value, error):
    response = owner_client.post(RETENTION_URL, {"history_retention_months": value})

    assert response.status_code == 200
    assert error in response.content.decode()
    account.refresh_from_db()
    assert account.history_retention_months == 24
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_RETENTION_CHANGED)


def test_only_the_owner_sets_the_retention(admin_client, account):
    response = admin_client.post(RETENTION_URL, {"history_retention_months": "12"})

    assert response.status_code == 403
    account.refresh_from_db()
    assert account.history_retention_months == 24


def test_the_retention_is_set_by_post_only(owner_client):
    assert owner_client.get(RETENTION_URL).status_code == 405


# --- History archives -------------------------------------------------------------------------


def test_the_owner_lists_the_accounts_archives(owner_client, account, other_account):
    mine = _archive(account)
    unfinished = _archive(
        account, state=HistoryArchive.State.WRITTEN, kind=HistoryArchive.Kind.AUDIT_EVENTS
    )
    theirs = _archive(other_account)

    response = owner_client.get(LIST_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert _download_url(mine) in page
    assert _download_url(theirs) not in page
    assert _download_url(unfinished) not in page  # rows still being removed
    assert '<td data-label="What">Lock history</td>' in page


def test_the_list_says_when_nothing_was_archived(owner_client):
    assert "Nothing archived yet" in owner_client.get(LIST_URL).content.decode()


def test_only_the_owner_opens_the_archives(admin_client):
    assert admin_client.get(LIST_URL).status_code == 403


def test_the_archives_list_is_read_only(owner_client):
    assert owner_client.post(LIST_URL).status_code == 405


def test_the_list_keeps_its_queries_whatever_the_archives(
    owner_client, account, django_assert_max_num_queries
):
    for _ in range(30):
        _archive(account)
    with django_assert_max_num_queries(8):
        assert owner_client.get(LIST_URL).status_code == 200


def test_the_owner_downloads_an_archive_streamed_and_audited(owner_client, owner, account):
    archive = _archive(account)

    response = owner_client.get(_download_url(archive))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"] == (f'attachment; filename="{archive.download_name}"')
    assert archive.download_name.startswith("harbor-self-storage-lock-events-")
    body = gzip.decompress(b"".join(response.streaming_content))
    assert [json.loads(line)["id"] for line in body.splitlines()] == [1, 2]
    event = AuditEvent.objects.get(action=AuditEvent.Action.HISTORY_ARCHIVE_DOWNLOADED)
    assert (event.actor, event.target_type, event.target_id) == (
        owner,
        "history_archive",
        str(archive.pk),
    )


def test_another_accounts_archive_is_404(account, other_account_owner):
    archive = _archive(account)

    assert signed_in(other_account_owner).get(_download_url(archive)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_ARCHIVE_DOWNLOADED)


def test_a_client_admin_of_the_account_gets_404_too(account, admin_client):
    assert admin_client.get(_download_url(_archive(account))).status_code == 404


def test_an_archive_not_done_is_404(account, owner_client):
    archive = _archive(account, state=HistoryArchive.State.WRITTEN)
    assert owner_client.get(_download_url(archive)).status_code == 404


def test_an_archive_whose_file_is_missing_is_404_not_500(account, owner_client):
    archive = _archive(account)
    default_storage.delete(archive.file.name)

    assert owner_client.get(_download_url(archive)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_ARCHIVE_DOWNLOADED)


def test_a_download_is_a_get(account, owner_client):
    assert owner_client.post(_download_url(_archive(account))).status_code == 405
