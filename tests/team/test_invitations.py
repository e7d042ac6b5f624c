"""Memberships are accepted, never imposed: Team's Add User of an address that already has a
user makes an *invitation* that grants nothing and shows the inviting account nothing of the
person until they accept it, signed in as themselves. The attack that made this a rule (a
rival account adding a user of another account, or platform staff, then resetting their
two-factor) is replayed step by step."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from davinci.accounts.models import (
    INVITATION_DAYS,
    AuditEvent,
    Membership,
    RecoveryCode,
    Role,
)
from davinci.accounts.two_factor import services as two_factor
from team import services
from tests.accounts.conftest import TwoFactor
from tests.conftest import confirmed, signed_in, staff_signed_in
from tests.factories import MembershipFactory, PasskeyFactory, UserFactory
from tests.team.conftest import link_in

Action = AuditEvent.Action
TEAM = reverse("team:member_list")
ADD = reverse("team:member_add")
ACTIVITY = reverse("integrations:activity")
INVITATIONS = reverse("accounts:invitations")


def _add(client, email: str, *, name: str = "Whoever", role: str = Role.CLIENT_ADMIN):
    """Add User, from the inviter's own address (its message read on the Team page)."""
    data = {"name": name, "email": email, "role": role, "all_facilities": "on"}
    response = client.post(ADD, data, REMOTE_ADDR="203.0.113.9", follow=True)
    assert response.redirect_chain == [(TEAM, 302)], response.content.decode()[-2000:]
    return response


def _edit(membership) -> str:
    return reverse("team:member_edit", args=[membership.pk])


def _reset(membership) -> str:
    return reverse("team:member_two_factor_reset", args=[membership.pk])


@pytest.fixture
def victim(account):
    """totp@example.com: a Harbor user with an authenticator app, recovery codes and a
    passkey."""
    membership = MembershipFactory(
        account=account,
        role=Role.CLIENT_PERSONNEL,
        user__email="totp@example.com",
        user__name="Tess Totp",
    )
    user = membership.user
    user.last_login = timezone.now() - timedelta(hours=3)
    user.save(update_fields=["last_login"])
    TwoFactor(user)
    PasskeyFactory(user=user)
    return user


@pytest.fixture
def staff(db):
    """staff@example.com: platform staff, two-factor on, member of no account."""
    user = UserFactory(
        email="staff@example.com", name="Sam Staff", is_staff=True, is_superuser=True
    )
    TwoFactor(user)
    return user


@pytest.fixture
def rival(other_account_owner):
    """Rival's owner, on Team, who has just typed their own password (recently confirmed)."""
    return confirmed(signed_in(other_account_owner))


def _devices(user) -> tuple[int, int, int]:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        RecoveryCode.objects.filter(device__user=user).count(),
        WebAuthnCredential.objects.filter(user=user).count(),
    )


def _nothing_of(body: str, *, name: str) -> None:
    assert name not in body
    assert "Two-factor turned on" not in body
    assert "Never" not in body  # no last sign-in either way


# --- The attack, step by step -------------------------------------------------------------------


@pytest.mark.parametrize("target", ["victim", "staff"])
def test_the_attack_rival_adds_then_resets_two_factor_and_fails(
    request, target, rival, other_account, other_account_owner, password, outbox
):
    """Rival's owner adds totp@example.com (or staff@example.com) on Team → Add User, then
    presses "reset two-factor" on that membership, confirming with their own password."""
    user = request.getfixturevalue(target)
    before = _devices(user)
    assert before[0] == 1 and before[1] == 10

    # 1. Add User with the victim's address: an invitation, not a membership.
    with outbox():
        _add(rival, user.email)
    membership = Membership.objects.get(account=other_account, user=user)
    assert membership.is_invited and membership.invited_email == user.email

    # 2. Team shows the address typed and "Invited", nothing of the person.
    team = rival.get(TEAM).content.decode()
    assert user.email in team and "Invited" in team
    _nothing_of(team, name=user.name)
    page = rival.get(_edit(membership)).content.decode()
    assert user.email in page and "Invitation" in page
    _nothing_of(page, name=user.name)
    assert "Reset two-factor" not in page and "Save Changes" not in page

    # 3. The reset, confirmed with the rival's own password: refused, nothing removed.
    fresh = signed_in(other_account_owner)  # asked to confirm first, as in the attack
    assert "Confirm it is you" in fresh.post(_reset(membership)).content.decode()
    with outbox():
        response = fresh.post(_reset(membership), {"password": password}, follow=True)
    assert "has not accepted the invitation" in response.content.decode()
    assert _devices(user) == before
    assert not AuditEvent.objects.filter(action=Action.TWO_FACTOR_RESET).exists()
    assert not [m for m in mail.outbox if "reset" in m.subject]

    # 4. The victim's sign-in still asks for their second factor.
    response = Client().post(
        reverse("accounts:login"), {"username": user.email, "password": password}
    )
    assert response.url == reverse("accounts:sign_in_second_step")

    # 5. Rival's Activity names only the address it typed.
    activity = rival.get(ACTIVITY).content.decode()
    _nothing_of(activity, name=user.name)


