"""The facility picker at size, in Chromium: an account of 1,200 facilities, a key and a member
with 1,100 of them (past Django's 1,000-field limit, which the old checkbox list hit), created,
renamed and edited through the picker, at 1280 px and at 390 px, with axe on every state. And
the same picker without JavaScript: Search, Add, Remove and Save by posting the form.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from davinci.accounts.models import Membership
from davinci.accounts.services import membership_accept
from facilities.models import Facility
from integrations.models import ApiKey
from tests.browser.conftest import sign_in

STATES = ["IL", "TX", "OH", "GA", "AZ", "WA"]
CHOSEN = 1100
PAGE_LIMIT = 200 * 1024
DASH = "\N{EN DASH}"  # the chosen list counts "1<dash>50 of 1,100"


@pytest.fixture
def many_facilities(account):
    """1,200 depots named and addressed like a chain's (the first 1,100 get chosen), and
    Harbor Lakeside, found by searching."""
    Facility.objects.bulk_create(
        Facility(
            account=account,
            name=f"Storage Depot {n:04d}",
            address=f"{n} Main St, Town {n % 97}, {STATES[n % len(STATES)]} {60000 + n}",
        )
        for n in range(1, 1201)
    )
    Facility.objects.create(
        account=account, name="Harbor Lakeside", address="12 Shore Rd, Duluth, MN 55802"
    )
    return list(
        Facility.objects.for_account(account).exclude(name="Harbor Lakeside").order_by("name")
    )


@pytest.fixture
def lakeside(account, many_facilities):
    return Facility.objects.get(account=account, name="Harbor Lakeside")


def _page_bytes(page) -> int:
    return len(page.content().encode())


def _choose_by_pasting(page, ids: list[str]) -> None:
    """A long list goes in through the Facility IDs text area (as pasted from a sheet)."""
    page.get_by_text("Facility IDs: paste or edit the list").click()
    ids_box = page.get_by_label("Chosen Facility IDs")
    ids_box.fill("\n".join(ids))
    ids_box.dispatch_event("change")


def choose_facility(page, text: str, name: str) -> None:
    """Type in the picker's combobox, arrow down to the facility, Enter: it becomes a chip."""
    search = page.get_by_role("combobox", name="Find a facility")
    search.fill(text)
    option = page.get_by_role("option", name=name)
    expect(option).to_be_visible()
    search.focus()
    for _ in range(20):
        search.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    search.press("Enter")
    expect(page.get_by_role("status").filter(has_text=f"Added {name}")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_a_key_and_a_member_with_1100_facilities_through_the_picker(
    page, owner, password, many_facilities, lakeside, width, screenshot, assert_accessible
):
    page.set_viewport_size({"width": width, "height": 900})
    chosen = [f.facility_id for f in many_facilities[:CHOSEN]]
    sign_in(page, owner.email, password)

    # Create API Key: All Facilities is on and nothing is listed.
    page.goto("/integrations/keys/new/")
    expect(page.get_by_label("All Facilities")).to_be_checked()
    expect(page.get_by_role("combobox", name="Find a facility")).to_be_hidden()
    assert many_facilities[0].name not in page.content()
    assert_accessible("Create API Key, All Facilities on")
    page.get_by_label("Name").fill("Call Center")
    page.get_by_label("All Facilities").uncheck()
    choose_facility(page, "duluth", "Harbor Lakeside")
    chip = page.locator(".picker-chip").filter(has_text="Harbor Lakeside")
    expect(chip).to_contain_text(lakeside.facility_id)
    screenshot("01-key-one-chosen")
    assert_accessible("Create API Key, one chosen, the listbox open")
    chip.get_by_role("button", name="Remove Harbor Lakeside").click()
    expect(page.locator(".picker-chip")).to_have_count(0)
    _choose_by_pasting(page, chosen)
    expect(page.get_by_text(f"1{DASH}50 of 1,100")).to_be_visible(timeout=30_000)
    expect(page.locator(".picker-chip").first).to_contain_text(many_facilities[0].name)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(f"51{DASH}100 of 1,100")).to_be_visible()
    expect(page.locator(".picker-chip").first).to_contain_text(many_facilities[50].name)
    screenshot("02-key-1100-chosen")
    assert_accessible("Create API Key, 1,100 chosen")
    page.get_by_role("button", name="Save & Submit").click()
    expect(page.get_by_role("link", name="Call Center")).to_be_visible()
    key = ApiKey.objects.get()
    assert not key.all_facilities
    assert set(key.facilities.values_list("facility_id", flat=True)) == set(chosen)

    # The key's page: bounded however many are chosen; rename it, then edit the choice.
    page.get_by_role("link", name="Call Center").click()
    expect(page.get_by_text(f"1{DASH}50 of 1,100")).to_be_visible(timeout=30_000)
    assert _page_bytes(page) < PAGE_LIMIT
    assert_accessible("key page, 1,100 chosen")
    page.get_by_label("Name").fill("Call Center East")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    key.refresh_from_db()
    assert key.name == "Call Center East" and key.facilities.count() == CHOSEN
    page.get_by_role("button", name=f"Remove {many_facilities[0].name}").click()
    choose_facility(page, "Lakeside", "Harbor Lakeside")
    expect(page.locator(".picker-chip").first).to_contain_text("Harbor Lakeside")
    screenshot("03-key-edited")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    ids = set(key.facilities.values_list("facility_id", flat=True))
    assert ids == set(chosen[1:]) | {lakeside.facility_id}

    # Team → Add User with the same 1,100, then rename and edit them.
    page.goto("/team/new/")
    page.get_by_label("Name").fill("Cara Caller")
    page.get_by_label("Email").fill("cara@example.com")
    page.get_by_label("Role").select_option(label="Client Call Center")
    page.get_by_label("All Facilities").uncheck()
    _choose_by_pasting(page, chosen)
    expect(page.get_by_text(f"1{DASH}50 of 1,100")).to_be_visible(timeout=30_000)
    assert_accessible("Add User, 1,100 chosen")
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("status").first).to_contain_text("cara@example.com is invited")
    member = Membership.objects.get(user__email="cara@example.com")
    assert member.facilities.count() == CHOSEN
    # Cara accepts (setting her password through her link does this); only then is she a
    # member whose page Team can edit.
    membership_accept(membership_id=member.pk, user=member.user, ip=None)
    page.goto(f"/team/{member.pk}/")
    expect(page.get_by_text(f"1{DASH}50 of 1,100")).to_be_visible(timeout=30_000)
    assert _page_bytes(page) < PAGE_LIMIT
    screenshot("04-member-1100-chosen")
    assert_accessible("member page, 1,100 chosen")
    page.get_by_label("Name").fill("Cara Caller-Smith")
    page.get_by_role("button", name=f"Remove {many_facilities[0].name}").click()
    choose_facility(page, "MN 55802", "Harbor Lakeside")
    page.get_by_role("button", name="Save Changes").click()
    # Changing a member asks for the password again; the posted form then goes through.
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("status").first).to_contain_text("Changes saved.")
    member.refresh_from_db()
    assert member.user.name == "Cara Caller-Smith"
    ids = set(member.facilities.values_list("facility_id", flat=True))
    assert ids == set(chosen[1:]) | {lakeside.facility_id}


