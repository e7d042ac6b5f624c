"""The Facilities screens in Chromium: what an owner does day to day, checked with axe."""

import re

from playwright.sync_api import expect

from facilities.models import Facility, Lock, LockEvent, LockStatus, Unit
from tests.browser.conftest import sign_in
from tests.factories import LockFactory, UnitFactory, assigned_lock

GOOD_CSV = (
    "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n"
    "A101,Avery Johnson,avery@example.com,(603) 555-0101,HD000101,4821,Assigned Overlock\n"
    "A102,Blake Carter,blake@example.com,(603) 555-0102,,,\n"
    "A103,Casey Morgan,casey@example.com,(603) 555-0103,HD000103,3390,Tenant Using Lock\n"
    ",,,,HD000104,7305,Available\n"
)


def _upload(page, name: str, text: str) -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Preview import").click()


def test_create_a_facility_and_find_its_id_under_integrations(
    page, owner, password, screenshot, assert_accessible
):
    sign_in(page, owner.email, password)
    page.get_by_role("link", name="Add facility").click()
    page.get_by_label("Name").fill("Harbor North")
    page.get_by_label("Address").fill("9 Pier Rd, Portsmouth, NH 03801")
    screenshot("01-add-facility")
    assert_accessible("add facility")
    page.get_by_role("button", name="Create facility").click()

    facility = Facility.objects.get(name="Harbor North")
    expect(page.get_by_role("heading", name="Harbor North")).to_be_visible()
    expect(page.get_by_text(f"Its Facility ID is {facility.facility_id}")).to_be_visible()
    expect(page.locator("#facility-id")).to_have_text(facility.facility_id)
    screenshot("02-new-facility")
    assert_accessible("new facility page")

    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Facilities").last.click()
    row = page.get_by_role("row").filter(has_text="Harbor North")
    expect(row.get_by_text(facility.facility_id)).to_be_visible()
    expect(row.get_by_role("switch")).to_be_checked()
    screenshot("03-integrations-facilities")


def test_assign_a_lock_to_a_unit_as_assigned_overlock(
    page, owner, facility, password, screenshot, assert_accessible
):
    unit = UnitFactory(facility=facility, unit_number="A101", tenant_name="Avery Johnson")
    lock = LockFactory(facility=facility, serial="HD000101", code="4821")
    LockFactory(facility=facility, serial="HD000102")
    sign_in(page, owner.email, password)
    page.get_by_role("link", name="Harbor Downtown").click()
    expect(page.get_by_role("row").filter(has_text="A101")).to_contain_text("No lock")
    screenshot("01-facility-units")
    assert_accessible("facility page")

    page.get_by_role("link", name="A101").click()
    page.get_by_label("Lock serial").fill("hd000101")
    expect(page.get_by_label("Status")).to_have_value("assigned_overlock")
    screenshot("02-unit-assign")
    assert_accessible("unit page")
    page.get_by_role("button", name="Assign lock").click()

    expect(page.get_by_text("Lock HD000101 is on unit A101: Assigned Overlock.")).to_be_visible()
    lock.refresh_from_db()
    assert (lock.unit, lock.status) == (unit, LockStatus.ASSIGNED_OVERLOCK)
    assert LockEvent.objects.filter(lock=lock, kind="assigned").count() == 1
    screenshot("03-unit-with-lock")
    assert_accessible("unit page with lock")

    page.get_by_role("link", name="Harbor Downtown").click()
    page.get_by_label("Lock status").select_option("assigned_overlock")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("HD000101")
    expect(rows.first).to_contain_text("Assigned Overlock")
    expect(page.get_by_text("4821")).to_have_count(0)
    screenshot("04-filtered")


