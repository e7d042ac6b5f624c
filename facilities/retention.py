"""History retention: the one way LockEvents and AuditEvents ever leave the database.

Each account keeps its history for `Account.history_retention_months` (24 by default, at least
12). Once a day (the beat task `facilities.history_archive`, facilities/tasks.py) every row
older than that is written to a gzip JSON Lines file in the default storage, recorded as a
HistoryArchive the owner can download, and only then deleted; one AuditEvent per account says
how many rows of each kind left and the cutoff.

Per account and kind, a run goes through three steps, each safe to interrupt:
1. claim: a HistoryArchive in state *writing* (one unfinished archive per account and kind,
   a unique constraint), made in a transaction that locks the account's row;
2. write: the rows older than the cutoff, by id in batches of BATCH_SIZE (memory stays flat
   at millions of rows), into a temporary file, then into the storage, flushed to disk and its
   size checked; the archive is *written*, naming the last id it holds;
3. remove: the archive's rows (the account's, older than the cutoff, id up to `last_pk`),
   BATCH_SIZE ids per transaction, each adding what it deleted to `removed`; then *done*, with
   the audit event, in one transaction.
A run that dies while writing leaves a *writing* archive and no row touched: a run after
STALE_WRITING discards it and starts again. A run that dies after writing leaves a *written*
archive: the next run finishes removing exactly its rows (it first checks that `removed` plus
the rows still there add up to what the file holds) and archives nothing twice.
"""

from __future__ import annotations

import calendar
import gzip
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from davinci.accounts.models import Account, AuditEvent
from davinci.accounts.services import audit_event_record
from facilities.models import HistoryArchive, LockEvent

logger = logging.getLogger(__name__)

BATCH_SIZE = 10_000
# A *writing* archive older than this belongs to a run that died (the largest account's
# 5 million events are written in minutes).
STALE_WRITING = timedelta(hours=6)


class ArchiveMismatchError(RuntimeError):
    """The table does not hold what an archive says it took: nothing is deleted."""


@dataclass(frozen=True)
class _Kind:
    """What one kind of history archives: whose rows, and which columns under which names."""

    kind: HistoryArchive.Kind
    model: type[models.Model]
    rows_of: Callable[[Account], models.QuerySet]
    columns: tuple[str, ...]
    named: dict[str, F]


KINDS = (
    _Kind(
        kind=HistoryArchive.Kind.LOCK_EVENTS,
        model=LockEvent,
        rows_of=lambda account: LockEvent.objects.for_account(account),
        columns=(
            "id",
            "created_at",
            "kind",
            "actor_type",
            "actor_user_id",
            "api_key_id",
            "lock_id",
            "unit_id",
            "from_status",
            "to_status",
            "ip",
            "details",
        ),
        # Enough to read a line without the database it came from.
        named={
            "actor_email": F("actor_user__email"),
            "api_key_name": F("api_key__name"),
            "serial": F("lock__serial"),
            "facility_id": F("lock__facility__facility_id"),
            "unit_number": F("unit__unit_number"),
        },
    ),
    _Kind(
        kind=HistoryArchive.Kind.AUDIT_EVENTS,
        model=AuditEvent,
        rows_of=lambda account: AuditEvent.objects.for_account(account),
        columns=(
            "id",
            "created_at",
            "action",
            "actor_id",
            "target_type",
            "target_id",
            "target_repr",
            "ip",
            "details",
        ),
        named={"actor_email": F("actor__email")},
    ),
)


def retention_cutoff(*, account: Account, now: datetime) -> datetime:
    """Midnight (UTC) of the day `history_retention_months` calendar months before `now`: the
    same all day, so a second run on one day finds nothing new."""
    day = now.astimezone(UTC).date()
    months = day.year * 12 + (day.month - 1) - account.history_retention_months
    year, month = divmod(months, 12)
    month += 1
    return datetime(year, month, min(day.day, calendar.monthrange(year, month)[1]), tzinfo=UTC)


