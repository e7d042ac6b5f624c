"""Emails to an account's owners and admins before its API keys expire (README, "Key expiry
reminders"): 14, 3 and 1 days before, and once it has expired. Run daily or more often by
`manage.py send_key_expiry_reminders` (cron) or the task queue's scheduler.

Each (key, expiry date, threshold) is claimed by inserting its ExpiryReminder row, and its
email queued in the outbox (davinci.outbox), in one transaction: a second run at the same
time blocks on, then skips, the same row. The outbox sends once the claim commits and retries
a failed send; if it gives up, the claim is removed so the next run tries again. The words
are in templates/emails/api_key_expiry*.txt (davinci/outbox/emails.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from davinci.accounts.models import Membership
from davinci.accounts.permissions import MANAGES_INTEGRATIONS
from davinci.outbox import emails
from davinci.outbox.models import Notice
from davinci.outbox.tasks import notice, notice_dispatch
from integrations.models import ApiKey, ExpiryReminder

# Days before the expiry date; 0 is "has expired".
THRESHOLDS = (14, 3, 1, 0)
# An expired key is reported for this long after it expired, not forever (a key that expired
# a year before the reminders were switched on gets no email).
EXPIRED_NOTICE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class RunResult:
    sent: int
    emails: int


def due_threshold(key: ApiKey) -> int | None:
    """The most urgent threshold the key has reached, or None."""
    if key.is_expired:
        return 0
    days = key.expires_in_days
    reached = [t for t in THRESHOLDS if t and days is not None and days <= t]
    return min(reached) if reached else None


def recipients(key: ApiKey) -> list[str]:
    return sorted(
        Membership.objects.active()
        .filter(account_id=key.account_id, role__in=MANAGES_INTEGRATIONS)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def send_key_expiry_reminders() -> RunResult:
    now = timezone.now()
    keys = (
        ApiKey.objects.filter(
            deleted_at=None,
            is_active=True,
            expires_at__lte=now + timedelta(days=max(THRESHOLDS) + 1),
            expires_at__gt=now - EXPIRED_NOTICE_WINDOW,
        )
        .select_related("account")
        .order_by("expires_at", "pk")
    )
    sent = emails = 0
    for key in keys:
        due = due_threshold(key)
        if due is None:
            continue
        done = key.expiry_reminders.filter(expires_at=key.expires_at, days_before__lte=due)
        if done.exists():
            continue
        to = recipients(key)
        if _claim_and_send(key, due, to):
            sent += 1
            emails += len(to)
    return RunResult(sent=sent, emails=emails)


def _claim_and_send(key: ApiKey, due: int, to: list[str]) -> bool:
    """Claim the threshold and queue its email in one transaction (a run is its own, so the
    claim is committed when the email is handed on)."""
    try:
        with transaction.atomic(durable=True):
            # Another run got here first: its row is there (or it commits it while we wait).
            claim = ExpiryReminder.objects.create(
                api_key=key, expires_at=key.expires_at, days_before=due, recipients=len(to)
            )
            # Thresholds this run jumped over (the key was made or changed late, or the job
            # did not run for a while) are recorded as done: one email, the most urgent.
            ExpiryReminder.objects.bulk_create(
                [
                    ExpiryReminder(api_key=key, expires_at=key.expires_at, days_before=t)
                    for t in THRESHOLDS
                    if t > due
                ],
                ignore_conflicts=True,
            )
            queued: Notice | None = (
                expiry_reminder_send.queue(reminder_id=claim.pk, dispatch=False) if to else None
            )
    except IntegrityError:
        return False
    if queued is not None:
        notice_dispatch(queued.pk)
    return True


@notice("key_expiry_reminder")
def expiry_reminder_send(*, reminder_id: int) -> None:
    """The claimed reminder's email to the account's owners and admins, unless the key was
    disabled, deleted or given another expiry date since."""
    reminder = (
        ExpiryReminder.objects.select_related("api_key__account").filter(pk=reminder_id).first()
    )
    if reminder is None:  # the key is gone
        return
    key = reminder.api_key
    if key.deleted_at or not key.is_active or key.expires_at != reminder.expires_at:
        return
    context = {
        "key": key,
        "account": key.account,
        "when": key.expires_in_text,
        "portal_url": settings.PORTAL_URL.rstrip("/"),
    }
    with timezone.override(key.account.zoneinfo):  # a task: no request set the zone
        emails.api_key_expiry(to=recipients(key), context=context)


@expiry_reminder_send.on_failure
def expiry_reminder_failed(*, reminder_id: int) -> None:
    """Given up on: the claim goes, so the next run tries again."""
    ExpiryReminder.objects.filter(pk=reminder_id).delete()
