from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_sign_in_shows_only_own_facilities(
    page, owner, facility, other_facility, password, screenshot, assert_accessible
):
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to DaVinci Lock")).to_be_visible()
    screenshot("01-sign-in")
    assert_accessible("sign-in page")

    sign_in(page, owner.email, password)

    expect(page.get_by_role("heading", name="Facilities")).to_be_visible()
    expect(page.get_by_role("link", name=facility.name)).to_be_visible()
    expect(page.get_by_text(other_facility.name)).to_have_count(0)
    screenshot("02-facilities")
    assert_accessible("facilities page")


def test_wrong_password_gets_a_clear_error(page, owner, assert_accessible):
    sign_in(page, owner.email, "not the password")
    expect(page.get_by_text("That email and password do not match")).to_be_visible()
    assert_accessible("sign-in error")
