"""Migration integrations 0007 on a database with keys made before permissions existed:
every one of them may read, as it could before, and nothing more."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import ApiKey

BEFORE = [("integrations", "0006_api_key_usage_day")]
AFTER = [("integrations", "0007_api_key_permissions")]


@pytest.mark.django_db(transaction=True)
def test_every_existing_key_gets_read():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    account = apps.get_model("accounts", "Account").objects.create(name="Harbor", slug="harbor")
    OldKey = apps.get_model("integrations", "ApiKey")
    for n in range(2):
        OldKey.objects.create(
            account=account, name=f"Key {n}", api_key=f"dvk_{n:020d}", secret_digest="x"
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert [key.permissions for key in ApiKey.objects.order_by("name")] == [["read"], ["read"]]
