from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "davinci.accounts"
    label = "accounts"
    verbose_name = "Accounts and users"

    def ready(self) -> None:
        from django.urls import register_converter

        from davinci.accounts import password_reset  # noqa: F401  (an outbox sender)
        from davinci.accounts.two_factor import notices  # noqa: F401  (an outbox sender)
        from davinci.converters import DatabaseIdConverter

        # Before any URL module is imported: they use `<id:pk>`.
        register_converter(DatabaseIdConverter, "id")
