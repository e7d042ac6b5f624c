from django.apps import AppConfig


class TeamConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "team"
    verbose_name = "Team"

    def ready(self) -> None:
        # The outbox's senders of this app register on import (davinci.outbox): a worker
        # must know them without loading any view.
        from team import notices  # noqa: F401
