"""Every account that exists gets the two default rules, as every new account does
(automations.services.default_rules_create). The rules' settings are written out here as they
were when this migration was made: a migration must not follow later code."""

from django.db import migrations

DEFAULTS = {
    "payment": {
        "position": 1,
        "trigger": "payment_received",
        "statuses": ["assigned_overlock"],
        "set_status": "returned_to_dropbox",
        "notice": "delinquency_paid",
    },
    "move_in": {
        "position": 2,
        "trigger": "move_in",
        "statuses": ["assigned_vacant"],
        "set_status": "",
        "notice": "new_rental",
    },
}


def create_default_rules(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Rule = apps.get_model("automations", "Rule")
    for account_id in Account.objects.values_list("pk", flat=True).iterator():
        for default, fields in DEFAULTS.items():
            Rule.objects.get_or_create(account_id=account_id, default=default, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("automations", "0001_initial")]

    operations = [migrations.RunPython(create_default_rules, migrations.RunPython.noop)]
