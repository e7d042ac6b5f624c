"""@recently_confirmed: Show Key, code reveals, email, password, two-factor and Team changes
ask the user to confirm it is them at most every 10 minutes (password, or a code of the
second factor when they have one), in place, carrying what was posted."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from davinci.accounts.models import AuditEvent
from tests.conftest import confirmed, signed_in
from tests.factories import ApiKeyFactory, LockFactory


@pytest.fixture
def key(account):
    return ApiKeyFactory(account=account)


def _reveal(key) -> str:
    return reverse("integrations:api_key_reveal", args=[key.pk])


def test_show_key_without_a_recent_confirmation_shows_no_secret(owner, key):
    client = signed_in(owner)
    response = client.post(_reveal(key))
    body = response.content.decode()
    assert key.plain_secret not in body and "no-store" in response["Cache-Control"]
    assert 'name="password"' in body
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.KEY_REVEALED).exists()


def test_after_ten_minutes_it_asks_again(owner, key):
    client = confirmed(signed_in(owner), seconds_ago=10 * 60 + 1)
    assert key.plain_secret not in client.post(_reveal(key)).content.decode()
    confirmed(client, seconds_ago=9 * 60)
    assert key.plain_secret in client.post(_reveal(key)).content.decode()


def test_a_user_with_two_factor_confirms_with_a_code_not_the_password(
    owner, owner_2fa, key, password
):
    client = signed_in(owner)
    body = client.post(_reveal(key)).content.decode()
    assert 'name="code"' in body and 'name="password"' not in body
    assert (
        key.plain_secret not in client.post(_reveal(key), {"password": password}).content.decode()
    )
    assert key.plain_secret not in client.post(_reveal(key), {"code": "000000"}).content.decode()
    assert (
        key.plain_secret in client.post(_reveal(key), {"code": owner_2fa.code()}).content.decode()
    )
    # ... and for ten minutes no more questions.
    assert key.plain_secret in client.post(_reveal(key)).content.decode()


def test_a_recovery_code_confirms_too_once(owner, owner_2fa, key):
    client = signed_in(owner)
    code = owner_2fa.codes[0]
    assert key.plain_secret in client.post(_reveal(key), {"code": code}).content.decode()
    other = signed_in(owner)
    assert key.plain_secret not in other.post(_reveal(key), {"code": code}).content.decode()


def test_the_confirmation_carries_what_was_posted(owner, password, outbox):
    client = signed_in(owner)
    url = reverse("accounts:email_change")
    page = client.post(url, {"email": "new@example.com"}).content.decode()
    assert 'type="hidden" name="email" value="new@example.com"' in page
    with outbox():
        response = client.post(url, {"email": "new@example.com", "password": password})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_a_page_confirmed_before_a_get_loads_again(owner, password):
    client = signed_in(owner)
    url = reverse("accounts:password_change")
    assert "Confirm it is you" in client.get(url).content.decode()
    response = client.post(url, {"password": password, "confirm_then_get": "1"})
    assert response.status_code == 302 and response.url == url
    assert "Change password" in client.get(url).content.decode()


def test_another_accounts_lock_is_a_404_before_anything_is_asked(owner, other_facility):
    lock = LockFactory(facility=other_facility)
    response = signed_in(owner).post(reverse("facilities:lock_reveal", args=[lock.pk]))
    assert response.status_code == 404


def test_wrong_passwords_at_the_prompt_are_throttled(owner, key, password):
    client = signed_in(owner)
    for _ in range(5):
        client.post(_reveal(key), {"password": "guess"})
    body = client.post(_reveal(key), {"password": password}).content.decode()
    assert "Too many wrong passwords" in body and key.plain_secret not in body


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("accounts:email_change", {}),
        ("accounts:two_factor_disable", {}),
        ("accounts:recovery_codes_regenerate", {}),
        ("team:two_factor_policy", {}),
    ],
)
def test_changes_that_matter_ask_first(owner, name, kwargs):
    response = signed_in(owner).post(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert "Confirm it is you" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_team_save_changes_asks_first_but_the_page_shows(owner, manager):
    from davinci.accounts.models import Membership

    member = Membership.objects.get(user=manager)
    url = reverse("team:member_edit", args=[member.pk])
    client = signed_in(owner)
    assert "Save Changes" in client.get(url).content.decode()
    response = client.post(url, {"name": "Renamed", "role": member.role})
    assert "Confirm it is you" in response.content.decode()
    manager.refresh_from_db()
    assert manager.name != "Renamed"


def test_the_question_says_what_it_is_for_a_reveal_or_a_change(owner, lock):
    """A reveal changes nothing: its confirmation does not call it a change."""
    client = signed_in(owner)
    reveal = client.post(reverse("facilities:lock_reveal", args=[lock.pk])).content.decode()
    assert "Confirm it is you" in reveal and "This change matters" not in reveal
    assert "The code of a lock is shown only to someone who confirmed it is them" in reveal
    change = client.post(reverse("accounts:two_factor_disable")).content.decode()
    assert "This change matters, so we ask again" in change
