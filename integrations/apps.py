from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations (API keys)"

    def ready(self) -> None:
        # The outbox's senders of this app register on import (davinci.outbox), so a worker
        # knows them without loading any view; services connects the receivers of
        # davinci.accounts.signals (the Activity log's entries).
        from integrations import notices, services  # noqa: F401
