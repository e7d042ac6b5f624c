"""Celery tasks of integrations (found by the app's autodiscovery), run by beat
(settings.CELERY_BEAT_SCHEDULE): the usage fold every 5 minutes, and the removal of the API's
write answers past their 24 hours every hour."""

from celery import shared_task

from integrations.api.idempotency import idempotency_keys_expire
from integrations.usage import usage_fold


@shared_task(name="integrations.usage_fold", ignore_result=True)
def fold_usage() -> int:
    return usage_fold()


@shared_task(name="integrations.idempotency_keys_expire", ignore_result=True)
def expire_idempotency_keys() -> int:
    return idempotency_keys_expire()
