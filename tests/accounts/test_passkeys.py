"""Passkeys (django-otp-webauthn's ceremonies): added only beside an authenticator app and
after a recent confirmation, several per user, named, removable, each addition audited and
emailed; at sign-in only the user who gave the password, with their own passkeys, and never
a sign-in without the password. (The real ceremony with Chromium's virtual authenticator is
tests/browser/test_two_factor.py.)"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from davinci.accounts.models import AuditEvent
from davinci.accounts.two_factor import services
from tests.accounts.conftest import TwoFactor, password_step
from tests.conftest import confirmed, signed_in
from tests.factories import PasskeyFactory

Action = AuditEvent.Action
REGISTER_BEGIN = reverse("otp_webauthn:credential-registration-begin")
AUTH_BEGIN = reverse("otp_webauthn:credential-authentication-begin")
AUTH_COMPLETE = reverse("otp_webauthn:credential-authentication-complete")


def test_a_passkey_needs_the_authenticator_app_first(owner):
    response = confirmed(signed_in(owner)).post(REGISTER_BEGIN)
    assert response.status_code == 403 and response.json()["code"] == "two_factor_required"


def test_a_passkey_needs_a_recent_confirmation(owner, owner_2fa):
    response = owner_2fa.client().post(REGISTER_BEGIN)
    assert response.status_code == 403 and response.json()["code"] == "confirmation_required"
    assert (
        "passkey-register-button"
        not in signed_in(owner).get(reverse("accounts:two_factor")).content.decode()
    )


def test_registration_begins_for_a_confirmed_user_with_two_factor(owner, owner_2fa):
    client = owner_2fa.client(confirmed_lately=True)
    response = client.post(REGISTER_BEGIN)
    assert response.status_code == 200
    options = response.json()
    assert options["rp"]["id"] == "localhost" and options["challenge"]
    assert "passkey-register-button" in client.get(reverse("accounts:two_factor")).content.decode()


def test_adding_a_passkey_is_audited_and_emailed(owner, owner_2fa, account, outbox):
    credential = PasskeyFactory(user=owner, name="")
    mail.outbox.clear()
    with outbox():
        services.passkey_added(user=owner, credential=credential, ip="192.0.2.3")
    credential.refresh_from_db()
    assert credential.name == "Passkey"
    event = AuditEvent.objects.get(action=Action.PASSKEY_ADDED)
    assert (event.account, event.actor, event.ip) == (account, owner, "192.0.2.3")
    assert [m.subject for m in mail.outbox] == ["[DaVinci Lock] A passkey was added"]


def test_passkeys_are_listed_renamed_and_removed(owner, owner_2fa, password):
    laptop, phone = (
        PasskeyFactory(user=owner, name="Laptop"),
        PasskeyFactory(user=owner, name="Phone"),
    )
    client = signed_in(owner)
    body = client.get(reverse("accounts:two_factor")).content.decode()
    assert "Laptop" in body and "Phone" in body
    client.post(reverse("accounts:passkey_rename", args=[laptop.pk]), {"name": "Work laptop"})
    laptop.refresh_from_db()
    assert laptop.name == "Work laptop"
    client.post(reverse("accounts:passkey_rename", args=[laptop.pk]), {"name": ""})
    laptop.refresh_from_db()
    assert laptop.name == "Work laptop"
    remove = reverse("accounts:passkey_remove", args=[phone.pk])
    assert "Confirm it is you" in client.post(remove).content.decode()
    assert client.post(remove, {"code": owner_2fa.code()}).status_code == 302
    assert list(WebAuthnCredential.objects.filter(user=owner)) == [laptop]
    assert AuditEvent.objects.get(action=Action.PASSKEY_REMOVED).details == {"name": "Phone"}


def test_someone_elses_passkey_is_a_404(owner, manager):
    theirs = PasskeyFactory(user=manager)
    client = confirmed(signed_in(owner))
    assert (
        client.post(reverse("accounts:passkey_rename", args=[theirs.pk]), {"name": "x"}).status_code
        == 404
    )
    assert client.post(reverse("accounts:passkey_remove", args=[theirs.pk])).status_code == 404
    assert (
        signed_in(owner).post(reverse("accounts:passkey_remove", args=[theirs.pk])).status_code
        == 404
    )


def test_no_passkey_sign_in_without_the_password(client, owner, owner_2fa):
    PasskeyFactory(user=owner)
    assert client.post(AUTH_BEGIN).status_code in (401, 403)
    assert client.post(AUTH_COMPLETE, {}, content_type="application/json").status_code in (401, 403)
    assert client.get(reverse("accounts:your_account")).status_code == 302


def test_the_second_step_offers_only_the_users_own_passkeys(client, owner, manager, password):
    TwoFactor(owner)
    mine = PasskeyFactory(user=owner)
    PasskeyFactory(user=manager)
    password_step(client, owner, password)
    assert (
        "passkey-verification-button"
        in client.get(reverse("accounts:sign_in_second_step")).content.decode()
    )
    options = client.post(AUTH_BEGIN).json()
    import base64

    allowed = [
        base64.urlsafe_b64decode(c["id"] + "=" * (-len(c["id"]) % 4))
        for c in options["allowCredentials"]
    ]
    assert allowed == [bytes(mine.credential_id)]


@pytest.mark.parametrize("path", ["/accounts/passkeys/jsi18n/"])
def test_the_passkey_script_translations_load_on_the_sign_in_page(path):
    assert Client().get(path).status_code == 200


@pytest.mark.parametrize("body", ["{}", '{"id": "x", "rawId": "x", "response": {}}', "not json"])
def test_a_malformed_passkey_answer_is_a_json_error(client, owner, password, body):
    TwoFactor(owner)
    PasskeyFactory(user=owner)
    password_step(client, owner, password)
    client.post(AUTH_BEGIN)
    response = client.post(AUTH_COMPLETE, body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert client.get(reverse("accounts:your_account")).status_code == 302
