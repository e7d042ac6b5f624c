"""Team, as an owner runs it: Add User → the invitation (setting the password accepts it) → a
Client Call Center user who sees one facility → the owner sets them Inactive → their next
request is signed out.

Each screen is photographed into this test's screenshot folder; the Team pages are checked
with axe.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from davinci.accounts.models import Membership, Role
from facilities.models import Lock, LockStatus
from tests.browser.conftest import sign_in
from tests.browser.test_facility_picker import choose_facility
from tests.factories import FacilityFactory, UnitFactory, assigned_lock

NEW_PASSWORD = "a long passphrase for cara"


@pytest.fixture
def locks(facility):
    eastside = FacilityFactory(account=facility.account, name="Harbor Eastside")
    overlock = assigned_lock(
        UnitFactory(facility=facility, unit_number="B202"),
        LockStatus.ASSIGNED_OVERLOCK,
        serial="HD000202",
    )
    auction = assigned_lock(
        UnitFactory(facility=facility, unit_number="C303"),
        LockStatus.ASSIGNED_AUCTION,
        serial="HD000303",
        code="1357",
    )
    return eastside, overlock, auction


def test_owner_adds_a_call_center_user_and_later_sets_them_inactive(
    chromium, live_server, page, owner, password, facility, locks, screenshot, assert_accessible
):
    eastside, overlock, auction = locks
    mail.outbox.clear()

    # The owner opens Team → Add User.
    sign_in(page, owner.email, password)
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    screenshot("01-team")
    assert_accessible("Team")
    page.get_by_role("link", name="Add User").click()
    expect(page.get_by_label("All Facilities")).to_be_checked()
    screenshot("02-add-user")
    assert_accessible("Add User")

    # A Client Call Center user restricted to one facility; first without choosing any.
    page.get_by_label("Name").fill("Cara Caller")
    page.get_by_label("Email").fill("cara@example.com")
    page.get_by_label("Role").select_option(label="Client Call Center")
    page.get_by_label("All Facilities").uncheck()
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("alert")).to_contain_text("Select at least one facility")
    assert_accessible("Add User with an error")
    choose_facility(page, "downtown", "Harbor Downtown")
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("status")).to_contain_text("cara@example.com is invited")
    row = page.get_by_role("row").filter(has_text="cara@example.com")
    expect(row).to_contain_text("Client Call Center")
    expect(row).to_contain_text("Harbor Downtown")
    expect(row).to_contain_text("Invited")
    screenshot("03-team-with-cara")

    # The invitation's link sets a password (in a browser of her own).
    invitation = next(m for m in mail.outbox if m.to == ["cara@example.com"])
    link = urlsplit(re.search(r"https?://\S+", invitation.body).group()).path
    cara_context = chromium.new_context(base_url=live_server.url)
    cara = cara_context.new_page()
    cara.goto(link)
    expect(cara.get_by_role("heading", name="Set your password")).to_be_visible()
    cara.locator("#id_new_password1").fill(NEW_PASSWORD)
    cara.locator("#id_new_password2").fill(NEW_PASSWORD)
    cara.get_by_role("button", name="Set password").click()
    expect(cara.get_by_role("status")).to_contain_text("Your password is set")

    # She sees only her facility.
    expect(cara.get_by_role("link", name="Harbor Downtown")).to_be_visible()
    expect(cara.get_by_text(eastside.name)).to_have_count(0)
    expect(cara.get_by_role("link", name="Team")).to_have_count(0)
    expect(cara.get_by_role("link", name="Integrations")).to_have_count(0)

    # She can set the Assigned Overlock lock to Returned to Dropbox (Release overlock)...
    cara.goto(f"/facilities/locks/{overlock.pk}/")
    cara.get_by_label("Send the tenant their code now").uncheck()
    cara.get_by_role("button", name="Release overlock").click()
    expect(cara.get_by_role("status").first).to_contain_text("Returned to Dropbox")
    overlock.refresh_from_db()
    assert overlock.status == LockStatus.RETURNED_TO_DROPBOX
    assert overlock.unit_id is not None

    # ...but not reveal the Assigned Auction code.
    cara.goto(f"/facilities/locks/{auction.pk}/")
    expect(cara.get_by_text("Withheld.")).to_be_visible()
    expect(cara.get_by_role("button", name="Reveal code")).to_have_count(0)
    token = cara.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    refused = cara.request.post(
        f"/facilities/locks/{auction.pk}/reveal/", form={"csrfmiddlewaretoken": token}
    )
    assert refused.status == 403 and "1357" not in refused.text()

    # Integrations and Team are 403 for her.
    for url in ("/integrations/", "/team/"):
        response = cara.goto(url)
        assert response.status == 403
    expect(cara.get_by_text("can open this page")).to_be_visible()

    # The owner sets her Inactive.
    page.goto("/team/")
    page.get_by_role("link", name="Cara Caller").click()
    expect(page.get_by_role("button", name="Save Changes")).to_be_visible()
    screenshot("04-edit-user")
    assert_accessible("Edit user")
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save Changes").click()
    # A change that matters: @recently_confirmed asks the password, carrying the form.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("status")).to_contain_text("Changes saved.")
    expect(page.get_by_role("row").filter(has_text="cara@example.com")).to_contain_text("Inactive")
    screenshot("05-team-cara-inactive")
    assert_accessible("Team with an inactive user")
    assert not Membership.objects.get(user__email="cara@example.com").is_active

    # Her next request is signed out.
    cara.goto("/facilities/")
    expect(cara).to_have_url(re.compile(r"/accounts/sign-in/"))
    expect(cara.get_by_text("You are signed out")).to_be_visible()
    cara_context.close()
    assert Lock.objects.get(pk=auction.pk).status == LockStatus.ASSIGNED_AUCTION
    assert Membership.objects.get(user__email="cara@example.com").role == Role.CLIENT_CALL_CENTER
