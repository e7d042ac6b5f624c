"""Two-factor from Your account and at sign-in: the authenticator app (set up with a QR code
drawn here and the key as text), ten recovery codes stored hashed and each good once, the
sign-in's second step, turning it off; every change audited and emailed."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.core import mail
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from davinci.accounts.models import AuditEvent, RecoveryCode
from davinci.accounts.two_factor.sign_in import PENDING
from tests.accounts.conftest import password_step
from tests.conftest import confirmed, signed_in
from tests.factories import totp_b32_key

Action = AuditEvent.Action
SETUP = reverse("accounts:two_factor_setup")
SECOND_STEP = reverse("accounts:sign_in_second_step")


CODE = re.compile(r"<li><code>([a-z2-7-]+)</code></li>")


def _key_on_page(body: str) -> str:
    return re.search(r'id="totp-key"[^>]*>([A-Z2-7 ]+)<', body).group(1).replace(" ", "")


# --- Set-up -----------------------------------------------------------------------------------


def test_setting_up_asks_who_it_is_first(owner_client):
    response = owner_client.get(SETUP)
    assert "Confirm it is you" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert 'id="totp-key"' not in response.content.decode()


def test_set_up_shows_a_qr_code_drawn_here_and_the_key_as_text(owner_client, password):
    response = owner_client.post(SETUP, {"password": password, "confirm_then_get": "1"})
    assert response.status_code == 302 and response.url == SETUP
    body = owner_client.get(SETUP).content.decode()
    assert "<svg" in body and "QR code of the key" in body
    assert "<img" not in body.split('class="qr-code')[1].split("</div>")[0]  # no image URL
    key = _key_on_page(body)
    device = TOTPDevice.objects.get(user__email="owner@example.com", confirmed=False)
    assert len(key) == 32 and device.confirmed is False
    assert totp_b32_key(device) == key
    # Reloading keeps the same key (a scan already made stays good).
    assert _key_on_page(owner_client.get(SETUP).content.decode()) == key


def test_a_wrong_first_code_keeps_two_factor_off(owner_client, owner):
    confirmed(owner_client)
    owner_client.get(SETUP)
    response = owner_client.post(SETUP, {"code": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    assert not AuditEvent.objects.exists()
    response = owner_client.post(SETUP, {"code": "12ab"})
    assert "Enter the 6 digits" in response.content.decode()


def test_the_first_code_turns_it_on_shows_ten_codes_once_audits_and_emails(
    owner, account, password, outbox
):
    here, elsewhere = confirmed(signed_in(owner)), signed_in(owner)
    key = _key_on_page(here.get(SETUP).content.decode())
    with outbox():
        response = here.post(SETUP, {"code": pyotp.TOTP(key).now()}, REMOTE_ADDR="192.0.2.7")
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    codes = CODE.findall(body)
    assert len(codes) == 10 and len(set(codes)) == 10
    # Stored hashed: no code, in any spelling, is in the database.
    digests = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(digests) == 10
    assert not any(code.replace("-", "") in digest for code in codes for digest in digests)
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR_ENABLED)
    assert (event.account, event.actor, event.ip, event.target_repr) == (
        account,
        owner,
        "192.0.2.7",
        owner.email,
    )
    (email,) = mail.outbox
    assert email.to == [owner.email] and "Two-factor authentication is on" in email.subject
    # This session counts as verified; every other session is signed out.
    assert here.session[DEVICE_ID_SESSION_KEY]
    assert elsewhere.get(reverse("accounts:your_account")).status_code == 302
    # The codes are not shown again.
    assert codes[0] not in here.get(reverse("accounts:two_factor")).content.decode()
    assert (
        "10 of 10 recovery codes left" in here.get(reverse("accounts:two_factor")).content.decode()
    )


# --- Sign-in ----------------------------------------------------------------------------------


def test_sign_in_asks_the_code_after_the_password(client, owner, owner_2fa, password):
    password_step(client, owner, password)
    # Not signed in yet.
    assert client.get(reverse("accounts:your_account")).status_code == 302
    assert "Two-factor sign-in" in client.get(SECOND_STEP).content.decode()
    response = client.post(SECOND_STEP, {"code": "123456"})
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("accounts:your_account")).status_code == 302
    response = client.post(SECOND_STEP, {"code": owner_2fa.code()})
    assert response.status_code == 302
    assert client.get(reverse("accounts:your_account")).status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == owner_2fa.device.persistent_id
    assert PENDING not in client.session


def test_sign_in_goes_on_to_next_after_the_code(client, owner, owner_2fa, password):
    client.post(
        reverse("accounts:login"),
        {"username": owner.email, "password": password, "next": "/team/"},
    )
    assert client.post(SECOND_STEP, {"code": owner_2fa.code()}).url == "/team/"


def test_a_recovery_code_signs_in_once_audited_and_emailed(
    client, owner, owner_2fa, password, outbox
):
    code = owner_2fa.codes[3]
    password_step(client, owner, password)
    with outbox():
        response = client.post(SECOND_STEP, {"code": code.upper()})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.RECOVERY_CODE_USED)
    assert event.details == {"left": 9}
    assert [m.subject for m in mail.outbox] == [
        "[DaVinci Lock] A recovery code was used to sign in"
    ]
    client.post(reverse("accounts:logout"))
    password_step(client, owner, password)
    response = client.post(SECOND_STEP, {"code": code})
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("accounts:your_account")).status_code == 302


def test_the_second_step_without_a_password_goes_back_to_sign_in(client, owner_2fa):
    assert client.get(SECOND_STEP).url == reverse("accounts:login")
    assert client.post(SECOND_STEP, {"code": owner_2fa.code()}).url == reverse("accounts:login")


def test_the_second_step_expires(client, owner, owner_2fa, password):
    password_step(client, owner, password)
    session = client.session
    session[PENDING] = {**session[PENDING], "at": session[PENDING]["at"] - 5 * 60 - 1}
    session.save()
    assert client.post(SECOND_STEP, {"code": owner_2fa.code()}).url == reverse("accounts:login")


def test_a_password_changed_meanwhile_ends_the_second_step(client, owner, owner_2fa, password):
    password_step(client, owner, password)
    owner.set_password("a brand new passphrase")
    owner.save()
    assert client.post(SECOND_STEP, {"code": owner_2fa.code()}).url == reverse("accounts:login")


def test_wrong_codes_are_throttled_like_passwords(client, owner, owner_2fa, password, settings):
    password_step(client, owner, password)
    for _ in range(settings.TWO_FACTOR_FAILURES_PER_USER):
        assert (
            "That code is not right"
            in client.post(SECOND_STEP, {"code": "000000"}).content.decode()
        )
    response = client.post(SECOND_STEP, {"code": owner_2fa.code()})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(reverse("accounts:your_account")).status_code == 302
    # The account's Activity log says so, as for passwords.
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_THROTTLED).count() == 1


def test_users_without_two_factor_sign_in_with_the_password_alone(client, owner, password):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email, "password": password}
    )
    assert response.url == reverse("home")


# --- Recovery codes, turning off --------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(owner, owner_2fa, client, password):
    here = confirmed(signed_in(owner))
    body = here.post(reverse("accounts:recovery_codes_regenerate")).content.decode()
    assert AuditEvent.objects.filter(action=Action.RECOVERY_CODES_REGENERATED).count() == 1
    new_code = CODE.findall(body)[0]
    password_step(client, owner, password)
    assert "not right" in client.post(SECOND_STEP, {"code": owner_2fa.codes[0]}).content.decode()
    assert client.post(SECOND_STEP, {"code": new_code}).status_code == 302


def test_turning_it_off_asks_first_then_removes_everything_audits_and_emails(
    owner, owner_2fa, outbox
):
    here = signed_in(owner)
    url = reverse("accounts:two_factor_disable")
    assert "Confirm it is you" in here.post(url).content.decode()
    assert TOTPDevice.objects.filter(user=owner).exists()
    # A user with two-factor confirms with a code, not the password.
    with outbox():
        response = here.post(url, {"code": owner_2fa.code()})
    assert response.url == reverse("accounts:two_factor")
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not RecoveryCode.objects.exists()
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_DISABLED, actor=owner).count() == 1
    assert [m.subject for m in mail.outbox] == ["[DaVinci Lock] Two-factor authentication is off"]


@pytest.mark.parametrize("name", ["two_factor_disable", "recovery_codes_regenerate"])
def test_changes_are_post_only(owner_client, name):
    confirmed(owner_client)
    assert owner_client.get(reverse(f"accounts:{name}")).status_code == 405


def test_your_account_links_to_two_factor(owner_client, owner):
    body = owner_client.get(reverse("accounts:your_account")).content.decode()
    assert "Set up two-factor" in body and reverse("accounts:two_factor") in body
