"""A real `celery -A davinci worker` delivers a release code and a key notice.

Runs when CELERY_BROKER_URL is set and a worker answers on it (.ci/run starts one against
the local Redis, on this test database, with EMAIL_URL=filemail:///<dir> and
CELERY_WORKER_EMAIL_DIR=<dir>); skipped otherwise, saying why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from davinci.celery import app as celery_app
from davinci.outbox.models import Notice
from facilities.models import LockEvent, ReleaseAttempt
from integrations.services import api_key_create
from tests.release.conftest import overlock, release_lock

pytestmark = pytest.mark.worker


def _unavailable(reason: str) -> None:
    # .ci/run sets REQUIRE_WORKER=1: there a missing worker is a failure, not a skip.
    if os.environ.get("REQUIRE_WORKER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def worker_mail(transactional_db) -> Path:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _unavailable("CELERY_BROKER_URL is not set: tasks run in-process (.ci/run runs this)")
    if connection.vendor == "sqlite":
        _unavailable("a worker cannot see an in-memory SQLite test database: use PostgreSQL")
    directory = os.environ.get("CELERY_WORKER_EMAIL_DIR")
    if not directory:
        _unavailable("CELERY_WORKER_EMAIL_DIR is not set: nowhere to read the worker's mail")
    deadline = time.monotonic() + 30  # the worker may still be starting
    while not celery_app.control.ping(timeout=1):
        if time.monotonic() > deadline:
            _unavailable(f"no Celery worker answers on {settings.CELERY_BROKER_URL}")
    return Path(directory)


def _wait_until_sent(kind: str, timeout: float = 30) -> Notice:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notice = Notice.objects.filter(kind=kind).first()
        if notice is not None and notice.status in (Notice.Status.SENT, Notice.Status.FAILED):
            return notice
        time.sleep(0.2)
    pytest.fail(f"the worker did not send the {kind} notice within {timeout} s")


def _mail_in(directory: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(directory.glob("*.log")))


def test_a_real_worker_sends_the_release_code_and_the_key_notice(
    worker_mail, client, account, owner, facility, tenant_unit
):
    release_lock(overlock(tenant_unit, code="7391"))
    before = _mail_in(worker_mail)

    answer = client.post(
        f"/release/{account.slug}/",
        {
            "facility": facility.facility_id,
            "unit_number": "A101",
            "contact": "avery.johnson@example.com",
        },
    )
    api_key_create(account=account, name="Worker Test Key", actor=owner, ip=None)

    assert answer.status_code == 302
    assert _wait_until_sent("release_code").status == Notice.Status.SENT
    assert _wait_until_sent("key_notice").status == Notice.Status.SENT
    assert ReleaseAttempt.objects.get().outcome == ReleaseAttempt.Outcome.SENT
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).count() == 1
    sent = _mail_in(worker_mail)[len(before) :]
    assert "To: Avery.Johnson@example.com" in sent and "7391" in sent
    assert "To: owner@example.com" in sent and "Worker Test Key" in sent
