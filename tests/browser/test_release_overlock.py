"""Release overlock in Chromium: the owner presses it on a delinquent tenant's unit with the
notice on; the lock stays on the unit as Returned to Dropbox, the tenant's email holds the code,
the history shows both events, and the overlock-release page sends the same code again."""

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from facilities.models import LockEvent, LockStatus
from tests.browser.conftest import sign_in
from tests.browser.test_release import fill_and_send, wait_for_mail
from tests.factories import UnitFactory
from tests.release.conftest import overlock


@pytest.fixture(autouse=True)
def _text_messages_on(settings):
    settings.SMS_BACKEND = "davinci.sms.LocMemBackend"


def test_release_overlock_sends_the_code_and_keeps_the_lock_on_the_unit(
    page, account, owner, facility, password, screenshot, assert_accessible
):
    cache.clear()
    unit = UnitFactory(
        facility=facility,
        unit_number="B137",
        tenant_name="Harper Quinn",
        tenant_email="harper@example.com",
        tenant_phone="",
    )
    lock = overlock(unit, code="5821")
    sign_in(page, owner.email, password)

    page.goto(f"/facilities/units/{unit.pk}/")
    expect(page.get_by_role("heading", name="The tenant has paid?")).to_be_visible()
    notify = page.get_by_label("Send the tenant their code now")
    expect(notify).to_be_checked()
    expect(page.get_by_text("to harper@example.com")).to_be_visible()
    screenshot("01-unit-before-release")
    assert_accessible("unit page with Release overlock")
    page.get_by_role("button", name="Release overlock").click()

    expect(page.get_by_text("The overlock on unit B137 is released")).to_be_visible()
    on_its_way = page.get_by_text("notice with the code is on its way to harper@example.com")
    expect(on_its_way).to_be_visible()
    expect(page.get_by_role("heading", name="Unit B137")).to_be_visible()  # the same unit
    expect(page.locator("#lock-heading + dl")).to_contain_text("Returned to Dropbox")
    screenshot("02-unit-after-release")
    assert_accessible("unit page after release")
    [message] = wait_for_mail(1)
    assert message.to == ["harper@example.com"]
    assert "5821" in message.body
    assert "5821" not in page.content()

    page.get_by_role("link", name=lock.serial).first.click()
    history = page.get_by_role("table", name=f"History of lock {lock.serial}")
    expect(history).to_contain_text("Overlock released")
    expect(history).to_contain_text("Code sent to tenant")
    screenshot("03-lock-history")
    lock.refresh_from_db()
    assert (lock.status, lock.unit) == (LockStatus.RETURNED_TO_DROPBOX, unit)

    # The tenant asks again on the overlock-release page: the same code, sent again.
    page.goto(f"/release/{account.slug}/")
    fill_and_send(page, f"{facility.name} — {facility.address}", "B137", "harper@example.com")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    messages = wait_for_mail(2)
    assert len(messages) == 2
    assert "5821" in mail.outbox[1].body
    assert LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.CODE_SENT).count() == 2
