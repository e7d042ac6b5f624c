"""The Content-Security-Policy (no 'unsafe-inline') blocks nothing the pages need: Chromium
opens the sign-in page, portal pages with their scripts (copy buttons, toggles, the code
reveal) and the Django admin, and reports no CSP violation, neither in the console nor as a
`securitypolicyviolation` event."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import TwoFactor
from tests.browser.conftest import sign_in
from tests.factories import ApiKeyFactory, UnitFactory, UserFactory, assigned_lock

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def violations(page):
    """Every CSP violation the browser reports, from the console and from the DOM event."""
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.add_init_script(LISTEN)

    def collected() -> list[str]:
        return console + [f"{page.url}: {v}" for v in page.evaluate("window.__cspViolations")]

    return collected


def _visit(page, path: str, violations) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    return violations()


def test_sign_in_and_portal_pages_raise_no_csp_violation(
    page,
    violations,
    owner,
    facility,
    password,
):
    unit = UnitFactory(facility=facility, unit_number="A101")
    lock = assigned_lock(unit, serial="HD000001")
    key = ApiKeyFactory(account=facility.account)

    assert _visit(page, "/accounts/sign-in/", violations) == []
    sign_in(page, owner.email, password)
    expect(page.get_by_role("heading", name="Facilities")).to_be_visible()
    for path in [
        "/facilities/",
        f"/facilities/{facility.pk}/",
        f"/facilities/units/{unit.pk}/",
        f"/facilities/locks/{lock.pk}/",
        "/integrations/",
        "/integrations/keys/new/",
        f"/integrations/keys/{key.pk}/",
        "/integrations/facilities/",
        "/integrations/activity/",
    ]:
        assert _visit(page, path, violations) == [], path

    # The scripts run under the policy: the "All Facilities" switch hides the list (JS).
    page.goto("/integrations/keys/new/")
    switch = page.get_by_label("All Facilities")
    switch.uncheck()
    switch.check()
    # Revealing a code is a POST form; the page that shows it raises nothing either.
    page.goto(f"/facilities/locks/{lock.pk}/")
    page.get_by_role("button", name="Reveal code").click()
    page.get_by_label("Your password").fill(password)  # @recently_confirmed asks first
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator("#unlock-code")).to_have_text(lock.unlock_code)
    page.get_by_role("button", name="Copy").click()  # the copy script runs too
    assert violations() == []


def test_django_admin_raises_no_csp_violation(page, violations, facility, password):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    unit = UnitFactory(facility=facility, unit_number="A101")
    lock = assigned_lock(unit, serial="HD000001")
    key = ApiKeyFactory(account=facility.account)
    two_factor = TwoFactor(staff)  # the admin asks staff for a second factor

    sign_in(page, staff.email, password)
    page.get_by_label("Code").fill(two_factor.code())
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_have_count(0)
    for path in [
        "/admin/",
        "/admin/facilities/facility/",
        f"/admin/facilities/facility/{facility.pk}/change/",
        "/admin/facilities/lock/",
        f"/admin/facilities/lock/{lock.pk}/change/",
        "/admin/integrations/apikey/",
        f"/admin/integrations/apikey/{key.pk}/change/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{staff.pk}/change/",
    ]:
        assert _visit(page, path, violations) == [], path

    # The admin's own scripts work: select all rows, the action bar counts them.
    page.goto("/admin/integrations/apikey/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    assert violations() == []


def test_the_listener_does_see_a_blocked_inline_script(page, violations, db):
    """The control: an inline script added to the page is blocked and reported."""
    page.goto("/accounts/sign-in/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in violation for violation in violations())
