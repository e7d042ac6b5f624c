"""History retention (facilities/retention.py): what is older than the account's retention is
archived to gzip JSON Lines, then removed, and audited; nothing else is touched, and an
interrupted run is finished by the next without loss or duplicates."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.db.models import ProtectedError
from django.utils import timezone

from davinci.accounts.models import AuditEvent
from davinci.accounts.services import audit_event_record
from davinci.celery import app
from facilities import retention
from facilities.history import lock_event_record
from facilities.models import HistoryArchive, LockEvent
from facilities.retention import (
    ArchiveMismatchError,
    history_archive_account,
    history_archive_all,
    retention_cutoff,
)
from facilities.tasks import archive_history
from tests.factories import ApiKeyFactory, LockFactory

NOW = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=800)  # past 24 months
YOUNG = NOW - timedelta(days=700)  # within 24 months


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _at(when: datetime, make):
    with mock.patch("django.utils.timezone.now", lambda: when):
        return make()


def _lock_event(lock, when, **kwargs):
    return _at(
        when,
        lambda: lock_event_record(
            lock=lock,
            kind=LockEvent.Kind.CODE_REVEALED,
            actor_type=LockEvent.Actor.SYSTEM,
            details={"n": 1},
            **kwargs,
        ),
    )


def _audit_event(account, when):
    return _at(
        when,
        lambda: audit_event_record(
            account=account, action=AuditEvent.Action.KEY_CREATED, actor=None, ip="192.0.2.1"
        ),
    )


def _lines(archive: HistoryArchive) -> list[dict]:
    with default_storage.open(archive.file.name, "rb") as file, gzip.open(file) as lines:
        return [json.loads(line) for line in lines]


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def history(account, lock):
    """Three old and one young lock event, two old and one young audit event."""
    return {
        "old_locks": [_lock_event(lock, OLD + timedelta(hours=n)) for n in range(3)],
        "young_lock": _lock_event(lock, YOUNG),
        "old_audits": [_audit_event(account, OLD + timedelta(hours=n)) for n in range(2)],
        "young_audit": _audit_event(account, YOUNG),
    }


def test_events_older_than_the_retention_are_archived_then_removed(account, lock, history):
    run = history_archive_account(account=account, now=NOW)

    cutoff = datetime(2024, 3, 31, tzinfo=UTC)
    assert run.cutoff == cutoff
    by_kind = {archive.kind: archive for archive in run.archives}
    lock_archive = by_kind[HistoryArchive.Kind.LOCK_EVENTS]
    audit_archive = by_kind[HistoryArchive.Kind.AUDIT_EVENTS]
    assert [line["id"] for line in _lines(lock_archive)] == [e.pk for e in history["old_locks"]]
    assert [line["id"] for line in _lines(audit_archive)] == [e.pk for e in history["old_audits"]]
    first = _lines(lock_archive)[0]
    assert first["serial"] == lock.serial
    assert first["facility_id"] == lock.facility.facility_id
    assert first["kind"] == "code_revealed"
    assert first["details"] == {"n": 1}
    assert datetime.fromisoformat(first["created_at"]) == OLD
    assert _lines(audit_archive)[0]["ip"] == "192.0.2.1"

    assert not LockEvent.objects.filter(pk__in=[e.pk for e in history["old_locks"]]).exists()
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in history["old_audits"]]).exists()
    for archive, rows in ((lock_archive, 3), (audit_archive, 2)):
        assert archive.state == HistoryArchive.State.DONE
        assert (archive.rows, archive.removed) == (rows, rows)
        assert archive.bytes == default_storage.size(archive.file.name) > 0
        assert archive.cutoff == cutoff
        assert archive.first_at == OLD
        assert archive.last_at == OLD + timedelta(hours=rows - 1)


def test_an_audit_event_says_how_many_rows_left_and_the_cutoff(account, history):
    history_archive_account(account=account, now=NOW)

    event = AuditEvent.objects.get(action=AuditEvent.Action.HISTORY_ARCHIVED)
    assert event.account == account
    assert event.actor is None
    assert event.details["lock_events"] == 3
    assert event.details["audit_events"] == 2
    assert event.details["cutoff"] == "2024-03-31T00:00:00+00:00"
    assert "3 lock history lines and 2 Activity lines" in event.details["summary"]


def test_nothing_younger_than_the_retention_is_touched(account, history):
    history_archive_account(account=account, now=NOW)

    assert LockEvent.objects.filter(pk=history["young_lock"].pk).exists()
    assert AuditEvent.objects.filter(pk=history["young_audit"].pk).exists()
    archived = {line["id"] for a in HistoryArchive.objects.all() for line in _lines(a)}
    assert history["young_lock"].pk not in archived


def test_another_accounts_history_is_untouched(account, other_account, other_facility, history):
    other_lock = LockFactory(facility=other_facility, serial="RV000001")
    theirs = [_lock_event(other_lock, OLD), _lock_event(other_lock, OLD)]
    their_audit = _audit_event(other_account, OLD)
    other_account.history_retention_months = 36  # OLD is within their retention
    other_account.save()

    runs = history_archive_all(now=NOW)

    assert [run.account for run in runs] == [account]
    assert _ids(LockEvent.objects.for_account(other_account)) == {e.pk for e in theirs}
    assert AuditEvent.objects.filter(pk=their_audit.pk).exists()
    assert not HistoryArchive.objects.filter(account=other_account).exists()
    assert not AuditEvent.objects.filter(
        account=other_account, action=AuditEvent.Action.HISTORY_ARCHIVED
    ).exists()


def test_each_account_is_cut_at_its_own_retention(account, lock, history):
    account.history_retention_months = 12
    account.save()

    history_archive_account(account=account, now=NOW)

    assert not LockEvent.objects.filter(pk=history["young_lock"].pk).exists()  # 700 days > 12 mo.


def test_a_second_run_on_the_same_day_finds_nothing(account, history):
    history_archive_account(account=account, now=NOW)
    again = history_archive_account(account=account, now=NOW + timedelta(hours=3))

    assert again.archives == []
    assert HistoryArchive.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_ARCHIVED).count() == 1


def test_an_account_with_nothing_old_gets_no_archive_and_no_audit(account, lock):
    _lock_event(lock, YOUNG)

    assert history_archive_account(account=account, now=NOW).archives == []
    assert not HistoryArchive.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_ARCHIVED).exists()


def test_rows_are_read_and_removed_in_batches(account, lock, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    events = [_lock_event(lock, OLD + timedelta(minutes=n)) for n in range(5)]
    deletes = []
    real_delete = retention._delete
    monkeypatch.setattr(
        retention, "_delete", lambda m, ids: deletes.append(ids) or real_delete(m, ids)
    )

    (archive,) = history_archive_account(account=account, now=NOW).archives

    assert [line["id"] for line in _lines(archive)] == [e.pk for e in events]
    assert [len(ids) for ids in deletes] == [2, 2, 1]
    assert not LockEvent.objects.for_account(account).exists()


def test_a_run_interrupted_after_writing_is_finished_by_the_next(account, history, monkeypatch):
    def fail(model, ids):
        raise RuntimeError("worker lost")

    with monkeypatch.context() as patch:
        patch.setattr(retention, "_delete", fail)
        with pytest.raises(RuntimeError):
            history_archive_account(account=account, now=NOW)

    written = HistoryArchive.objects.get()
    assert written.state == HistoryArchive.State.WRITTEN
    assert written.kind == HistoryArchive.Kind.LOCK_EVENTS
    assert LockEvent.objects.for_account(account).count() == 4  # nothing removed
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HISTORY_ARCHIVED).exists()

    run = history_archive_account(account=account, now=NOW + timedelta(days=1))

    lock_archive = HistoryArchive.objects.get(kind=HistoryArchive.Kind.LOCK_EVENTS)
    assert lock_archive.pk == written.pk  # finished, not written again
    assert lock_archive.state == HistoryArchive.State.DONE
    assert [line["id"] for line in _lines(lock_archive)] == [e.pk for e in history["old_locks"]]
    assert _ids(LockEvent.objects.for_account(account)) == {history["young_lock"].pk}
    assert {a.kind for a in run.archives} == set(HistoryArchive.Kind)
    assert len(default_storage.listdir(f"history/{account.pk}")[1]) == 2
    event = AuditEvent.objects.get(action=AuditEvent.Action.HISTORY_ARCHIVED)
    assert (event.details["lock_events"], event.details["audit_events"]) == (3, 2)


def test_a_run_interrupted_halfway_through_removing_loses_and_repeats_nothing(
    account, lock, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    events = [_lock_event(lock, OLD + timedelta(minutes=n)) for n in range(5)]
    real_delete = retention._delete
    calls = []

    def fail_second(model, ids):
        calls.append(ids)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_delete(model, ids)

    with monkeypatch.context() as patch:
        patch.setattr(retention, "_delete", fail_second)
        with pytest.raises(RuntimeError):
            history_archive_account(account=account, now=NOW)
    assert HistoryArchive.objects.get().removed == 2
    assert LockEvent.objects.for_account(account).count() == 3

    history_archive_account(account=account, now=NOW)

    archive = HistoryArchive.objects.get()
    assert (archive.state, archive.rows, archive.removed) == ("done", 5, 5)
    assert [line["id"] for line in _lines(archive)] == [e.pk for e in events]
    assert not LockEvent.objects.for_account(account).exists()


def test_a_run_that_died_writing_is_discarded_and_done_again(account, lock):
    events = [_lock_event(lock, OLD), _lock_event(lock, OLD)]
    dead = HistoryArchive.objects.create(
        account=account, kind=HistoryArchive.Kind.LOCK_EVENTS, cutoff=NOW
    )
    HistoryArchive.objects.filter(pk=dead.pk).update(created_at=NOW - timedelta(hours=7))
    default_storage.save(retention._file_name(dead), open(__file__, "rb"))  # noqa: SIM115

    (archive,) = history_archive_account(account=account, now=NOW).archives

    assert not HistoryArchive.objects.filter(pk=dead.pk).exists()
    assert not default_storage.exists(retention._file_name(dead))
    assert [line["id"] for line in _lines(archive)] == [e.pk for e in events]


def test_an_archive_another_run_is_writing_is_left_alone(account, lock):
    event = _lock_event(lock, OLD)
    HistoryArchive.objects.create(account=account, kind=HistoryArchive.Kind.LOCK_EVENTS, cutoff=NOW)

    assert history_archive_account(account=account, now=NOW).archives == []
    assert LockEvent.objects.filter(pk=event.pk).exists()


def test_an_archive_that_does_not_match_the_table_deletes_nothing(account, lock):
    events = [_lock_event(lock, OLD), _lock_event(lock, OLD)]
    HistoryArchive.objects.create(
        account=account,
        kind=HistoryArchive.Kind.LOCK_EVENTS,
        state=HistoryArchive.State.WRITTEN,
        cutoff=NOW,
        last_pk=events[-1].pk,
        rows=3,
    )

    with pytest.raises(ArchiveMismatchError):
        history_archive_account(account=account, now=NOW)
    assert LockEvent.objects.for_account(account).count() == 2


def test_one_failing_account_does_not_stop_the_others(account, other_account, lock, monkeypatch):
    _lock_event(lock, OLD)
    real = retention.history_archive_account

    def fail_for_other(*, account, now):
        if account == other_account:
            raise RuntimeError("boom")
        return real(account=account, now=now)

    monkeypatch.setattr(retention, "history_archive_account", fail_for_other)
    assert [run.account for run in history_archive_all(now=NOW)] == [account]


@pytest.mark.parametrize(
    ("now", "months", "cutoff"),
    [
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), 24, datetime(2024, 3, 31, tzinfo=UTC)),
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), 13, datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, 0, 30, tzinfo=UTC), 12, datetime(2025, 1, 15, tzinfo=UTC)),
        (datetime(2026, 1, 15, 0, 30, tzinfo=UTC), 120, datetime(2016, 1, 15, tzinfo=UTC)),
    ],
)
def test_the_cutoff_is_midnight_utc_whole_calendar_months_back(account, now, months, cutoff):
    account.history_retention_months = months
    assert retention_cutoff(account=account, now=now) == cutoff


def test_history_leaves_by_no_other_path(account, lock, owner):
    key = ApiKeyFactory(account=account)
    _lock_event(lock, timezone.now(), api_key=key, user=owner)
    _audit_event(account, timezone.now())

    for queryset in (LockEvent.objects.all(), AuditEvent.objects.all()):
        with pytest.raises(TypeError):
            queryset.delete()
    # Deleting what history points at is refused (PROTECT), never cascaded.
    for target in (key, lock, owner, account):
        with pytest.raises(ProtectedError):
            target.delete()
    assert LockEvent.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_beat_runs_the_archive_once_a_day(settings, account, lock):
    entry = settings.CELERY_BEAT_SCHEDULE["history-archive"]
    assert entry["task"] == archive_history.name == "facilities.history_archive"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {17})
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    _lock_event(lock, timezone.now() - timedelta(days=800))

    assert archive_history.apply().get() == 1
    assert not LockEvent.objects.exists()
