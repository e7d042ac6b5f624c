from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "davinci.accounts"
    label = "accounts"
    verbose_name = "Accounts and users"
