from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations (API keys)"

    def ready(self) -> None:
        # Connects the receivers of davinci.accounts.signals (the Activity log's entries).
        from integrations import services  # noqa: F401