@dataclass(frozen=True)
class AccountRun:
    account: Account
    cutoff: datetime
    archives: list[HistoryArchive]

    def rows(self, kind: HistoryArchive.Kind) -> int:
        return sum(archive.rows for archive in self.archives if archive.kind == kind)


def history_archive_all(*, now: datetime | None = None) -> list[AccountRun]:
    """Archive and remove the history past every account's retention (the beat task). An
    account that fails is logged and left for the next run; the others go on."""
    now = now or timezone.now()
    runs = []
    for account in Account.objects.order_by("pk"):
        try:
            run = history_archive_account(account=account, now=now)
        except Exception:
            logger.exception("History of account %s not archived; the next run retries", account.pk)
            continue
        if run.archives:
            runs.append(run)
    return runs


def history_archive_account(*, account: Account, now: datetime) -> AccountRun:
    """Archive, then remove, the account's LockEvents and AuditEvents created before its
    cutoff, and audit it. Finishes an archive an earlier run left written but not removed."""
    cutoff = retention_cutoff(account=account, now=now)
    archives = []
    for spec in KINDS:
        archive = _claim(account=account, spec=spec, cutoff=cutoff, now=now)
        if archive is None:
            continue
        if archive.state == HistoryArchive.State.WRITING:
            archive = _write(archive=archive, spec=spec)
            if archive is None:
                continue
        _remove(archive=archive, spec=spec)
        archives.append(archive)
    if archives:
        _complete(account=account, archives=archives)
    return AccountRun(account=account, cutoff=cutoff, archives=archives)


def _claim(
    *, account: Account, spec: _Kind, cutoff: datetime, now: datetime
) -> HistoryArchive | None:
    """The archive this run works on for `spec`: an unfinished one to finish, a new one, or
    None (nothing past the cutoff, or another run is writing it)."""
    with transaction.atomic():
        # Two runs at once take turns here; the unique constraint holds them apart anyway.
        Account.objects.select_for_update().only("pk").get(pk=account.pk)
        unfinished = (
            HistoryArchive.objects.filter(account=account, kind=spec.kind)
            .exclude(state=HistoryArchive.State.DONE)
            .first()
        )
        if unfinished is not None:
            if unfinished.state == HistoryArchive.State.WRITTEN:
                return unfinished
            if unfinished.created_at > now - STALE_WRITING:
                return None
            _discard(unfinished)
        if not spec.rows_of(account).filter(created_at__lt=cutoff).exists():
            return None
        return HistoryArchive.objects.create(account=account, kind=spec.kind, cutoff=cutoff)


def _discard(archive: HistoryArchive) -> None:
    """A run died writing `archive`: no row was removed; its file, if it got stored, goes."""
    logger.warning("Discarding history archive %s, left unfinished by a run", archive.pk)
    name = archive.file.name or _file_name(archive)
    if default_storage.exists(name):
        default_storage.delete(name)
    archive.delete()


def _file_name(archive: HistoryArchive) -> str:
    return f"history/{archive.account_id}/{archive.pk}-{archive.kind}.jsonl.gz"


