"""The Celery app: `celery -A davinci worker` sends the notices, `celery -A davinci beat`
runs the outbox sweep (davinci/outbox). Settings come from Django's, prefixed CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "davinci.settings")

app = Celery("davinci")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
