"""The outbox's senders and Celery tasks: which function sends each kind of notice, and how a
notice is queued, dispatched, claimed, sent, retried and swept. The tasks carry a notice's id,
never what it says."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from davinci.outbox.models import Notice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Seconds before the n-th retry: 30 s, 1 min, 2 min, 4 min.
BACKOFF_SECONDS = 30
# A notice still pending this long after it was due never reached a worker: sweep it.
SWEEP_GRACE = timedelta(seconds=30)

Status = Notice.Status

# The kind of the notice whose sender is running: davinci.outbox.emails sends only then.
_running: ContextVar[str | None] = ContextVar("outbox_running", default=None)


def sending() -> str | None:
    """The kind of notice being sent in this thread, or None outside every sender."""
    return _running.get()


@contextlib.contextmanager
def _sending(kind: str) -> Iterator[None]:
    token = _running.set(kind)
    try:
        yield
    finally:
        _running.reset(token)


@dataclass
class Sender:
    kind: str
    send: Callable[..., None]
    failed: Callable[..., None] | None = None

    def __call__(self, **ids: int) -> None:
        with _sending(self.kind):
            self.send(**ids)

    def queue(self, *, dispatch: bool = True, **ids: int | str | bool) -> Notice:
        """Write the notice in the current transaction; unless `dispatch` is False (the
        caller then calls `dispatch(notice)` itself), hand it to a worker once it commits."""
        if any(not isinstance(value, int | str | bool) for value in ids.values()):
            raise TypeError("A notice carries ids (and plain flags) only.")
        notice = Notice.objects.create(kind=self.kind, arguments=ids, due_at=timezone.now())
        if dispatch:
            transaction.on_commit(lambda: notice_dispatch(notice.pk))
        return notice

    def on_failure(self, func: Callable[..., None]) -> Callable[..., None]:
        """Decorate the function that records a notice given up on (after MAX_ATTEMPTS)."""
        self.failed = func
        return func


_senders: dict[str, Sender] = {}


def notice(kind: str) -> Callable[[Callable[..., None]], Sender]:
    """Register the decorated function as the sender of `kind` notices (see the package's
    docstring). It gets the ids it was queued with and raises when the send failed."""

    def register(send: Callable[..., None]) -> Sender:
        if kind in _senders:
            raise ValueError(f"Two senders for the notice {kind!r}.")
        sender = _senders[kind] = Sender(kind=kind, send=send)
        return sender

    return register


def notice_dispatch(notice_id: int, *, countdown: int = 0) -> None:
    """Give the notice to a worker (in-process when no broker is configured). A broker that
    cannot be reached is logged, not raised: the notice waits in the outbox for the sweep."""
    try:
        deliver.apply_async((notice_id,), countdown=countdown or None)
    except Exception as exc:
        logger.warning(
            "Notice %s waits in the outbox: the broker is unreachable (%s).",
            notice_id,
            type(exc).__name__,
        )


def notice_send(notice_id: int) -> int | None:
    """Claim the notice and send it. Returns the seconds before a retry is due, or None.

    The claim is one conditional UPDATE, so however often a notice is dispatched (on commit,
    by the sweep, by a retry) only one worker sends it each time it is pending.
    """
    now = timezone.now()
    claimed = Notice.objects.filter(pk=notice_id, status=Status.PENDING).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    notice = Notice.objects.get(pk=notice_id)
    sender = _senders[notice.kind]
    try:
        sender(**notice.arguments)
    except Exception as exc:
        # Only the type: a provider's message could echo the body, code included.
        error = type(exc).__name__
        logger.warning("Notice %s (%s) not sent: %s.", notice.pk, notice.kind, error)
        if notice.attempts >= MAX_ATTEMPTS:
            Notice.objects.filter(pk=notice.pk).update(status=Status.FAILED, last_error=error)
            if sender.failed is not None:
                sender.failed(**notice.arguments)
            return None
        delay = BACKOFF_SECONDS * 2 ** (notice.attempts - 1)
        Notice.objects.filter(pk=notice.pk).update(
            status=Status.PENDING, last_error=error, due_at=now + timedelta(seconds=delay)
        )
        return delay
    Notice.objects.filter(pk=notice.pk).update(status=Status.SENT, sent_at=timezone.now())
    return None


def outbox_sweep() -> int:
    """Dispatch every pending notice that is overdue; returns how many."""
    due = list(
        Notice.objects.filter(
            status=Status.PENDING, due_at__lte=timezone.now() - SWEEP_GRACE
        ).values_list("pk", flat=True)[:1000]
    )
    for notice_id in due:
        notice_dispatch(notice_id)
    return len(due)


@shared_task(name="outbox.deliver", ignore_result=True)
def deliver(notice_id: int) -> None:
    retry_in = notice_send(notice_id)
    if retry_in is not None:
        # In-process (no broker) the retry runs at once; a worker waits for the backoff.
        notice_dispatch(notice_id, countdown=0 if deliver.app.conf.task_always_eager else retry_in)


@shared_task(name="outbox.sweep", ignore_result=True)
def sweep() -> int:
    return outbox_sweep()
