"""An invitation to someone who already uses DaVinci Lock, in Chromium: Harbor's owner adds
Rival's owner on Team; Harbor sees only the address typed and "Invited"; the person, signed
in as themselves, accepts it (and is then a member, shown by name) or declines it (and it is
gone). Screens photographed, checked with axe."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from davinci.accounts.models import Membership, Role
from tests.browser.conftest import sign_in


def _invite(page, email: str) -> None:
    page.goto("/team/new/")
    page.get_by_label("Name").fill("Whatever We Typed")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(label="Client Personnel")
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is invited")


@pytest.fixture
def invited(chromium, live_server, page, owner, other_account_owner, password):
    """Harbor's owner has invited rival@example.com; the person's own browser is signed in."""
    mail.outbox.clear()
    sign_in(page, owner.email, password)
    _invite(page, other_account_owner.email)
    context = chromium.new_context(base_url=live_server.url)
    person = context.new_page()
    sign_in(person, other_account_owner.email, password)
    yield person
    context.close()


def _accessible(person) -> None:
    """axe on the person's own page (the assert_accessible fixture checks the inviter's)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = [
        violation["id"]
        for violation in Axe().run(person).response["violations"]
        if violation.get("impact") in ("serious", "critical")
    ]
    assert not violations, violations


def _link(email: str) -> str:
    invitation = next(m for m in mail.outbox if m.to == [email])
    return urlsplit(re.search(r"https?://\S+", invitation.body).group()).path


def test_the_invited_user_accepts_and_only_then_is_a_member(
    page, invited, other_account_owner, screenshot, assert_accessible
):
    name = other_account_owner.name
    row = page.get_by_role("row").filter(has_text=other_account_owner.email)
    expect(row).to_contain_text("Invited")
    expect(page.get_by_text(name)).to_have_count(0)
    screenshot("01-team-invited")
    assert_accessible("Team with an invitation")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Invitation")).to_be_visible()
    expect(page.get_by_text(name)).to_have_count(0)
    screenshot("02-invitation-as-the-inviter-sees-it")
    assert_accessible("an invitation on Team")

    # The person opens the email's link, signed in as themselves.
    invited.goto(_link(other_account_owner.email))
    expect(invited.get_by_role("heading", name="Invitations")).to_be_visible()
    invitation = invited.get_by_role("row").filter(has_text="Harbor Self Storage")
    expect(invitation).to_contain_text("Client Personnel")
    invited.screenshot(path=str(screenshot.folder / "03-invitations.png"), full_page=True)
    _accessible(invited)
    invitation.get_by_role("button", name="Accept").click()
    expect(invited.get_by_role("status")).to_contain_text(
        "You are now a member of Harbor Self Storage as Client Personnel"
    )
    expect(invited.locator("#account-switcher")).to_contain_text("Harbor Self Storage")
    membership = Membership.objects.get(
        user=other_account_owner, account__slug="harbor-self-storage"
    )
    assert not membership.is_invited and membership.role == Role.CLIENT_PERSONNEL

    # Only now does Harbor see the member by name.
    page.goto("/team/")
    row = page.get_by_role("row").filter(has_text=other_account_owner.email)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Active")
    screenshot("04-team-member-accepted")


def test_the_invited_user_declines_and_the_invitation_is_gone(
    page, invited, other_account_owner, screenshot, assert_accessible
):
    invited.goto("/accounts/you/")
    invited.get_by_role("link", name="See your invitations").click()
    _accessible(invited)
    invitation = invited.get_by_role("row").filter(has_text="Harbor Self Storage")
    invitation.get_by_role("button", name="Decline").click()
    expect(invited.get_by_role("status")).to_contain_text(
        "You declined the invitation to Harbor Self Storage"
    )
    expect(invited.get_by_text("You have no open invitations.")).to_be_visible()
    assert not Membership.objects.filter(
        user=other_account_owner, account__slug="harbor-self-storage"
    ).exists()

    page.goto("/team/")
    expect(page.get_by_role("row").filter(has_text=other_account_owner.email)).to_have_count(0)
    screenshot("01-team-after-decline")
