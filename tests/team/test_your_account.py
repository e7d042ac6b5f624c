"""Your account: name, email (confirmed by a link sent to the new address), change password
(Django's views), and signing out every other session."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import confirmed, signed_in
from tests.team.conftest import link_in

PAGE = reverse("accounts:your_account")
EMAIL = reverse("accounts:email_change")


def test_the_account_menu_links_to_your_account(owner_client):
    body = owner_client.get(reverse("facilities:facility_list")).content.decode()
    assert f'href="{PAGE}">Your account</a>' in body
    page = owner_client.get(PAGE).content.decode()
    for text in ("Name", "Email", "Change password", "Sign out every other session"):
        assert text in page


def test_the_name_is_saved(owner_client, owner):
    assert owner_client.post(PAGE, {"name": "Olivia O."}).status_code == 302
    owner.refresh_from_db()
    assert owner.name == "Olivia O."


@pytest.mark.parametrize("name", ["", "x" * 151])
def test_a_bad_name_is_a_form_error(owner_client, owner, name):
    response = owner_client.post(PAGE, {"name": name})
    assert response.status_code == 200 and response.context["profile_form"].errors


def test_a_new_email_changes_once_its_link_is_opened(client, owner_client, owner, password, outbox):
    with outbox():
        response = owner_client.post(EMAIL, {"email": "Olivia@New.Example", "password": password})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"  # not yet
    (link,) = mail.outbox
    assert link.to == ["olivia@new.example"]
    url = urlsplit(link_in(link)).path
    assert "Confirm new email" in client.get(url).content.decode()  # GET changes nothing
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"
    mail.outbox.clear()
    with outbox():
        assert client.post(url).status_code == 302
    owner.refresh_from_db()
    assert owner.email == "olivia@new.example"
    assert mail.outbox[0].to == ["owner@example.com"]  # the old address is told
    # Single use.
    response = client.post(url)
    assert response.status_code == 400 and "no longer works" in response.content.decode()


def test_email_links_expire(client, owner_client, owner, password, outbox, settings):
    with outbox():
        owner_client.post(EMAIL, {"email": "new@example.com", "password": password})
    settings.PASSWORD_RESET_TIMEOUT = -1
    url = urlsplit(link_in(mail.outbox[0])).path
    assert client.post(url).status_code == 400
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


@pytest.mark.parametrize("token", ["abc", "x" * 500, "eyJ1c2VyIjoxfQ:1abc:def"])
def test_made_up_email_links_change_nothing(client, owner, token):
    response = client.post(reverse("accounts:email_confirm", args=[token]))
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_an_address_in_use_gets_the_same_answer_and_a_notice(
    owner_client, owner, manager, password, outbox
):
    with outbox():
        response = owner_client.post(EMAIL, {"email": manager.email, "password": password})
    assert response.status_code == 302
    (notice,) = mail.outbox
    assert notice.to == [manager.email] and "http" not in notice.body
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


@pytest.mark.parametrize(
    "data", [{"email": "new@example.com", "password": "wrong"}, {"email": "new@example.com"}]
)
def test_an_email_change_asks_the_password_first(owner, data):
    """@recently_confirmed: without the right password nothing is sent; the typed address
    is carried to the confirmation."""
    response = signed_in(owner).post(EMAIL, data)
    assert response.status_code == 200
    assert "Confirm it is you" in response.content.decode()
    assert 'value="new@example.com"' in response.content.decode()
    assert not mail.outbox


@pytest.mark.parametrize("email", ["not an email", "owner@example.com"])
def test_bad_email_changes_are_form_errors(owner_client, email):
    confirmed(owner_client)
    response = owner_client.post(EMAIL, {"email": email})
    assert response.status_code == 200
    assert "email" in response.context["email_form"].errors
    assert not mail.outbox


def test_change_password_is_djangos_and_ends_other_sessions(owner, password):
    here, elsewhere = signed_in(owner), signed_in(owner)
    url = reverse("accounts:password_change")
    assert "Confirm it is you" in here.get(url).content.decode()
    confirmed(here)
    assert "Change password" in here.get(url).content.decode()
    response = here.post(
        url,
        {
            "old_password": password,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get(PAGE).status_code == 200
    assert elsewhere.get(PAGE).status_code == 302  # signed out


def test_a_wrong_old_password_is_a_form_error(owner_client):
    confirmed(owner_client)
    response = owner_client.post(
        reverse("accounts:password_change"),
        {"old_password": "no", "new_password1": "a b c d e f", "new_password2": "a b c d e f"},
    )
    assert response.status_code == 200 and "old_password" in response.context["form"].errors


def test_sign_out_every_other_session(owner):
    here, elsewhere = signed_in(owner), signed_in(owner)
    url = reverse("accounts:sessions_end_others")
    assert here.get(url).status_code == 405
    assert here.post(url).status_code == 302
    assert here.get(PAGE).status_code == 200
    response = elsewhere.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
