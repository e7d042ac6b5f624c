"""The Django admin: keys listed with the secret masked, and "Disable selected keys"."""

import pytest
from django.urls import reverse

from davinci.accounts.models import AuditEvent, User
from tests.conftest import staff_signed_in
from tests.factories import ApiKeyFactory


@pytest.fixture
def staff_client(db):
    return staff_signed_in(User.objects.create_superuser("staff@example.com", "x"))


def test_keys_are_listed_with_the_secret_masked(staff_client, account):
    key = ApiKeyFactory(account=account)
    for url in (
        reverse("admin:integrations_apikey_changelist"),
        reverse("admin:integrations_apikey_change", args=[key.pk]),
    ):
        page = staff_client.get(url).content.decode()
        assert key.api_key in page
        assert key.masked_secret in page
        assert key.plain_secret not in page
        assert key.secret_digest not in page
        assert key.secret_encrypted not in page


def test_keys_cannot_be_added_or_hard_deleted_in_the_admin(staff_client, account):
    key = ApiKeyFactory(account=account)
    assert staff_client.get(reverse("admin:integrations_apikey_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:integrations_apikey_delete", args=[key.pk])).status_code
        == 403
    )


def test_disable_selected_keys_goes_through_the_service(staff_client, account):
    active = ApiKeyFactory(account=account)
    already = ApiKeyFactory(account=account, is_active=False)
    untouched = ApiKeyFactory(account=account)
    response = staff_client.post(
        reverse("admin:integrations_apikey_changelist"),
        {"action": "disable_selected_keys", "_selected_action": [active.pk, already.pk]},
        follow=True,
    )
    assert "Disabled 1 key; 1 already disabled or deleted." in response.content.decode()
    for key in (active, already, untouched):
        key.refresh_from_db()
    assert not active.is_active and not already.is_active and untouched.is_active
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.KEY_DISABLED
    assert event.actor.email == "staff@example.com"
    assert event.target_id == active.api_key
