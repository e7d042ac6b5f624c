from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "Facilities, units and locks"

    def ready(self) -> None:
        # The outbox's senders of this app register on import (davinci.outbox): a worker
        # must know them without loading any view.
        from facilities import notices  # noqa: F401
        from facilities.release import services  # noqa: F401
