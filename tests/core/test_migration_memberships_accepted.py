"""The migration that brings invitations: every membership made before it was in use, so it
counts as accepted (when it was made), and none of them turns into an invitation."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from davinci.accounts.models import Membership

BEFORE = [("accounts", "0007_account_history_retention")]
AFTER = [("accounts", "0008_membership_accepted_by_invitation")]


@pytest.mark.django_db(transaction=True)
def test_every_existing_membership_is_accepted():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Account = apps.get_model("accounts", "Account")
    User = apps.get_model("accounts", "User")
    OldMembership = apps.get_model("accounts", "Membership")
    account = Account.objects.create(name="Harbor", slug="harbor")
    for index, role in enumerate(["owner", "client_admin", "client_personnel"]):
        user = User.objects.create(email=f"member{index}@example.com", password="!")
        OldMembership.objects.create(user=user, account=account, role=role, is_active=index < 2)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    memberships = list(Membership.objects.all())
    assert len(memberships) == 3
    assert all(m.accepted_at == m.created_at for m in memberships)
    assert Membership.objects.accepted().count() == 3
    assert Membership.objects.active().count() == 2  # one was Inactive, and stays so
