"""Celery tasks of reports (found by the app's autodiscovery): the nightly count, which beat
runs just after midnight UTC (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from reports.services import reports_daily_all


@shared_task(name="reports.daily", ignore_result=True)
def reports_daily() -> int:
    """Count the lock usage and roll up the code disclosures of every account's finished
    days not yet counted; the days written."""
    return reports_daily_all()
