"""Every list page on a phone (390 x 844) and on a desktop: the page never scrolls sideways,
each row's actions are inside the viewport and clickable, and axe finds nothing serious.

Also Reveal in place on the Units tab, with a filter and page 2 active.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from automations import engine
from automations.models import Rule
from davinci.accounts.models import AuditEvent, Role
from facilities.models import LockEvent, LockStatus, ReleaseAttempt
from facilities.retention import history_archive_account
from facilities.services import lock_event_record
from integrations import usage
from integrations.services import audit_event_record
from team.services import member_add
from tests.browser.conftest import sign_in
from tests.factories import (
    ApiKeyFactory,
    FacilityFactory,
    LockFactory,
    UnitFactory,
    WebhookEndpointFactory,
    assigned_lock,
)
from webhooks import events as webhook_events
from webhooks.models import Attempt, Delivery, Endpoint

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The controls of a row a user acts on: links, buttons, switches.
ROW_ACTIONS = "tbody tr a, tbody tr button:visible, tbody tr input:not([type=hidden])"
# Their rows here have nothing to click (the rule's page and the payments page have no rows
# of their own: their tables explain the fields and the file).
NO_ROW_ACTIONS = {
    "api-key",
    "activity",
    "lock",
    "automation-rule",
    "automations-payments",
    "lock-usage",
    "code-disclosures",
    "audit-export",
}


def _usage(key, lock, monkeypatch) -> None:
    """A month of lookups (LockEvents on their days) and some refused requests."""
    now = timezone.now()
    for days_ago in range(0, 30, 2):
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda d=days_ago: now - timedelta(days=d))
            for _ in range(1 + days_ago % 5):
                lock_event_record(
                    lock=lock,
                    kind=LockEvent.Kind.CODE_LOOKED_UP,
                    actor_type=LockEvent.Actor.API_KEY,
                    api_key=key,
                    unit=lock.unit,
                    ip="198.51.100.20",
                )
    for status in (401, 401, 403, 429):
        usage.refused_count(api_key_id=key.pk, status=status)


@pytest.fixture
def portfolio(
    account, facility, owner, manager, monkeypatch, settings, tmp_path, other_account_owner
):
    """A facility with long names and every kind of row: units with and without locks, an
    inventory lock, a second facility excluded from the API, a key, activity, release
    attempts, a history archive, an invitation to the owner from another account."""
    facility.name = "Harbor Downtown Self Storage & Wine Cellars"
    facility.address = "1200 Harborview Boulevard, Building C, Portsmouth, NH 03801"
    facility.save()
    for n, status in enumerate(
        [LockStatus.ASSIGNED_OVERLOCK, LockStatus.TENANT_USING_LOCK, LockStatus.ASSIGNED_VACANT]
    ):
        unit = UnitFactory(
            facility=facility,
            unit_number=f"A10{n}",
            tenant_name="Maximilian Alexander Worthington-Smythe",
        )
        assigned_lock(unit, status, serial=f"HD00010{n}")
    UnitFactory(facility=facility, unit_number="B200")
    released = UnitFactory(facility=facility, unit_number="A103", tenant_name="Paid Up")
    assigned_lock(released, LockStatus.RETURNED_TO_DROPBOX, serial="HD000103")
    # An overlock no automation releases (A100's is released by the payment below), so that
    # Overlocks by age has a row.
    overlocked = UnitFactory(facility=facility, unit_number="A104", tenant_name="Still Owing")
    assigned_lock(overlocked, LockStatus.ASSIGNED_OVERLOCK, serial="HD000104")
    lock_event_record(
        lock=facility.locks.get(serial="HD000100"),
        kind=LockEvent.Kind.CODE_REVEALED,
        actor_type=LockEvent.Actor.USER,
        user=owner,
    )
    LockFactory(facility=facility, serial="HD000900")
    FacilityFactory(account=account, name="Harbor Airport Long-Term", include_in_api=False)
    key = ApiKeyFactory(
        account=account,
        name="Night Call Center (Answering Service Inc.)",
        permissions=["read", "release", "set_status", "fms_events", "events"],
    )
    audit_event_record(
        account=account,
        action=AuditEvent.Action.KEY_CREATED,
        actor=owner,
        ip="203.0.113.7",
        target=key,
        details={"summary": "All Facilities"},
    )
    ReleaseAttempt.objects.create(
        account=account,
        facility=facility,
        unit_number="A100",
        unit=facility.units.get(unit_number="A100"),
        channel=ReleaseAttempt.Channel.EMAIL,
        contact="maximilian.worthington-smythe@example.com",
        ip="203.0.113.5",
        outcome=ReleaseAttempt.Outcome.CONTACT_MISMATCH,
    )
    _usage(key, facility.locks.filter(unit__isnull=False).first(), monkeypatch)
    _archive(account, facility, settings, tmp_path, monkeypatch)
    other = other_account_owner.memberships.get()
    member_add(
        account=other.account,
        editor=other,
        name="",
        email=owner.email,
        role=Role.CLIENT_CALL_CENTER,
        all_facilities=True,
        facilities=[],
        ip=None,
        site_url="http://testserver/",
    )
    _webhook(account)
    _automations(account, facility, owner)
    return facility, key


def _automations(account, facility, owner) -> None:
    """A rule for a chosen facility beside the two defaults, and an activity list with every
    kind of row: acted (with a long reference), skipped, and nothing to do."""
    rule = Rule.objects.create(
        account=account,
        position=3,
        trigger="move_out",
        statuses=["tenant_using_lock"],
        set_status="assigned_vacant",
        all_facilities=False,
    )
    rule.facilities.set([facility])
    for number, reference in [("A100", "RCPT-2026-03-02-000123456789"), ("A100", ""), ("B200", "")]:
        engine.fms_event_receive(
            unit=facility.units.get(unit_number=number),
            type="payment_received",
            occurred_at=timezone.now(),
            reference=reference,
            user=owner,
        )


def _webhook(account) -> None:
    """An endpoint with a long URL and a delivery log of every kind of row: delivered, an
    error page answered, and a request refused before it was made."""
    endpoint = WebhookEndpointFactory(
        account=account,
        url="https://93.184.216.34/integrations/davinci-lock/webhooks/receiver-with-a-long-path",
        description="Billing system (Answering Service Inc.)",
    )
    event = webhook_events.test_publish(endpoint=endpoint)
    delivery = event.deliveries.get()
    now = timezone.now()
    for number, status, body, error in [
        (1, None, "", "Not sent: hooks.example.com resolves to 10.0.0.7, a private address"),
        (2, 500, "<html><body>Internal Server Error " + "x" * 300 + "</body></html>", ""),
        (3, 200, '{"received": true}', ""),
    ]:
        Attempt.objects.create(
            endpoint=endpoint,
            delivery=delivery,
            number=number,
            started_at=now,
            duration_ms=120 * number,
            status_code=status,
            error=error,
            response_body=body,
        )
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED, attempts=3)


def _archive(account, facility, settings, tmp_path, monkeypatch) -> None:
    """Three-year-old history, archived by the retention task: one row on the archives page."""
    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now()
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: now - timedelta(days=3 * 365))
        lock_event_record(
            lock=facility.locks.filter(unit__isnull=False).first(),
            kind=LockEvent.Kind.STATUS_CHANGED,
            actor_type=LockEvent.Actor.SYSTEM,
        )
    history_archive_account(account=account, now=timezone.now())


def _list_pages(facility, key) -> list[tuple[str, str]]:
    return [
        ("facilities", reverse("facilities:facility_list")),
        ("units", reverse("facilities:facility_detail", args=[facility.pk])),
        ("locks", reverse("facilities:facility_locks", args=[facility.pk])),
        ("api-settings", reverse("integrations:api_settings")),
        ("api-key", reverse("integrations:api_key_detail", args=[key.pk])),
        ("integrations-facilities", reverse("integrations:facility_list")),
        ("activity", reverse("integrations:activity")),
        ("team", reverse("team:member_list")),
        ("release-activity", reverse("facilities:release_activity")),
        ("lock", reverse("facilities:lock_detail", args=[facility.locks.first().pk])),
        ("search", reverse("facilities:search") + "?q=A10"),
        ("history-archives", reverse("facilities:history_archive_list")),
        ("invitations", reverse("accounts:invitations")),
        ("lock-usage", reverse("reports:lock_usage")),
        ("overlocks-by-age", reverse("reports:overlocks_by_age")),
        ("remove-overlock-queue", reverse("reports:remove_overlock_queue")),
        ("code-disclosures", reverse("reports:code_disclosures")),
        ("audit-export", reverse("reports:audit_export")),
        ("webhooks", reverse("webhooks:endpoint_list")),
        (
            "webhook-log",
            reverse("webhooks:endpoint_log", args=[Endpoint.objects.get(account=key.account).pk]),
        ),
        ("automations", reverse("automations:rule_list")),
        (
            "automation-rule",
            reverse(
                "automations:rule_edit", args=[Rule.objects.filter(account=key.account).last().pk]
            ),
        ),
        ("automations-activity", reverse("automations:activity")),
        ("automations-payments", reverse("automations:payments_upload")),
    ]


_WIDER_THAN_SCREEN = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(e => e.tagName + "." + e.className)"""


