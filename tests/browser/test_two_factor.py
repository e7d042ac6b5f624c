"""Two-factor in Chromium: an authenticator app set up from Your account (the key read off
the page, codes computed with pyotp), then signing in with password + code, a wrong code
refused, a recovery code good once; a passkey registered with Chromium's virtual
authenticator (the DevTools protocol's WebAuthn domain) and signing in with it; every new
page checked with axe."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def _second_step(page, code: str) -> None:
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify and sign in").click()


def _sign_out(page) -> None:
    page.context.clear_cookies()


def _set_up_totp(page, password, screenshot, assert_accessible) -> tuple[pyotp.TOTP, list[str]]:
    page.goto("/accounts/you/")
    page.get_by_role("link", name="Set up two-factor").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    assert_accessible("two-factor overview, off")
    page.get_by_role("link", name="Set up an authenticator app").click()
    # Changing two-factor asks who it is first.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert_accessible("confirm it is you")
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    screenshot("01-set-up")
    assert_accessible("two-factor set-up")
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)
    page.get_by_label("6-digit code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.get_by_label("6-digit code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    screenshot("02-recovery-codes")
    assert_accessible("recovery codes")
    codes = [code.strip() for code in page.locator(".recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.get_by_role("link", name="I saved them").click()
    expect(page.get_by_text("10 of 10 recovery codes left")).to_be_visible()
    assert_accessible("two-factor overview, on")
    return totp, codes


def _forget_used_steps(user) -> None:
    """The app's next code, in real life 30 s later: the device forgets the step it saw."""
    TOTPDevice.objects.filter(user=user).update(last_t=-1)


def test_totp_set_up_sign_in_wrong_code_and_a_recovery_code_once(
    page, owner, facility, password, screenshot, assert_accessible
):
    sign_in(page, owner.email, password)
    totp, codes = _set_up_totp(page, password, screenshot, assert_accessible)

    # Password, then the code.
    _sign_out(page)
    sign_in(page, owner.email, password)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    screenshot("03-second-step")
    assert_accessible("the sign-in's second step")
    _second_step(page, "123456")
    expect(page.get_by_text("That code is not right")).to_be_visible()
    assert_accessible("the second step's error")
    _forget_used_steps(owner)
    _second_step(page, totp.now())
    expect(page.get_by_role("heading", name="Facilities")).to_be_visible()

    # A recovery code signs in once ...
    _sign_out(page)
    sign_in(page, owner.email, password)
    _second_step(page, codes[0])
    expect(page.get_by_role("heading", name="Facilities")).to_be_visible()
    # ... and not twice.
    _sign_out(page)
    sign_in(page, owner.email, password)
    _second_step(page, codes[0])
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.goto("/facilities/")
    expect(page.get_by_role("heading", name="Sign in to DaVinci Lock")).to_be_visible()


@pytest.fixture
def virtual_authenticator(page):
    """Chromium's virtual authenticator (a platform passkey that always verifies the user)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield cdp, answer["authenticatorId"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": answer["authenticatorId"]})


def test_a_passkey_is_registered_and_signs_in(
    page,
    owner,
    facility,
    password,
    live_server,
    settings,
    virtual_authenticator,
    screenshot,
    assert_accessible,
):
    # The live server is http://localhost:<port>: a secure context, the RP ID localhost.
    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    cdp, authenticator_id = virtual_authenticator

    sign_in(page, owner.email, password)
    _set_up_totp(page, password, screenshot, assert_accessible)
    # Adding a passkey: confirmed a moment ago (the set-up), so the browser's prompt is offered.
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Added")).to_be_visible()  # the page reloads with the new passkey
    assert (
        len(
            cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
                "credentials"
            ]
        )
        == 1
    )
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_label("Name")).to_have_value("Work laptop")
    screenshot("04-passkeys")
    assert_accessible("two-factor overview with a passkey")

    _sign_out(page)
    sign_in(page, owner.email, password)
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    assert_accessible("second step with a passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Facilities")).to_be_visible()
    page.goto(reverse("accounts:your_account"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert re.search(r"/accounts/you/$", page.url)
