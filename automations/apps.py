from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Automations (rules and the FMS feed)"

    def ready(self) -> None:
        # Every new account starts with the two default rules, whoever creates it (the
        # admin, seed_demo, a test's factory): the receiver calls the one service that
        # writes them.
        from django.db.models.signals import post_save

        from automations import services
        from davinci.accounts.models import Account

        post_save.connect(
            services.default_rules_on_account_created,
            sender=Account,
            dispatch_uid="automations_default_rules",
        )
