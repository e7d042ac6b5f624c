from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations (API keys)"

    def ready(self) -> None:
        # The outbox's senders of this app register on import (davinci.outbox), so a worker
        # knows them without loading any view.
        from integrations import notices, reminders  # noqa: F401
