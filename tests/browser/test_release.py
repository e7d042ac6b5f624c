"""The overlock-release page in Chromium: a tenant who has paid gets the code by email."""

import time

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from facilities.models import LockEvent, ReleaseAttempt
from tests.browser.conftest import sign_in
from tests.factories import FacilityFactory, UnitFactory
from tests.release.conftest import overlock, release_lock

PHONE = {"width": 390, "height": 844}
Outcome = ReleaseAttempt.Outcome


@pytest.fixture(autouse=True)
def _text_messages_on(settings):
    """The form offers email or phone when an SMS backend is configured."""
    settings.SMS_BACKEND = "davinci.sms.LocMemBackend"


def wait_for_mail(count: int, timeout: float = 5.0) -> list:
    """The code leaves after the response has been written, so the page can be first."""
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return mail.outbox


def outcomes() -> list[str]:
    return list(ReleaseAttempt.objects.order_by("id").values_list("outcome", flat=True))


def fill_and_send(page, facility_label: str, unit_number: str, contact: str) -> None:
    page.get_by_role("radio", name=facility_label).check()
    page.get_by_label("Unit number").fill(unit_number)
    page.get_by_label("Email address or phone number on file").fill(contact)
    page.get_by_role("button", name="Send me the code").click()


def test_tenant_of_an_included_facility_gets_the_code_by_email_never_on_the_page(
    page, account, facility, screenshot, assert_accessible
):
    cache.clear()
    unit = UnitFactory(facility=facility, unit_number="A101", tenant_email="avery@example.com")
    release_lock(overlock(unit, code="4812"))
    excluded = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    page.set_viewport_size(PHONE)

    page.goto(f"/release/{account.slug}/")
    expect(page.get_by_role("heading", name="Get your unlock code")).to_be_visible()
    # A small account's facilities are all listed; a chain's are found by typing.
    options = page.get_by_role("group", name="Your facility").get_by_role("radio")
    expect(options).to_have_count(1)
    expect(page.get_by_role("radio", name=facility.name)).to_be_visible()
    assert excluded.name not in page.content()
    screenshot("01-release-form-phone")
    assert_accessible("release form")

    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_text("Choose the facility where your unit is.")).to_be_visible()
    expect(page.get_by_text("Enter your unit number.")).to_be_visible()
    screenshot("02-release-form-errors")
    assert_accessible("release form with errors")

    fill_and_send(page, f"{facility.name} — {facility.address}", "a101", "Avery@Example.com")

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot("03-release-requested")
    assert_accessible("release requested")
    [message] = wait_for_mail(1)
    assert message.to == ["avery@example.com"]
    assert "4812" in message.body
    assert "4812" not in page.content()
    assert outcomes() == [Outcome.SENT]
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT, unit=unit).count() == 1

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/release/{account.slug}/")
    screenshot("04-release-form-desktop")


def test_excluded_facility_cannot_be_used_even_by_a_forged_post(
    page, account, facility, screenshot
):
    cache.clear()
    UnitFactory(facility=facility, unit_number="A101", tenant_email="avery@example.com")
    excluded = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    hidden = UnitFactory(facility=excluded, unit_number="H1", tenant_email="hidden@example.com")
    release_lock(overlock(hidden, code="7777"))
    label = f"{facility.name} — {facility.address}"

    # A wrong contact at an included facility…
    page.goto(f"/release/{account.slug}/")
    fill_and_send(page, label, "A101", "not.the.tenant@example.com")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    wrong_contact_text = page.locator("main").inner_text()

    # …and a form edited to name the excluded facility, with the right unit and contact.
    page.goto(f"/release/{account.slug}/")
    page.get_by_role("radio", name=label).check()
    page.get_by_role("radio", name=label).evaluate(
        "(radio, value) => { radio.value = value; }", excluded.facility_id
    )
    page.get_by_label("Unit number").fill("H1")
    page.get_by_label("Email address or phone number on file").fill("hidden@example.com")
    page.get_by_role("button", name="Send me the code").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert page.locator("main").inner_text() == wrong_contact_text
    screenshot("01-forged-excluded-facility")
    assert wait_for_mail(1, timeout=1.0) == []
    assert "7777" not in page.content()
    assert outcomes() == [Outcome.CONTACT_MISMATCH, Outcome.FACILITY_EXCLUDED]


def test_owner_finds_the_public_link_and_every_attempt(
    page, account, owner, facility, password, screenshot, assert_accessible
):
    cache.clear()
    unit = UnitFactory(facility=facility, unit_number="A101", tenant_email="avery@example.com")
    release_lock(overlock(unit, code="4812"))
    sign_in(page, owner.email, password)

    page.goto("/integrations/facilities/")
    public_url = page.locator("#release-url").inner_text().strip()
    assert public_url.endswith(f"/release/{account.slug}/")

    page.goto(public_url)
    fill_and_send(page, f"{facility.name} — {facility.address}", "A101", "avery@example.com")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(public_url)
    fill_and_send(page, f"{facility.name} — {facility.address}", "Z999", "avery@example.com")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    wait_for_mail(1)

    page.goto("/facilities/release-activity/")
    expect(page.get_by_role("heading", name="Overlock release activity")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("No such unit")
    expect(rows.nth(1)).to_contain_text("Code sent")
    assert "4812" not in page.content()
    screenshot("01-release-activity")
    assert_accessible("release activity")