def test_reveal_the_code_and_see_it_in_the_history(
    page, owner, facility, password, screenshot, assert_accessible
):
    lock = assigned_lock(
        UnitFactory(facility=facility, unit_number="B202"), serial="HD000202", code="2468"
    )
    sign_in(page, owner.email, password)
    page.get_by_label("Search units and locks by serial or unit number").fill("HD000202")
    page.get_by_label("Search units and locks by serial or unit number").press("Enter")

    expect(page.get_by_role("heading", name="Lock HD000202")).to_be_visible()
    expect(page.get_by_text("2468")).to_have_count(0)
    screenshot("01-lock-masked")
    assert_accessible("lock page")

    page.get_by_role("button", name="Reveal code").click()
    # @recently_confirmed: the password first (then not again for 10 minutes).
    page.get_by_label("Your password").fill(password)
    with page.expect_response(re.compile(r"/reveal/$")) as reveal:
        page.get_by_role("button", name="Confirm and continue").click()
    assert "no-store" in reveal.value.headers["cache-control"]
    expect(page.locator("#unlock-code")).to_have_text("2468")
    history = page.get_by_role("table", name="History of lock HD000202")
    expect(
        history.get_by_role("row").filter(has_text="Code revealed in the portal")
    ).to_contain_text(owner.get_full_name())
    screenshot("02-lock-revealed")
    assert_accessible("revealed code")

    # Opening the lock page again shows the mask: the code lived only in that one answer.
    page.goto(f"/facilities/locks/{lock.pk}/")
    expect(page.get_by_text("2468")).to_have_count(0)
    assert LockEvent.objects.filter(lock=lock, kind="code_revealed").count() == 1


def test_import_a_file_with_a_bad_row_then_the_fixed_file(
    page, owner, facility, password, screenshot, assert_accessible
):
    sign_in(page, owner.email, password)
    page.goto(f"/facilities/{facility.pk}/")
    page.get_by_role("link", name="Import CSV").click()
    screenshot("01-import-upload")
    assert_accessible("import upload")

    bad = GOOD_CSV.replace("blake@example.com", "blake-at-example.com")
    _upload(page, "units.csv", bad)
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    error_row = page.locator("#import-errors tbody tr")
    expect(error_row).to_have_count(1)
    expect(error_row.first).to_contain_text("3")
    expect(error_row.first).to_contain_text("tenant_email “blake-at-example.com”")
    expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    assert not Unit.objects.exists() and not Lock.objects.exists()
    screenshot("02-import-errors")
    assert_accessible("import errors")

    _upload(page, "units-fixed.csv", GOOD_CSV)
    expect(page.get_by_role("heading", name=re.compile("Ready to import"))).to_contain_text(
        "3 new units, 3 new locks"
    )
    expect(page.locator("#import-changes")).to_contain_text(
        "New lock HD000101: Assigned Overlock on unit A101"
    )
    assert not Unit.objects.exists()
    screenshot("03-import-preview")
    assert_accessible("import preview")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported units-fixed.csv: 3 new units, 3 new locks.")).to_be_visible()
    assert Unit.objects.filter(facility=facility).count() == 3
    assert Lock.objects.filter(facility=facility).count() == 3
    assert LockEvent.objects.filter(kind="imported").count() == 3
    screenshot("04-imported")

    # The same file again: nothing to change, nothing written.
    page.get_by_role("link", name="Import CSV").click()
    _upload(page, "units-fixed.csv", GOOD_CSV)
    expect(page.get_by_role("heading", name="Nothing to change")).to_be_visible()
    assert LockEvent.objects.count() == 3 and Unit.objects.count() == 3
    screenshot("05-reimport-nothing-to-change")


def test_a_call_center_user_reads_but_never_an_auction_code(
    page, call_center_user, facility, password, screenshot, assert_accessible
):
    assigned_lock(
        UnitFactory(facility=facility, unit_number="C303"),
        LockStatus.ASSIGNED_AUCTION,
        serial="HD000303",
        code="1357",
    )
    sign_in(page, call_center_user.email, password)
    page.get_by_role("link", name="Harbor Downtown").click()
    expect(page.get_by_role("link", name="Add unit")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="C303")).to_contain_text("Withheld")
    page.get_by_role("link", name="HD000303").click()
    expect(page.get_by_text("Withheld.")).to_be_visible()
    expect(page.get_by_role("button", name="Reveal code")).to_have_count(0)
    expect(page.get_by_role("heading", name="Change this lock")).to_have_count(0)
    screenshot("01-call-center-auction-lock")
    assert_accessible("call-center lock page")
