"""The overlock-release page of a chain: 300 facilities are never listed; the tenant types a
few letters of the facility's name or city and picks it from a handful of matches, with
JavaScript (matches as they type) and without (Find redraws the page)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from facilities.models import Facility, ReleaseAttempt
from tests.browser.test_release import _text_messages_on, wait_for_mail  # noqa: F401
from tests.factories import UnitFactory
from tests.release.conftest import overlock, release_lock

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chain(account):
    Facility.objects.bulk_create(
        Facility(account=account, name=f"Storage Depot {n:03d}", address=f"{n} Main St, Town {n}")
        for n in range(1, 301)
    )
    lakeside = Facility.objects.create(
        account=account, name="Harbor Lakeside", address="12 Shore Rd, Duluth, MN 55802"
    )
    Facility.objects.create(
        account=account, name="Harbor Lakeview", address="3 Bay St, Duluth, MN 55802"
    )
    Facility.objects.create(
        account=account, name="Harbor Lake Hidden", address="Duluth", include_in_api=False
    )
    unit = UnitFactory(facility=lakeside, unit_number="A101", tenant_email="avery@example.com")
    release_lock(overlock(unit, code="4812"))
    cache.clear()
    return lakeside


def test_a_tenant_finds_their_facility_by_typing(
    page, account, chain, screenshot, assert_accessible
):
    page.set_viewport_size(PHONE)
    page.goto(f"/release/{account.slug}/")
    expect(page.get_by_role("radio")).to_have_count(0)  # 302 facilities: none listed
    assert len(page.content().encode()) < 30_000
    assert_accessible("release page of a chain")
    page.get_by_label("Type a few letters of its name or city").fill("duluth")
    expect(page.get_by_role("radio")).to_have_count(2)  # not the one out of the API
    expect(page.get_by_role("status")).to_contain_text("2 matches for “duluth”")
    screenshot("01-typed-duluth")
    assert_accessible("release page with matches")
    page.get_by_role("radio", name="Harbor Lakeside").check()
    page.get_by_label("Unit number").fill("A101")
    page.get_by_label("Email address or phone number on file").fill("avery@example.com")
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    [message] = wait_for_mail(1)
    assert "4812" in message.body
    assert ReleaseAttempt.objects.get().facility == chain


def test_without_javascript_find_lists_the_matches(page, account, chain, screenshot):
    page.route("**/*.js", lambda route: route.abort())
    page.set_viewport_size(PHONE)
    page.goto(f"/release/{account.slug}/")
    page.get_by_label("Type a few letters of its name or city").fill("lakesi")
    page.get_by_label("Type a few letters of its name or city").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("1 match for “lakesi”")
    expect(page.get_by_role("radio", name="Harbor Lakeside")).to_be_checked()  # the only one
    page.get_by_label("Unit number").fill("A101")
    page.get_by_role("button", name="Send me the code").click()
    # A form error keeps the chosen facility on the page.
    expect(page.get_by_text("Enter the email address or phone number on file.")).to_be_visible()
    expect(page.get_by_role("radio", name="Harbor Lakeside")).to_be_checked()
    screenshot("01-no-js-error-keeps-the-facility")
    page.get_by_label("Email address or phone number on file").fill("avery@example.com")
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert ReleaseAttempt.objects.get().facility == chain
