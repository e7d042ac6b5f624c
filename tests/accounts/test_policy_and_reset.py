"""The account's policy (the owner requires two-factor: a member without it reaches nothing
but the set-up page; API keys are unaffected), resets by owners, admins and staff, and the
Django admin's need for a verified second factor."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from davinci.accounts.models import AuditEvent, Membership
from tests.accounts.conftest import TwoFactor, password_step
from tests.api.conftest import key_headers
from tests.conftest import confirmed, signed_in, staff_signed_in
from tests.factories import ApiKeyFactory, UserFactory

Action = AuditEvent.Action
SETUP = reverse("accounts:two_factor_setup")
POLICY = reverse("team:two_factor_policy")


@pytest.fixture
def required(account):
    account.two_factor_required = True
    account.save()
    return account


# --- The policy -------------------------------------------------------------------------------


def test_the_owner_requires_two_factor_audited(owner, owner_2fa, account):
    client = confirmed(signed_in(owner))
    assert "Require two-factor authentication" in client.get("/team/").content.decode()
    response = client.post(POLICY, {"two_factor_required": "on"}, REMOTE_ADDR="192.0.2.9")
    assert response.url == "/team/"
    account.refresh_from_db()
    assert account.two_factor_required
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR_POLICY_CHANGED)
    assert (event.account, event.actor, event.details) == (account, owner, {"required": True})
    client.post(POLICY, {})
    account.refresh_from_db()
    assert not account.two_factor_required


def test_the_owner_turns_on_their_own_two_factor_first(owner, account):
    response = confirmed(signed_in(owner)).post(POLICY, {"two_factor_required": "on"}, follow=True)
    assert "Turn on two-factor for yourself first" in response.content.decode()
    account.refresh_from_db()
    assert not account.two_factor_required


def test_only_the_owner_sets_the_policy(admin_user, account):
    client = confirmed(signed_in(admin_user))
    assert client.post(POLICY, {"two_factor_required": "on"}).status_code == 403
    assert "Require two-factor" not in client.get("/team/").content.decode()
    account.refresh_from_db()
    assert not account.two_factor_required


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/facilities/",
        "/team/",
        "/integrations/",
        "/accounts/you/",
        "/accounts/you/two-factor/",
    ],
)
def test_a_member_without_two_factor_reaches_only_the_set_up_page(required, manager, path):
    client = signed_in(manager)
    response = client.get(path)
    assert response.status_code == 302 and response.url == SETUP
    assert client.get(SETUP).status_code == 200  # (it asks their password first)


def test_once_set_up_the_member_goes_on(required, manager, facility):
    TwoFactor(manager)
    client = signed_in(manager)
    assert client.get("/facilities/").status_code == 200


def test_the_set_up_page_says_the_account_requires_it(required, manager, password):
    client = confirmed(signed_in(manager))
    assert "requires two-factor authentication" in client.get(SETUP).content.decode()


def test_api_requests_with_keys_are_unaffected(required, facility, manager):
    key = ApiKeyFactory(account=required)
    response = Client().get(f"/api/v1/facilities/{facility.facility_id}/", **key_headers(key))
    assert response.status_code == 200
    assert facility.facility_id in response.content.decode()
    # Even a session of a member without two-factor does not turn the API into a redirect.
    response = signed_in(manager).get(
        f"/api/v1/facilities/{facility.facility_id}/", **key_headers(key)
    )
    assert response.status_code == 200


def test_members_of_other_accounts_are_unaffected(required, other_account_owner):
    assert signed_in(other_account_owner).get("/facilities/").status_code == 200


def test_signing_out_still_works(required, manager):
    client = signed_in(manager)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/facilities/").url.startswith(reverse("accounts:login"))


# --- Resets -----------------------------------------------------------------------------------


def _member(user):
    return Membership.objects.get(user=user)


def test_the_owner_resets_a_members_two_factor_audited_and_emailed(
    owner, manager, account, password, outbox
):
    TwoFactor(manager)
    url = reverse("team:member_two_factor_reset", args=[_member(manager).pk])
    client = signed_in(owner)
    assert (
        "Reset two-factor"
        in client.get(reverse("team:member_edit", args=[_member(manager).pk])).content.decode()
    )
    assert "Confirm it is you" in client.post(url).content.decode()
    mail.outbox.clear()
    with outbox():
        response = client.post(url, {"password": password})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR_RESET)
    assert (event.actor, event.target_repr, event.account) == (owner, manager.email, account)
    (email,) = mail.outbox
    assert email.to == [manager.email] and "reset" in email.subject
    # The member signs in with the password alone again.
    response = Client().post(
        reverse("accounts:login"), {"username": manager.email, "password": password}
    )
    assert response.url == reverse("home")


def test_an_admin_cannot_reset_the_owner(admin_user, owner):
    TwoFactor(owner)
    client = confirmed(signed_in(admin_user))
    url = reverse("team:member_two_factor_reset", args=[_member(owner).pk])
    assert client.post(url).status_code == 403
    assert TOTPDevice.objects.filter(user=owner).exists()


def test_nobody_resets_their_own_through_team(owner, owner_2fa):
    client = confirmed(signed_in(owner))
    client.post(reverse("team:member_two_factor_reset", args=[_member(owner).pk]))
    assert TOTPDevice.objects.filter(user=owner).exists()


def test_staff_reset_two_factor_in_the_admin(manager, account, outbox):
    TwoFactor(manager)
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client = staff_signed_in(staff)
    mail.outbox.clear()
    with outbox():
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "reset_two_factor", "_selected_action": [manager.pk]},
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR_RESET)
    assert (event.actor, event.account) == (staff, account)
    assert [m.to for m in mail.outbox] == [[manager.email]]


# --- The Django admin -------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_the_admin_refuses_staff_without_a_verified_device(staff):
    response = signed_in(staff).get("/admin/")
    assert response.status_code == 302
    follow = signed_in(staff).get(response.url)
    assert follow.status_code == 403
    assert "needs two-factor" in follow.content.decode()


def test_the_admin_sends_anonymous_visitors_to_the_portal_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login") + "?next=%2Fadmin%2F"
    assert "Sign in to DaVinci Lock" in response.content.decode()


def test_staff_signed_in_with_two_factor_reach_the_admin(client, staff, password):
    two_factor = TwoFactor(staff)
    password_step(client, staff, password)
    client.post(reverse("accounts:sign_in_second_step"), {"code": two_factor.code()})
    assert client.get("/admin/").status_code == 200


def test_staff_signed_in_with_the_password_alone_are_refused(client, staff, password):
    client.post(reverse("accounts:login"), {"username": staff.email, "password": password})
    assert client.get("/admin/", follow=True).status_code == 403


def test_a_verified_staff_session_reaches_the_admin(staff):
    assert staff_signed_in(staff).get("/admin/").status_code == 200


def test_public_pages_stay_public(required, manager):
    client = signed_in(manager)
    assert client.get(f"/release/{required.slug}/").status_code == 200
    assert client.get("/healthz").status_code == 200
