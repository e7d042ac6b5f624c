"""The five roles: their values, the migration from the four old ones, and the statuses the
rules name."""

import importlib

import pytest
from django.apps import apps

from davinci.accounts import permissions
from davinci.accounts.models import Membership, Role
from facilities.models import LockStatus
from tests.factories import AccountFactory, MembershipFactory

migration = importlib.import_module(
    "davinci.accounts.migrations.0002_five_roles_and_facility_access"
)


def test_the_role_values_are_stable():
    assert Role.values == [
        "owner",
        "client_admin",
        "client_personnel",
        "client_personnel_restricted",
        "client_call_center",
    ]
    assert [label for _, label in Role.choices] == [
        "Owner",
        "Client Admin",
        "Client Personnel",
        "Client Personnel (Restricted)",
        "Client Call Center",
    ]
    # One name per role: the names of the four roles before these five are gone.
    assert not [old for old in ("ADMIN", "MANAGER", "CALL_CENTER") if hasattr(Role, old)]


def test_the_rules_name_real_statuses():
    named = {
        permissions.TENANT_USING_LOCK,
        permissions.ASSIGNED_AUCTION,
        permissions.RETURNED_TO_DROPBOX,
    }
    assert named <= set(LockStatus.values)


@pytest.mark.django_db
def test_the_migration_maps_the_old_roles_and_leaves_one_owner():
    account = AccountFactory()
    old = {}
    for role in ["owner", "admin", "manager", "call_center"]:
        member = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL)
        # The values the database held before the migration (no form would write them).
        Membership.objects.filter(pk=member.pk).update(role=role)
        old[member.pk] = role
    ownerless = AccountFactory()
    first = MembershipFactory(account=ownerless, role=Role.CLIENT_PERSONNEL)
    Membership.objects.filter(pk=first.pk).update(role="manager", all_facilities=False)
    later = MembershipFactory(account=ownerless, role=Role.CLIENT_PERSONNEL)
    Membership.objects.filter(pk=later.pk).update(role="admin")

    migration.to_five_roles(apps, None)

    new = dict(Membership.objects.filter(account=account).values_list("pk", "role"))
    assert [new[pk] for pk in old] == [
        "owner",
        "client_admin",
        "client_personnel",
        "client_call_center",
    ]
    first.refresh_from_db()
    assert (first.role, first.all_facilities) == ("owner", True)  # the oldest member
    assert Membership.objects.get(pk=later.pk).role == "client_admin"

    migration.to_four_roles(apps, None)
    assert [Membership.objects.get(pk=pk).role for pk in old] == list(old.values())