def _write(*, archive: HistoryArchive, spec: _Kind) -> HistoryArchive | None:
    """Stream the rows into the archive's file; *written* once the file is stored durably."""
    rows = spec.rows_of(archive.account).filter(created_at__lt=archive.cutoff).order_by("pk")
    count, first_at, last_at, last_pk = 0, None, None, 0
    with tempfile.TemporaryFile() as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as lines:
            while True:
                batch = list(
                    rows.filter(pk__gt=last_pk).values(*spec.columns, **spec.named)[:BATCH_SIZE]
                )
                if not batch:
                    break
                for row in batch:
                    lines.write(_line(row))
                    at = row["created_at"]
                    first_at = at if first_at is None or at < first_at else first_at
                    last_at = at if last_at is None or at > last_at else last_at
                count += len(batch)
                last_pk = batch[-1]["id"]
        if count == 0:  # removed meanwhile by a run that got there first
            archive.delete()
            return None
        size = raw.tell()
        raw.seek(0)
        name = default_storage.save(_file_name(archive), File(raw))
    _flush_durably(name)
    if default_storage.size(name) != size:
        raise ArchiveMismatchError(f"History archive {name}: stored {size} bytes, found fewer")
    HistoryArchive.objects.filter(pk=archive.pk).update(
        state=HistoryArchive.State.WRITTEN,
        file=name,
        rows=count,
        bytes=size,
        first_at=first_at,
        last_at=last_at,
        last_pk=last_pk,
    )
    archive.refresh_from_db()
    return archive


def _line(row: dict) -> bytes:
    return json.dumps(row, cls=DjangoJSONEncoder, separators=(",", ":")).encode() + b"\n"


def _flush_durably(name: str) -> None:
    """On a local disk, the archive (and its directory entry) reach the disk before any row
    is deleted. A remote storage has stored it once save() returned."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        return
    for target, flags in ((path, os.O_RDONLY), (os.path.dirname(path), os.O_RDONLY)):
        descriptor = os.open(target, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove(*, archive: HistoryArchive, spec: _Kind) -> None:
    """Delete exactly the archive's rows, BATCH_SIZE ids per transaction."""
    rows = spec.rows_of(archive.account).filter(
        created_at__lt=archive.cutoff, pk__lte=archive.last_pk
    )
    still_there = rows.count()
    if archive.removed + still_there != archive.rows:
        raise ArchiveMismatchError(
            f"History archive {archive.pk} holds {archive.rows} rows, but {archive.removed} were "
            f"removed and {still_there} are still there: nothing deleted."
        )
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
            if not ids:
                break
            deleted = _delete(spec.model, ids)
            HistoryArchive.objects.filter(pk=archive.pk).update(removed=F("removed") + deleted)
    archive.refresh_from_db()
    if archive.removed != archive.rows:
        raise ArchiveMismatchError(
            f"History archive {archive.pk} holds {archive.rows} rows; {archive.removed} removed."
        )


def _delete(model: type[models.Model], ids: list[int]) -> int:
    # The one deletion of history: LockEvent's and AuditEvent's querysets refuse delete()
    # (append-only) everywhere else, so this calls the plain QuerySet's on purpose.
    deleted, _ = models.QuerySet.delete(model.objects.filter(pk__in=ids))
    return deleted


def _complete(*, account: Account, archives: list[HistoryArchive]) -> None:
    """The archives are done and the Activity log says what left, in one transaction."""
    counts = {spec.kind: 0 for spec in KINDS}
    for archive in archives:
        counts[archive.kind] += archive.removed
    cutoff = max(archive.cutoff for archive in archives)
    with transaction.atomic():
        HistoryArchive.objects.filter(pk__in=[a.pk for a in archives]).update(
            state=HistoryArchive.State.DONE, completed_at=timezone.now()
        )
        audit_event_record(
            account=account,
            action=AuditEvent.Action.HISTORY_ARCHIVED,
            actor=None,
            ip=None,
            details={
                "cutoff": cutoff.isoformat(),
                "lock_events": counts[HistoryArchive.Kind.LOCK_EVENTS],
                "audit_events": counts[HistoryArchive.Kind.AUDIT_EVENTS],
                "archives": [archive.pk for archive in archives],
                "summary": (
                    f"{counts[HistoryArchive.Kind.LOCK_EVENTS]} lock history lines and "
                    f"{counts[HistoryArchive.Kind.AUDIT_EVENTS]} Activity lines from before "
                    f"{cutoff:%Y-%m-%d} archived and removed."
                ),
            },
        )
    for archive in archives:
        archive.refresh_from_db()