def _assert_fits(page, name: str) -> None:
    width = page.evaluate("window.innerWidth")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(_WIDER_THAN_SCREEN)
    assert scroll_width <= width, f"{name}: {scroll_width}px wide on a {width}px screen: {wide}"
    actions = page.locator(ROW_ACTIONS)
    assert actions.count() or name in NO_ROW_ACTIONS, f"{name}: no row actions found"
    for index in range(actions.count()):
        action = actions.nth(index)
        action.scroll_into_view_if_needed()
        box = action.bounding_box()
        assert box is not None, f"{name}: action {index} is not rendered"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (
            f"{name}: {action.evaluate('e => e.outerHTML')[:120]} is outside the screen"
        )
        action.click(trial=True)  # visible, enabled, and nothing covers it


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_every_list_page_fits_the_screen_and_passes_axe(
    page, owner, password, portfolio, screenshot, assert_accessible, viewport
):
    facility, key = portfolio
    page.set_viewport_size(PHONE if viewport == "phone" else DESKTOP)
    sign_in(page, owner.email, password)
    suffix = "-phone" if viewport == "phone" else ""
    for name, url in _list_pages(facility, key):
        page.mouse.move(0, 0)  # no hover left over from the trial clicks of the last page
        page.goto(url)
        expect(page.locator("main h1, main h2").first).to_be_visible()
        screenshot(f"{name}{suffix}")
        if name == "api-key":
            chart = page.locator("section", has=page.locator("#usage-heading"))
            chart.screenshot(path=str(screenshot.folder / f"usage-chart{suffix}.png"))
        assert_accessible(f"{name} at {viewport} width")
        _assert_fits(page, name)


