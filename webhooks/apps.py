from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Lock changes reach webhooks through the signal facilities defines: facilities never
        # imports this app (tests/core/test_dependencies.py).
        from facilities.signals import lock_events_recorded
        from webhooks import events, notices  # noqa: F401 - registers the outbox sender

        lock_events_recorded.connect(events.lock_events_publish, dispatch_uid="webhooks")
