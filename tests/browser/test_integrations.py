"""The help article "Create an API & API Key", followed step by step with its own words.

Each screen is photographed into this test's screenshot folder and checked with axe.
"""

import re

import pytest
from playwright.sync_api import expect

from davinci.accounts.models import AuditEvent
from integrations.models import ApiKey
from integrations.secrets import secret_matches
from tests.browser.conftest import sign_in
from tests.browser.test_facility_picker import choose_facility
from tests.factories import FacilityFactory


@pytest.fixture
def facilities(facility):
    eastside = FacilityFactory(
        account=facility.account, name="Harbor Eastside", address="2200 East Bay Rd"
    )
    airport = FacilityFactory(
        account=facility.account, name="Harbor Airport", address="7 Runway Dr", include_in_api=False
    )
    return facility, eastside, airport


def test_create_and_manage_an_api_key_as_the_article_describes(
    page, owner, password, facilities, screenshot, assert_accessible
):
    downtown, eastside, _airport = facilities

    # "Creating and modifying API keys"
    # 1. Sign in to your DaVinci Lock® account.
    sign_in(page, owner.email, password)

    # 2. "Integrations", navigate to the "API Settings" tab.
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="API Settings").click()
    expect(page.get_by_role("link", name="API Settings")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    screenshot("01-api-settings-empty")
    assert_accessible("API Settings, no keys")

    # 3. Click "Create API Key".
    page.get_by_role("link", name="Create API Key").click()
    expect(page.get_by_role("heading", name="Create API Key")).to_be_visible()
    all_facilities = page.get_by_label("All Facilities")
    expect(all_facilities).to_be_checked()  # on by default
    # While it is on, the facility picker is irrelevant and hidden; no facility is listed.
    expect(page.get_by_role("combobox", name="Find a facility")).to_be_hidden()
    assert "Harbor Downtown" not in page.content()
    # The key's permissions: only Read lock information (the article's purpose) is checked.
    expect(page.get_by_role("checkbox", name="Read lock information")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Release overlocks")).not_to_be_checked()
    screenshot("02-create-api-key")
    assert_accessible("Create API Key")

    # 4. In the "Name" field, add a descriptive name for the key, e.g. "Call Center".
    page.get_by_label("Name").fill("Call Center")
    # 5. Toggle off "All Facilities" ... At least one facility must be selected.
    all_facilities.uncheck()
    page.get_by_role("combobox", name="Find a facility").fill("harbor")
    expect(page.get_by_role("option", name=re.compile("^Harbor Downtown"))).to_be_visible()
    airport = page.get_by_role("option", name=re.compile("^Harbor Airport"))
    expect(airport).to_contain_text("excluded from the API")
    page.keyboard.press("Escape")
    # 6. Click "Save & Submit" with no facility: the error.
    page.get_by_role("button", name="Save & Submit").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Select at least one facility, or turn on All Facilities."
    )
    assert not ApiKey.objects.exists()
    screenshot("03-create-api-key-error")
    assert_accessible("Create API Key with an error")

    # ... manually select a facility, then "Save & Submit": a new entry in the list of keys.
    choose_facility(page, "downtown", "Harbor Downtown")
    page.get_by_role("button", name="Save & Submit").click()
    row = page.get_by_role("row").filter(has_text="Call Center")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Harbor Downtown")
    expect(row).to_contain_text("Active")
    key = ApiKey.objects.get()
    expect(row).to_contain_text(key.api_key)
    expect(row).to_contain_text("Read lock information")
    assert key.permissions == ["read"]
    screenshot("04-api-settings-list")
    assert_accessible("API Settings with a key")

    # 7. From the list of keys, click on the key you wish to view the API Secret for.
    page.get_by_role("link", name="Call Center").click()
    expect(page.get_by_role("heading", name="Call Center", exact=True)).to_be_visible()
    expect(page.locator("#api-key")).to_have_text(key.api_key)
    expect(page.get_by_role("button", name="Copy API Key")).to_be_visible()
    screenshot("05-key-detail")
    assert_accessible("key detail")

    # 8. Click "Show Key" to reveal the API Secret: the password is confirmed first.
    page.get_by_role("button", name="Show Key", exact=True).click()
    expect(page.get_by_label("Your password")).to_be_visible()
    expect(page.locator("#api-secret")).to_have_count(0)
    screenshot("06-show-key-password")
    assert_accessible("Show Key password prompt")
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm and Show Key").click()
    secret = page.locator("#api-secret")
    expect(secret).to_have_text(re.compile(r"^dvs_\w+$"))
    key.refresh_from_db()
    assert secret_matches(secret.text_content(), key.secret_digest)
    expect(page.get_by_role("button", name="Copy API Secret")).to_be_visible()
    screenshot("07-show-key-secret")
    assert_accessible("the revealed secret")

    # ... or use this window to update the facility information.
    choose_facility(page, "eastside", "Harbor Eastside")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.locator("#api-secret")).to_have_count(0)  # hidden again once we left
    assert set(key.facilities.all()) == {downtown, eastside}
    expect(page.locator(".picker-chip").filter(has_text="Harbor Eastside")).to_be_visible()

    # Beyond the article: the same window gives the key a permission to write.
    page.get_by_role("checkbox", name="Release overlocks").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Release overlocks")).to_be_checked()
    key.refresh_from_db()
    assert key.permissions == ["read", "release"]

    # 9. If the API Key or API Secret becomes compromised you should disable it.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("This key is disabled")).to_be_visible()
    expect(page.get_by_role("button", name="Enable")).to_be_visible()
    key.refresh_from_db()
    assert not key.is_active
    screenshot("08-key-disabled")
    assert_accessible("disabled key")

    # "Retrieving facility API IDs": Integrations → "Facilities" tab → "Facility ID" column.
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Facilities", exact=True).last.click()
    expect(page.get_by_role("columnheader", name="Facility ID")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Include in API")).to_be_visible()
    downtown_row = page.get_by_role("row").filter(has_text="Harbor Downtown")
    expect(downtown_row).to_contain_text(downtown.facility_id)
    screenshot("09-facilities-tab")
    assert_accessible("Facilities tab")

    # "Toggling facilities for inclusion or exclusion in the API": toggle it off...
    toggle = page.get_by_role("switch", name="Include in API: Harbor Eastside")
    expect(toggle).to_be_checked()
    toggle.uncheck()  # data-autosubmit posts the form at once
    expect(page.get_by_text("Harbor Eastside is excluded from the API")).to_be_visible()
    expect(page.get_by_role("switch", name="Include in API: Harbor Eastside")).not_to_be_checked()
    eastside.refresh_from_db()
    assert not eastside.include_in_api
    assert list(key.facilities_in_scope()) == [downtown]
    screenshot("10-facilities-tab-toggled")
    assert_accessible("Facilities tab after a toggle")

    # Every step is in the Activity log, newest first.
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Facility excluded from API")
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        AuditEvent.Action.KEY_CREATED,
        AuditEvent.Action.KEY_REVEALED,
        AuditEvent.Action.KEY_EDITED,
        AuditEvent.Action.KEY_EDITED,  # the permission
        AuditEvent.Action.KEY_DISABLED,
        AuditEvent.Action.FACILITY_EXCLUDED,
    ]
    screenshot("11-activity")
    assert_accessible("Activity")


def test_include_in_api_toggle_works_without_javascript(
    chromium, live_server, owner, password, facility
):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, owner.email, password)
        page.goto("/integrations/facilities/")
        toggle = page.get_by_role("switch", name="Include in API: Harbor Downtown")
        toggle.uncheck()
        facility.refresh_from_db()
        assert facility.include_in_api  # nothing happens until the form is submitted
        page.get_by_role("row").filter(has_text="Harbor Downtown").get_by_role(
            "button", name="Save"
        ).click()
        expect(page.get_by_text("Harbor Downtown is excluded from the API")).to_be_visible()
        facility.refresh_from_db()
        assert not facility.include_in_api
    finally:
        context.close()