def test_the_navigation_and_search_fit_a_phone(page, owner, password, portfolio, screenshot):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email, password)
    page.get_by_role("button", name="Toggle navigation").click()
    search = page.get_by_label("Search units and locks by serial or unit number")
    expect(search).to_be_visible()
    for link in ("Facilities", "Integrations", "Team", "Reports"):
        expect(page.get_by_role("link", name=link, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("navigation-phone")
    search.fill("HD000100")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Lock HD000100")).to_be_visible()


def test_reveal_in_place_on_the_units_tab_keeps_filter_and_page(
    page, owner, password, facility, monkeypatch, screenshot, assert_accessible
):
    monkeypatch.setattr("facilities.views.common.PER_PAGE", 2)
    UnitFactory(facility=facility, unit_number="A1")
    for n in range(1, 6):
        unit = UnitFactory(facility=facility, unit_number=f"B{n}")
        assigned_lock(unit, serial=f"HD00010{n}", code=f"{n}{n}{n}{n}")
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email, password)
    page.goto(reverse("facilities:facility_detail", args=[facility.pk]))
    page.get_by_label("Unit number or serial").fill("B")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()

    page.get_by_role("button", name="Reveal the code of lock HD000104").click()
    # @recently_confirmed asks for the password first, carrying the list through.
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm and continue").click()

    row = page.get_by_role("row").filter(has_text="B4")
    expect(row.locator("output")).to_have_text("4444")
    expect(page.get_by_label("Unit number or serial")).to_have_value("B")
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    rows = page.locator("tbody tr th[scope=row]")
    expect(rows).to_have_text(["B3", "B4"])
    expect(page.get_by_role("button", name="Reveal the code of lock HD000103")).to_be_visible()
    assert "3333" not in page.content()
    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_REVEALED)
    assert (event.lock.serial, event.actor_user) == ("HD000104", owner)
    screenshot("units-revealed-in-place-phone")
    assert_accessible("units tab with a code revealed")

    # The list's own links still work from the answer to the POST.
    page.get_by_role("link", name="Previous").click()
    expect(rows).to_have_text(["B1", "B2"])
    assert "4444" not in page.content()
