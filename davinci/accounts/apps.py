from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "davinci.accounts"
    label = "accounts"
    verbose_name = "Accounts and users"

    def ready(self) -> None:
        from django.urls import register_converter

        # The outbox's senders of this app register on import (davinci.outbox).
        from davinci.accounts import notices, password_reset  # noqa: F401
        from davinci.accounts.two_factor import notices as two_factor_notices  # noqa: F401
        from davinci.converters import DatabaseIdConverter

        # Before any URL module is imported: they use `<id:pk>`.
        register_converter(DatabaseIdConverter, "id")
