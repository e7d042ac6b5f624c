"""Celery tasks of facilities (found by the app's autodiscovery): history retention, which
beat runs once a day (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from facilities.retention import history_archive_all


@shared_task(name="facilities.history_archive", ignore_result=True)
def archive_history() -> int:
    """Archive and remove every account's history past its retention; the accounts done."""
    return len(history_archive_all())