def test_the_picker_works_without_javascript(
    page, owner, password, many_facilities, lakeside, screenshot, assert_accessible
):
    # None of the pages' scripts load (axe, injected by the test, still runs).
    page.route("**/*.js", lambda route: route.abort())
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, owner.email, password)
    page.goto("/integrations/keys/new/")
    expect(page.get_by_label("Find a facility")).to_be_visible()  # nothing hides it
    page.get_by_label("Name").fill("Night desk")
    page.get_by_label("All Facilities").uncheck()
    # Enter in the search box searches (the query is new); nothing is saved.
    search = page.get_by_label("Find a facility")
    search.fill("Town 5,")
    search.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("matches for “Town 5,”")
    assert not ApiKey.objects.exists()
    expect(page.get_by_label("Name")).to_have_value("Night desk")
    expect(page.get_by_label("All Facilities")).not_to_be_checked()
    first = page.locator(".picker-row").first
    name = first.locator(".picker-name").inner_text()
    first.get_by_role("button", name=f"Add {name}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added {name}")
    expect(page.locator(".picker-chip")).to_contain_text(name)
    page.get_by_label("Find a facility").fill("Harbor")
    page.get_by_role("button", name="Search facilities", exact=True).click()
    page.get_by_role("button", name="Add Harbor Lakeside").click()
    expect(page.locator(".picker-chip")).to_have_count(2)
    screenshot("01-no-js-two-chosen")
    assert_accessible("Create API Key without JavaScript")
    page.get_by_role("button", name=f"Remove {name}").click()
    expect(page.locator(".picker-chip")).to_have_count(1)
    # Enter in the name field now saves: the query in the box was searched already.
    page.get_by_label("Name").press("Enter")
    expect(page.get_by_role("link", name="Night desk")).to_be_visible()
    key = ApiKey.objects.get()
    assert [f.name for f in key.facilities.all()] == ["Harbor Lakeside"]
