"""Team: the list, Add User (an invitation), the edit page, Active/Inactive, handing ownership
over, and a form error for every bad input. Invitations of people who already have a user,
and what the inviting account sees of them, are tests/team/test_invitations.py's."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from davinci.accounts.models import AuditEvent, Membership, Role, User
from facilities.querysets import FEW_CHOSEN
from tests.conftest import signed_in
from tests.factories import FacilityFactory, MembershipFactory
from tests.team.conftest import link_in

LIST = reverse("team:member_list")
ADD = reverse("team:member_add")


def _edit(member) -> str:
    return reverse("team:member_edit", args=[member.pk])


def _add(client, **data):
    fields = {"name": "Cara Caller", "email": "cara@example.com", "role": Role.CLIENT_CALL_CENTER}
    fields.update(data)
    if fields.get("all_facilities") is False:
        del fields["all_facilities"]
    else:
        fields.setdefault("all_facilities", "on")
    return client.post(ADD, {k: v for k, v in fields.items() if v is not None})


def _edit_data(member, **data):
    fields = {
        "name": member.user.name,
        "email": member.user.email,
        "role": member.role,
        "all_facilities": "on" if member.all_facilities else None,
        "facilities": " ".join(f.facility_id for f in member.facilities.all()),
        "is_active": "on" if member.is_active else None,
    }
    fields.update(data)
    return {k: v for k, v in fields.items() if v is not None}


# --- The list -----------------------------------------------------------------------------


@pytest.mark.parametrize("chosen", [2, 40, FEW_CHOSEN + 10])
def test_the_list_names_three_of_a_members_facilities_and_counts_the_rest(
    owner_client, account, chosen
):
    """Few choices are read and sorted; many are found by walking the account's facilities
    in name order: both name the same first three."""
    FacilityFactory.create_batch(5, account=account, name="Aardvark (not chosen)")
    member = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL, all_facilities=False)
    facilities = [FacilityFactory(account=account, name=f"Site {n:02d}") for n in range(chosen)]
    member.facilities.set(reversed(facilities))
    row = next(m for m in owner_client.get(LIST).context["page"].object_list if m == member)
    assert row.first_facilities == [f"Site {n:02d}" for n in range(min(chosen, 3))]
    assert row.facility_count == chosen
    body = owner_client.get(LIST).content.decode()
    if chosen > 3:
        assert f"Site 00, Site 01, Site 02 and {chosen - 3} more" in body
        assert "Site 03" not in body


def test_the_list_shows_each_user(owner_client, owner, account, facility):
    member = MembershipFactory(
        account=account,
        role=Role.CLIENT_PERSONNEL_RESTRICTED,
        all_facilities=False,
        is_active=False,
        user__name="Remy Restricted",
        user__email="remy@example.com",
    )
    member.facilities.set([facility])
    body = owner_client.get(LIST).content.decode()
    for text in (
        "Remy Restricted",
        "remy@example.com",
        "Client Personnel (Restricted)",
        facility.name,
        "Inactive",
        "Never",
        owner.email,
        "All Facilities",
        "Active",
        "Add User",
    ):
        assert text in body, text


def test_team_is_in_the_navigation_of_owners_and_admins_only(
    owner_client, admin_client, manager_client, call_center_client
):
    for client, shown in [
        (owner_client, True),
        (admin_client, True),
        (manager_client, False),
        (call_center_client, False),
    ]:
        page = client.get(reverse("facilities:facility_list")).content.decode()
        assert ('href="/team/">Team</a>' in page) == shown


def test_a_restricted_admin_sees_only_members_within_their_facilities(
    account, facility, second_facility, facility_restricted_client
):
    inside = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL, all_facilities=False)
    inside.facilities.set([second_facility])
    wider = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL, all_facilities=False)
    wider.facilities.set([second_facility, facility])
    body = facility_restricted_client.get(LIST).content.decode()
    assert inside.user.email in body
    assert wider.user.email not in body and facility.name not in body
    assert facility_restricted_client.get(_edit(wider)).status_code == 404


# --- Add User: invitation -------------------------------------------------------------------


def test_add_user_sends_an_invitation_that_sets_a_password(
    client, owner_client, owner, account, facility, outbox
):
    with outbox():
        response = _add(owner_client, all_facilities=False, facilities=facility.facility_id)
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="cara@example.com")
    assert membership.role == Role.CLIENT_CALL_CENTER and not membership.all_facilities
    assert list(membership.facilities.all()) == [facility]
    assert not membership.user.has_usable_password()
    invitation, owner_notice = mail.outbox
    assert invitation.to == ["cara@example.com"] and "invited" in invitation.subject
    assert owner_notice.to == [owner.email] and "User invited" in owner_notice.subject
    assert membership.is_invited  # until the password is set
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_ADDED)
    assert event.actor == owner and event.target_repr == "cara@example.com"

    url = urlsplit(link_in(invitation)).path
    page = client.get(url, follow=True)
    assert "Set your password" in page.content.decode()
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert response.status_code == 302
    assert client.get(reverse("facilities:facility_list")).status_code == 200
    membership.user.refresh_from_db()
    assert membership.user.check_password("a long new passphrase")
    membership.refresh_from_db()
    assert not membership.is_invited  # setting the password was the yes
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_ACCEPTED).exists()

    # Single use: the same link again is the page that says it no longer works.
    again = signed_in(owner).get(url, follow=True).content.decode()
    assert "This invitation link no longer works" in again


def test_invitation_links_expire(client, owner_client, outbox, settings):
    with outbox():
        _add(owner_client)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is older than that
    body = client.get(urlsplit(link_in(mail.outbox[0])).path, follow=True).content.decode()
    assert "This invitation link no longer works" in body


def test_a_password_reset_link_is_no_invitation(client, owner_client, outbox):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    with outbox():
        _add(owner_client)
    user = User.objects.get(email="cara@example.com")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    membership = user.memberships.get()
    url = reverse(
        "team:invitation_accept",
        args=[membership.pk, uid, default_token_generator.make_token(user)],
    )
    assert "no longer works" in client.get(url, follow=True).content.decode()


@pytest.mark.parametrize(
    "path",
    ["1/MQ/abc-def/", "1/zzzz/set-password/", "1/MTIzNDU2Nzg5/abc/", "1/%00/x/", "999999/MQ/x/"],
)
def test_made_up_invitation_links_get_the_same_page(client, owner, path):
    response = client.get("/team/invitation/" + path, follow=True)
    assert response.status_code == 200
    assert "This invitation link no longer works" in response.content.decode()


def test_an_address_with_an_account_gets_an_invitation_and_the_same_answer(
    owner_client, account, other_account_owner, outbox
):
    with outbox():
        response = _add(owner_client, email=other_account_owner.email.upper(), name="Renamed")
    new_response_text = response.wsgi_request._messages._queued_messages[0].message
    assert response.status_code == 302
    membership = Membership.objects.get(account=account, user=other_account_owner)
    assert membership.role == Role.CLIENT_CALL_CENTER and membership.is_invited
    other_account_owner.refresh_from_db()
    assert other_account_owner.name != "Renamed"  # not the adder's to rename
    invitation = mail.outbox[0]
    assert invitation.to == [other_account_owner.email] and "invited" in invitation.subject
    assert link_in(invitation).endswith(reverse("accounts:invitations"))
    assert "/team/invitation/" not in invitation.body  # no password to set
    # The page says the same as for a new address (only the address differs).
    assert new_response_text == (
        f"{other_account_owner.email} is invited as Client Call Center. We emailed them the "
        "invitation: they are a member once they accept it."
    )


# --- Add User: bad input --------------------------------------------------------------------


def _errors(response) -> str:
    assert response.status_code == 200
    return " ".join(
        str(error) for errors in response.context["form"].errors.values() for error in errors
    )


def test_an_email_already_on_the_team_is_a_form_error(owner_client, manager):
    assert "already on the team" in _errors(_add(owner_client, email=manager.email.upper()))


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 300 + "@example.com"])
def test_a_bad_email_is_a_form_error(owner_client, email):
    assert _errors(_add(owner_client, email=email))
    assert not User.objects.filter(email=email).exists()


def test_no_facility_with_all_facilities_off_is_a_form_error(owner_client):
    assert "Select at least one facility" in _errors(_add(owner_client, all_facilities=False))


def test_a_facility_of_another_account_is_a_form_error(owner_client, other_facility):
    errors = _errors(
        _add(owner_client, all_facilities=False, facilities=other_facility.facility_id)
    )
    assert "Not a facility you can choose" in errors


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999999", "²"])
def test_a_garbage_facility_is_a_form_error(owner_client, bad):
    assert _errors(_add(owner_client, all_facilities=False, facilities=bad))


def test_a_facility_outside_the_editors_access_is_a_form_error(
    facility_restricted_client, facility
):
    errors = _errors(
        _add(facility_restricted_client, all_facilities=False, facilities=facility.facility_id)
    )
    assert "Not a facility you can choose" in errors


def test_a_restricted_admin_cannot_give_all_facilities(facility_restricted_client):
    assert "only give access to your own facilities" in _errors(_add(facility_restricted_client))


def test_a_restricted_admin_adds_within_their_facilities(
    facility_restricted_client, second_facility
):
    response = _add(
        facility_restricted_client,
        role=Role.CLIENT_ADMIN,
        all_facilities=False,
        facilities=second_facility.facility_id,
    )
    assert response.status_code == 302
    assert Membership.objects.get(user__email="cara@example.com").role == Role.CLIENT_ADMIN


@pytest.mark.parametrize("role", [Role.OWNER, "superuser", "", "admin"])
def test_a_role_above_the_editors_or_none_is_a_form_error(admin_client, role):
    assert "role" in response_errors(_add(admin_client, role=role))


def response_errors(response) -> dict:
    assert response.status_code == 200
    return response.context["form"].errors


def test_nobody_gives_owner_through_the_role_list(owner_client):
    assert "role" in response_errors(_add(owner_client, role=Role.OWNER))


# --- The edit page ------------------------------------------------------------------------


def test_save_changes_edits_role_facilities_and_tells_the_owner(
    owner_client, owner, account, facility, outbox
):
    member = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL, user__name="Pat")
    page = owner_client.get(_edit(member)).content.decode()
    assert "Save Changes" in page and "All Facilities" in page and "Active" in page
    with outbox():
        response = owner_client.post(
            _edit(member),
            _edit_data(
                member,
                name="Pat Personnel",
                role=Role.CLIENT_PERSONNEL_RESTRICTED,
                all_facilities=None,
                facilities=facility.facility_id,
            ),
        )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.CLIENT_PERSONNEL_RESTRICTED and not member.all_facilities
    assert member.user.name == "Pat Personnel"
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_EDITED)
    assert "Role: Client Personnel → Client Personnel (Restricted)" in event.details["summary"]
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Role changed" in mail.outbox[0].subject


def test_saving_nothing_changes_nothing(owner_client, manager):
    member = manager.memberships.get()
    response = owner_client.post(_edit(member), _edit_data(member), follow=True)
    assert "Nothing to change." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_inactive_users_are_signed_out_and_cannot_sign_in(client, owner_client, manager, password):
    member = manager.memberships.get()
    manager_client = signed_in(manager)
    assert manager_client.get(reverse("facilities:facility_list")).status_code == 200
    response = owner_client.post(_edit(member), _edit_data(member, is_active=None))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_DEACTIVATED).exists()

    response = manager_client.get(reverse("facilities:facility_list"))
    assert response.status_code == 302 and response.url == reverse("accounts:login") + "?inactive=1"
    assert manager_client.get(reverse("facilities:facility_list")).status_code == 302
    response = client.post(
        reverse("accounts:login"), {"username": manager.email, "password": password}
    )
    assert "Your access to this account was turned off" in response.content.decode()
    # A wrong password never learns the membership is inactive.
    response = client.post(reverse("accounts:login"), {"username": manager.email, "password": "x"})
    assert "do not match" in response.content.decode()


def test_an_inactive_member_keeps_their_other_accounts(owner_client, manager, other_account):
    MembershipFactory(user=manager, account=other_account, role=Role.CLIENT_PERSONNEL)
    member = manager.memberships.get(account__slug="harbor-self-storage")
    owner_client.post(_edit(member), _edit_data(member, is_active=None))
    client = signed_in(manager)
    response = client.get(reverse("facilities:facility_list"))
    assert response.status_code == 200 and response.context["current_account"] == other_account


def test_reactivating_asks_for_a_role_again(owner_client, account):
    member = MembershipFactory(account=account, role=Role.CLIENT_ADMIN, is_active=False)
    page = owner_client.get(_edit(member))
    assert page.context["form"]["role"].value() in ("", None)
    errors = response_errors(
        owner_client.post(_edit(member), _edit_data(member, role="", is_active="on"))
    )
    assert "Choose a role to set the user Active again." in errors["role"]
    member.refresh_from_db()
    assert not member.is_active
    response = owner_client.post(
        _edit(member), _edit_data(member, role=Role.CLIENT_CALL_CENTER, is_active="on")
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_active and member.role == Role.CLIENT_CALL_CENTER
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_REACTIVATED).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": None},
        {"role": Role.CLIENT_ADMIN},
        {"all_facilities": None},
    ],
)
def test_the_last_owner_cannot_be_removed(owner_client, owner, facility, change):
    member = owner.memberships.get()
    data = _edit_data(member, **change, facilities=facility.facility_id)
    response = owner_client.post(_edit(member), data)
    # The owner's role, access and status are read-only: what was posted is ignored.
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_owner and member.is_active and member.all_facilities


def test_the_service_refuses_removing_the_last_owner(owner, account):
    from django.core.exceptions import ValidationError

    from team import services

    member = owner.memberships.get()
    with pytest.raises(ValidationError, match="hand ownership"):
        services.member_update(
            membership=member,
            editor=member,
            name=owner.name,
            email=owner.email,
            role=Role.CLIENT_ADMIN,
            all_facilities=True,
            facilities=[],
            is_active=True,
            ip=None,
            site_url="http://testserver/",
        )


def test_admins_edit_non_admins_and_never_raise_above_their_own(admin_client, manager, account):
    member = manager.memberships.get()
    assert "role" in response_errors(
        admin_client.post(_edit(member), _edit_data(member, role=Role.OWNER))
    )
    other_admin = MembershipFactory(account=account, role=Role.CLIENT_ADMIN)
    assert admin_client.get(_edit(other_admin)).status_code == 403


def test_another_accounts_member_is_404(owner_client, other_account_owner):
    member = other_account_owner.memberships.get()
    assert owner_client.get(_edit(member)).status_code == 404
    assert owner_client.post(_edit(member), {}).status_code == 404


def test_email_changes_only_for_a_pending_invitation(owner_client, manager, outbox):
    member = manager.memberships.get()
    owner_client.post(_edit(member), _edit_data(member, email="elsewhere@example.com"))
    manager.refresh_from_db()
    assert manager.email == "manager@example.com"  # read-only: the user changes it

    with outbox():
        _add(owner_client, email="typo@exmaple.com")
    pending = Membership.objects.get(user__email="typo@exmaple.com")
    mail.outbox.clear()
    with outbox():
        response = owner_client.post(_edit(pending), _edit_data(pending, email="typo@example.com"))
    assert response.status_code == 302
    pending.user.refresh_from_db()
    assert pending.user.email == "typo@example.com"
    assert mail.outbox[0].to == ["typo@example.com"]


def test_invitation_again(owner_client, outbox):
    with outbox():
        _add(owner_client)
    member = Membership.objects.get(user__email="cara@example.com")
    mail.outbox.clear()
    with outbox():
        response = owner_client.post(reverse("team:member_invite_again", args=[member.pk]))
    assert response.status_code == 302 and mail.outbox[0].to == ["cara@example.com"]
    assert (
        owner_client.get(reverse("team:member_invite_again", args=[member.pk])).status_code == 405
    )


# --- Ownership --------------------------------------------------------------------------------


def test_the_owner_hands_ownership_to_an_active_user(owner_client, owner, admin_user):
    target = admin_user.memberships.get()
    url = reverse("team:ownership_transfer", args=[target.pk])
    assert "confirm" in owner_client.post(url, {}).context["ownership_form"].errors
    response = owner_client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    target.refresh_from_db()
    old = owner.memberships.get()
    assert target.role == Role.OWNER and old.role == Role.CLIENT_ADMIN
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OWNERSHIP_TRANSFERRED).exists()


def test_ownership_goes_only_to_an_active_user(owner_client, owner, account):
    inactive = MembershipFactory(account=account, role=Role.CLIENT_ADMIN, is_active=False)
    url = reverse("team:ownership_transfer", args=[inactive.pk])
    response = owner_client.post(url, {"confirm": "on"})
    assert "only to an active user" in response.content.decode()
    assert owner.memberships.get().is_owner


def test_only_the_owner_hands_ownership_over(admin_client, manager):
    url = reverse("team:ownership_transfer", args=[manager.memberships.get().pk])
    assert admin_client.post(url, {"confirm": "on"}).status_code == 403


def test_one_owner_per_account_in_the_database(owner, account):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(account=account, role=Role.OWNER)


def test_a_restricted_creator_keeps_the_facility_they_add(facility_restricted_client):
    response = facility_restricted_client.post(
        reverse("facilities:facility_create"), {"name": "Harbor North", "address": ""}
    )
    assert response.status_code == 302
    assert facility_restricted_client.get(response.url).status_code == 200


def test_a_facility_added_later_is_in_all_facilities_only(account, facility_restricted_admin):
    later = FacilityFactory(account=account, name="Harbor Later")
    client = signed_in(facility_restricted_admin)
    assert later.name not in client.get(reverse("facilities:facility_list")).content.decode()
    assert client.get(reverse("facilities:facility_detail", args=[later.pk])).status_code == 404


def test_the_same_address_added_twice_at_once_is_a_form_error(owner_client, account, monkeypatch):
    """The other request wins between this one's check and its insert: a form error here,
    never a 500 (in this one-connection test the winner's rows roll back with the loser's
    savepoint; in real life they are the other transaction's)."""
    from team import services

    real_create = User.objects.create_user

    def racing_create(email, **kwargs):
        winner = real_create(email=email, password=None)
        MembershipFactory(account=account, user=winner, role=Role.CLIENT_CALL_CENTER)
        return real_create(email=email, **kwargs)  # the loser's insert

    monkeypatch.setattr(services.User.objects, "create_user", racing_create)
    assert "already on the team" in _errors(_add(owner_client))
    assert Membership.objects.filter(user__email="cara@example.com").count() <= 1
