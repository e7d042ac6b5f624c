"""Migration automations 0002: every account that exists gets the two default rules, as a new
account does (automations.services.default_rules_create), and running it again adds none."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from automations.models import Rule
from automations.services import DEFAULT_RULES

BEFORE = [("automations", "0001_initial")]
AFTER = [("automations", "0002_default_rules_for_existing_accounts")]


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_get_the_default_rules():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    account = apps.get_model("accounts", "Account").objects.create(name="Old", slug="old")
    assert not apps.get_model("automations", "Rule").objects.filter(account_id=account.pk).exists()

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    rules = Rule.objects.filter(account_id=account.pk)
    made = {
        rule.default: {
            "trigger": rule.trigger,
            "statuses": rule.statuses,
            "set_status": rule.set_status,
            "notice": rule.notice,
        }
        for rule in rules
    }
    assert made == {str(default): fields for default, fields in DEFAULT_RULES.items()}
    assert [rule.default for rule in rules] == ["payment", "move_in"]
    assert all(rule.enabled and rule.all_facilities for rule in rules)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
