"""Celery tasks of integrations (found by the app's autodiscovery): the usage fold, which
beat runs every 5 minutes (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from integrations.usage import usage_fold


@shared_task(name="integrations.usage_fold", ignore_result=True)
def fold_usage() -> int:
    return usage_fold()