def test_what_the_victim_does_meanwhile_never_reaches_the_rival(
    rival, other_account, staff, victim, password, outbox
):
    """Two-factor changes, a recovery code used, sign-ins throttled: recorded only where the
    membership is accepted and active."""
    with outbox():
        _add(rival, staff.email)
        _add(rival, victim.email)
    two_factor.two_factor_disable(user=staff, ip="127.0.0.1")
    TwoFactor(staff)  # "Sam Staff · Two-factor turned on · staff@example.com · 127.0.0.1"
    codes = TwoFactor(victim).codes
    two_factor.second_factor_verify(user=victim, token=codes[0], ip="127.0.0.1")
    for _ in range(6):
        Client().post(reverse("accounts:login"), {"username": victim.email, "password": "wrong"})
    assert (
        not AuditEvent.objects.for_account(other_account)
        .exclude(action__in=[Action.MEMBER_ADDED])
        .exists()
    )
    harbor = victim.memberships.get(account__slug="harbor-self-storage").account
    harbor_actions = set(AuditEvent.objects.for_account(harbor).values_list("action", flat=True))
    assert {Action.TWO_FACTOR_ENABLED, Action.RECOVERY_CODE_USED} <= harbor_actions
    assert Action.SIGN_IN_THROTTLED in harbor_actions
    activity = rival.get(ACTIVITY).content.decode()
    for text in ("Sam Staff", "Tess Totp", "Two-factor turned on", "Recovery code", "127.0.0.1"):
        assert text not in activity, text


def test_the_owners_notice_of_an_invitation_names_only_the_address(
    rival, other_account_owner, victim, outbox
):
    with outbox():
        _add(rival, victim.email)
    owner_notice = next(m for m in mail.outbox if m.to == [other_account_owner.email])
    assert "User invited" in owner_notice.subject and victim.email in owner_notice.body
    assert victim.name not in owner_notice.body + owner_notice.subject


# --- An invitation grants nothing ----------------------------------------------------------


