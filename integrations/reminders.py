"""Emails to an account's owners and admins before its API keys expire (README, "Key expiry
reminders"): 14, 3 and 1 days before, and once it has expired. Run daily or more often by
`manage.py send_key_expiry_reminders` (cron) or the task queue's scheduler.

Each (key, expiry date, threshold) is claimed by inserting its ExpiryReminder row before the
email is sent, in one transaction: a second run at the same time blocks on, then skips, the
same row; a failed send rolls the claim back so the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from davinci.accounts.models import Membership
from davinci.accounts.permissions import MANAGES_INTEGRATIONS
from integrations.models import ApiKey, ExpiryReminder

logger = logging.getLogger(__name__)

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
    try:
        with transaction.atomic():
            # Another run got here first: its row is there (or it commits it while we wait).
            ExpiryReminder.objects.create(
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
            if to:
                _email(key, to)
    except IntegrityError:
        return False
    except Exception:
        logger.exception("Expiry reminder for API key %s not sent; the next run retries", key.pk)
        return False
    return True


def _email(key: ApiKey, to: list[str]) -> None:
    context = {
        "key": key,
        "account": key.account,
        "when": key.expires_in_text,
        "portal_url": settings.PORTAL_URL.rstrip("/"),
    }
    with timezone.override(key.account.zoneinfo):  # a task: no request set the zone
        subject = render_to_string("integrations/expiry_email_subject.txt", context)
        subject = " ".join(subject.split())
        body = render_to_string("integrations/expiry_email.txt", context)
    EmailMessage(subject=subject, body=body, to=to).send()
