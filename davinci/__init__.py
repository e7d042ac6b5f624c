# The Celery app loads with Django, so `delay()` anywhere uses the configured broker.
from davinci.celery import app as celery_app

__all__ = ["celery_app"]