def test_an_invitation_is_no_switcher_entry_and_no_access(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    client = signed_in(victim)
    page = client.get(reverse("facilities:facility_list"))
    assert page.context["current_account"].slug == "harbor-self-storage"
    assert other_account.name not in page.content.decode()  # not in the switcher
    switch = client.post(reverse("accounts:switch_account"), {"account": other_account.pk})
    assert switch.status_code == 404
    session = client.session
    session["current_account_id"] = other_account.pk  # forged: still not the current one
    session.save()
    page = client.get(reverse("facilities:facility_list"))
    assert page.context["current_account"].slug == "harbor-self-storage"


def test_a_user_whose_only_membership_is_an_invitation_is_sent_to_answer_it(
    rival, staff, password, outbox
):
    with outbox():
        _add(rival, staff.email)
    client = signed_in(staff)
    response = client.get(reverse("facilities:facility_list"))
    assert response.status_code == 302 and response.url == INVITATIONS
    assert "Rival Storage" in client.get(INVITATIONS).content.decode()


def test_an_invited_owner_gets_no_owners_notices(db, other_account, victim):
    """Owners' and key notices read active, accepted memberships only."""
    from integrations.notices import owner_emails as key_owner_emails
    from team.notices import owner_emails

    Membership.objects.create(user=victim, account=other_account, role=Role.OWNER, accepted_at=None)
    assert victim.email not in owner_emails(other_account.pk)
    assert victim.email not in key_owner_emails(other_account.pk)


def test_ownership_is_never_handed_to_an_invitation(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    url = reverse("team:ownership_transfer", args=[membership.pk])
    rival.post(url, {"confirm": "on"})
    membership.refresh_from_db()
    assert membership.role != Role.OWNER and membership.is_invited


def test_an_invitation_is_not_edited_by_the_inviter(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    data = {"name": "Renamed", "email": victim.email, "role": Role.CLIENT_ADMIN}
    assert rival.post(_edit(membership), data).status_code == 403
    victim.refresh_from_db()
    assert victim.name == "Tess Totp"


# --- Accept, decline, withdraw, expire --------------------------------------------------------


def test_accepting_makes_the_membership_work_and_only_then_shows_the_person(
    rival, other_account, victim, password, outbox
):
    with outbox():
        _add(rival, victim.email)
    invitation = next(m for m in mail.outbox if m.to == [victim.email])
    assert urlsplit(link_in(invitation)).path == INVITATIONS
    assert "Rival Storage" in invitation.body and "Client Admin" in invitation.body

    client = signed_in(victim)
    page = client.get(INVITATIONS).content.decode()
    assert "Rival Storage" in page and "Client Admin" in page
    membership = Membership.objects.get(account=other_account, user=victim)
    response = client.post(reverse("accounts:invitation_accept", args=[membership.pk]))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_invited
    # Working in Rival now, and Rival sees its new member.
    assert client.get(reverse("facilities:facility_list")).context["current_account"] == (
        other_account
    )
    assert "Tess Totp" in rival.get(TEAM).content.decode()
    event = AuditEvent.objects.get(action=Action.INVITATION_ACCEPTED)
    assert (event.account, event.actor) == (other_account, victim)
    # A second answer finds nothing open.
    again = client.post(reverse("accounts:invitation_accept", args=[membership.pk]))
    assert again.status_code == 404


def test_declining_removes_the_invitation_and_tells_nothing_of_the_person(
    rival, other_account, victim, outbox
):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    client = signed_in(victim)
    response = client.post(reverse("accounts:invitation_decline", args=[membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action=Action.INVITATION_DECLINED)
    assert (event.account, event.actor, event.ip) == (other_account, None, None)
    assert event.target_repr == victim.email
    assert victim.email not in rival.get(TEAM).content.decode()
    assert "Tess Totp" not in rival.get(ACTIVITY).content.decode()


def test_only_the_invited_user_answers(rival, other_account, victim, owner, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    someone_else = signed_in(owner)
    for name in ("accounts:invitation_accept", "accounts:invitation_decline"):
        assert someone_else.post(reverse(name, args=[membership.pk])).status_code == 404
        assert signed_in(victim).get(reverse(name, args=[membership.pk])).status_code == 405
    membership.refresh_from_db()
    assert membership.is_invited


def test_the_inviter_withdraws_an_invitation(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    url = reverse("team:member_invitation_withdraw", args=[membership.pk])
    assert rival.get(url).status_code == 405
    response = rival.post(url)
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action=Action.INVITATION_WITHDRAWN).exists()
    # An accepted member is not withdrawn.
    rival_owner = other_account.memberships.get(role=Role.OWNER)
    admin = MembershipFactory(account=other_account, role=Role.CLIENT_PERSONNEL)
    rival.post(reverse("team:member_invitation_withdraw", args=[admin.pk]))
    assert Membership.objects.filter(pk=admin.pk).exists() and rival_owner


def test_an_invitation_expires_after_14_days(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    Membership.objects.filter(pk=membership.pk).update(
        invited_at=timezone.now() - timedelta(days=INVITATION_DAYS, minutes=1)
    )
    # At read time: gone from the invitations page, from Team, not acceptable.
    client = signed_in(victim)
    assert "Rival Storage" not in client.get(INVITATIONS).content.decode()
    accept = reverse("accounts:invitation_accept", args=[membership.pk])
    assert client.post(accept).status_code == 404
    assert victim.email not in rival.get(TEAM).content.decode()
    assert rival.get(_edit(membership)).status_code == 404
    # The address can be invited again at once.
    with outbox():
        _add(rival, victim.email)
    renewed = Membership.objects.get(account=other_account, user=victim)
    assert renewed.pk != membership.pk and renewed.is_invited


def test_the_clean_up_deletes_expired_invitations_only(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
        _add(rival, "fresh@example.com")
    Membership.objects.filter(user=victim, account=other_account).update(
        invited_at=timezone.now() - timedelta(days=INVITATION_DAYS + 1)
    )
    from team.tasks import expire_invitations

    assert expire_invitations() == 1
    assert not Membership.objects.filter(user=victim, account=other_account).exists()
    assert Membership.objects.filter(user__email="fresh@example.com").exists()
    event = AuditEvent.objects.get(action=Action.INVITATION_EXPIRED)
    assert event.target_repr == victim.email and event.actor is None


def test_sending_the_invitation_again_renews_it(rival, other_account, victim, outbox):
    with outbox():
        _add(rival, victim.email)
    membership = Membership.objects.get(account=other_account, user=victim)
    old = timezone.now() - timedelta(days=10)
    Membership.objects.filter(pk=membership.pk).update(invited_at=old)
    mail.outbox.clear()
    with outbox():
        rival.post(reverse("team:member_invite_again", args=[membership.pk]))
    membership.refresh_from_db()
    assert membership.invited_at > old
    assert mail.outbox[0].to == [victim.email]
    assert urlsplit(link_in(mail.outbox[0])).path == INVITATIONS


def test_the_beat_runs_the_clean_up(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "team.invitations_expire" in schedule


# --- A new user's link accepts its own invitation only -------------------------------------


def test_a_new_users_link_accepts_only_the_invitation_it_was_sent_for(
    client, owner_client, account, rival, other_account, outbox
):
    """Rival invites an address before its real employer does: setting the password through
    the employer's link accepts the employer's invitation, not Rival's."""
    with outbox():
        _add(rival, "new.hire@example.com", name="Named By Rival")
    mail.outbox.clear()
    with outbox():
        _add(owner_client, "new.hire@example.com", name="New Hire")
    (invitation,) = [m for m in mail.outbox if m.to == ["new.hire@example.com"]]
    assert "/team/invitation/" in invitation.body  # no password yet: the link sets one
    # Neither account sees the other's name for the person.
    assert "Named By Rival" not in owner_client.get(TEAM).content.decode()
    page = client.get(urlsplit(link_in(invitation)).path, follow=True)
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert response.status_code == 302
    harbor = Membership.objects.get(account=account, user__email="new.hire@example.com")
    theirs = Membership.objects.get(account=other_account, user__email="new.hire@example.com")
    assert not harbor.is_invited and theirs.is_invited
    assert "Rival Storage" in client.get(INVITATIONS).content.decode()


# --- Two-factor reset from Team: only a user whose one account this is --------------------------


def test_team_resets_the_two_factor_of_a_user_of_this_account_only(owner, manager, outbox):
    TwoFactor(manager)
    client = confirmed(signed_in(owner))
    membership = manager.memberships.get()
    assert "Reset two-factor" in client.get(_edit(membership)).content.decode()
    with outbox():
        client.post(_reset(membership))
    assert not TOTPDevice.objects.filter(user=manager).exists()


def test_team_refuses_a_user_of_other_accounts_too_and_says_what_to_do(
    owner, manager, other_account, outbox
):
    TwoFactor(manager)
    MembershipFactory(user=manager, account=other_account, role=Role.CLIENT_PERSONNEL)
    client = confirmed(signed_in(owner))
    membership = manager.memberships.get(account__slug="harbor-self-storage")
    page = client.get(_edit(membership)).content.decode()
    assert "Reset two-factor" not in page
    assert "also uses other accounts" in page and "recovery codes" in page
    assert "platform support" in page
    response = client.post(_reset(membership), follow=True)
    assert "also uses other accounts" in response.content.decode()
    assert TOTPDevice.objects.filter(user=manager).exists()


def test_an_invitation_elsewhere_does_not_stop_the_home_account(
    owner, manager, other_account, outbox
):
    TwoFactor(manager)
    Membership.objects.create(
        user=manager,
        account=other_account,
        role=Role.CLIENT_ADMIN,
        accepted_at=None,
        invited_at=timezone.now(),
    )
    client = confirmed(signed_in(owner))
    with outbox():
        client.post(_reset(manager.memberships.get(account__slug="harbor-self-storage")))
    assert not TOTPDevice.objects.filter(user=manager).exists()


def test_team_never_resets_staff_even_a_member(owner, account, staff, outbox):
    membership = MembershipFactory(user=staff, account=account, role=Role.CLIENT_PERSONNEL)
    client = confirmed(signed_in(owner))
    page = client.get(_edit(membership)).content.decode()
    assert "platform staff" in page and "Reset two-factor" not in page
    with outbox():
        client.post(_reset(membership))
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


def test_the_service_refuses_too(owner, manager, other_account):
    from django.core.exceptions import ValidationError

    TwoFactor(manager)
    MembershipFactory(user=manager, account=other_account, role=Role.CLIENT_PERSONNEL)
    with pytest.raises(ValidationError, match="also uses other accounts"):
        services.member_two_factor_reset(
            membership=manager.memberships.get(account__slug="harbor-self-storage"),
            editor=owner.memberships.get(),
            ip=None,
        )


def test_staff_two_factor_is_reset_by_another_staff_member_only(staff, outbox):
    other = UserFactory(email="other.staff@example.com", is_staff=True, is_superuser=True)
    action = {"action": "reset_two_factor", "_selected_action": [staff.pk]}
    changelist = reverse("admin:accounts_user_changelist")
    own = staff_signed_in(staff).post(changelist, action, follow=True)
    assert "reset by another staff member" in own.content.decode()
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    with outbox():
        staff_signed_in(other).post(changelist, action)
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
