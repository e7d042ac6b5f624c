"""The outbox (davinci/outbox): every send is a Notice row written with the request, sent by
a task that carries ids only, claimed once, retried with backoff, and swept when the broker
was down — so with the broker down the portal still answers, and once it is back every
notice is sent, none lost and none twice."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from davinci.celery import app as celery_app
from davinci.outbox.models import Notice
from davinci.outbox.tasks import deliver, notice_send, outbox_sweep
from facilities.models import ReleaseAttempt
from integrations.services import api_key_create
from tests.release.conftest import overlock, release_lock

# Nothing listens here (this suite's own port range): a broker that is down.
DOWN_BROKER = "redis://127.0.0.1:18499/14"


@contextlib.contextmanager
def broker_down():
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, DOWN_BROKER
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved


@pytest.fixture
def released(facility, tenant_unit):
    return release_lock(overlock(tenant_unit, code="7391"))


def _release(client, account, facility):
    return client.post(
        f"/release/{account.slug}/",
        {
            "facility": facility.facility_id,
            "unit_number": "A101",
            "contact": "avery.johnson@example.com",
        },
    )


def test_with_the_broker_down_the_portal_answers_and_the_sends_happen_once_it_is_back(
    client, owner_client, account, owner, facility, released, django_capture_on_commit_callbacks
):
    with broker_down():
        started = time.monotonic()
        answer = _release(client, account, facility)
        with django_capture_on_commit_callbacks(execute=True):
            api_key_create(account=account, name="Call Center", actor=owner, ip=None)
        elapsed = time.monotonic() - started

    assert answer.status_code == 302  # the tenant's answer is the usual one
    assert elapsed < 10
    assert mail.outbox == []
    assert sorted(Notice.objects.values_list("kind", "status")) == [
        ("key_notice", "pending"),
        ("release_code", "pending"),
    ]
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.PENDING

    # The broker is back (in-process stands in for the worker); the beat sweep runs.
    Notice.objects.update(due_at=timezone.now() - timedelta(minutes=5))
    assert outbox_sweep() == 2
    assert outbox_sweep() == 0  # a second sweep finds nothing left to send

    assert sorted(message.to[0] for message in mail.outbox) == [
        "Avery.Johnson@example.com",
        "owner@example.com",
    ]
    assert "7391" in next(m.body for m in mail.outbox if m.to[0].startswith("Avery"))
    assert set(Notice.objects.values_list("status", flat=True)) == {"sent"}
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.SENT


def test_a_notice_dispatched_twice_is_sent_once(client, account, facility, released):
    with broker_down():
        _release(client, account, facility)
    notice = Notice.objects.get()

    deliver.apply(args=(notice.pk,))
    deliver.apply(args=(notice.pk,))
    notice_send(notice.pk)

    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Notice.Status.SENT, 1)


def test_a_notice_carries_ids_never_a_code(client, account, facility, released):
    _release(client, account, facility)
    notice = Notice.objects.get()
    assert notice.arguments == {"attempt_id": ReleaseAttempt.objects.get().pk}
    assert "7391" not in repr(notice.arguments)


def test_a_failed_send_is_retried_with_backoff_then_recorded(
    client, account, facility, released, settings
):
    settings.EMAIL_BACKEND = "tests.release.failing_backends.RefusingEmailBackend"
    with broker_down():
        _release(client, account, facility)
    notice = Notice.objects.get()

    assert notice_send(notice.pk) == 30  # first failure: due again in 30 s
    assert notice_send(notice.pk) == 60
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (Notice.Status.PENDING, "SMTPRecipientsRefused")
    assert notice.due_at > timezone.now() + timedelta(seconds=50)
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.PENDING
