"""Integrations → Automations pages: who sees them, the rules (add, edit, Enabled, move,
delete, each audited), the activity list and the CSV upload of payments."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from automations import engine
from automations.models import AutomationRun, FmsEvent, Rule
from davinci.accounts.models import AuditEvent
from facilities.forms import ImportConfirmForm
from facilities.models import LockStatus
from tests.automations.conftest import PAID_AT
from tests.factories import UnitFactory, assigned_lock

RULES = reverse("automations:rule_list")
ACTIVITY = reverse("automations:activity")
UPLOAD = reverse("automations:payments_upload")


def _payment_rule(account):
    return Rule.objects.get(account=account, default="payment")


def _chosen_rule(account, facility, **fields):
    rule = Rule.objects.create(
        account=account,
        position=5,
        trigger="move_out",
        statuses=["tenant_using_lock"],
        set_status="assigned_vacant",
        all_facilities=False,
        **fields,
    )
    rule.facilities.set([facility])
    return rule


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner_client", "admin_client"])
def test_owners_and_client_admins_see_the_rules_in_order(request, who):
    response = request.getfixturevalue(who).get(RULES)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Payment received") < page.index("Move-in")
    assert "Set Returned to Dropbox and send “Unlock and Delinquency Paid”" in page
    assert 'href="/integrations/automations/"' in page  # the Automations tab


@pytest.mark.parametrize("who", ["manager_client", "restricted_client", "call_center_client"])
@pytest.mark.parametrize("url", [RULES, ACTIVITY, UPLOAD])
def test_other_roles_are_refused_every_page(request, who, url):
    assert request.getfixturevalue(who).get(url).status_code == 403


def test_the_tab_is_only_shown_to_who_may_open_it(owner_client, manager_client):
    assert "Automations" in owner_client.get(reverse("integrations:api_settings")).content.decode()
    assert (
        "Automations"
        not in manager_client.get(reverse("facilities:facility_list")).content.decode()
    )


def test_a_restricted_admin_sees_account_wide_rules_read_only_and_not_other_facilities_rules(
    account, facility, second_facility, facility_restricted_client
):
    hidden = _chosen_rule(account, facility)
    theirs = _chosen_rule(account, second_facility, notice="")
    page = facility_restricted_client.get(RULES).content.decode()
    assert "Payment received" in page
    assert reverse("automations:rule_edit", args=[_payment_rule(account).pk]) not in page
    assert reverse("automations:rule_edit", args=[theirs.pk]) in page
    assert reverse("automations:rule_edit", args=[hidden.pk]) not in page
    assert (
        facility_restricted_client.get(
            reverse("automations:rule_edit", args=[hidden.pk])
        ).status_code
        == 404
    )
    assert (
        facility_restricted_client.get(
            reverse("automations:rule_edit", args=[_payment_rule(account).pk])
        ).status_code
        == 403
    )
    refused = facility_restricted_client.post(
        reverse("automations:rule_enable", args=[_payment_rule(account).pk])
    )
    assert refused.status_code == 403
    assert _payment_rule(account).enabled
    moved = facility_restricted_client.post(
        reverse("automations:rule_move", args=[theirs.pk]), {"direction": "up"}
    )
    assert moved.status_code == 403


def test_another_accounts_rule_is_404(other_owner_client, account):
    url = reverse("automations:rule_edit", args=[_payment_rule(account).pk])
    assert other_owner_client.get(url).status_code == 404


# --- Rules --------------------------------------------------------------------------------------


def test_turning_a_rule_off_and_on_is_audited(owner_client, account):
    rule = _payment_rule(account)
    url = reverse("automations:rule_enable", args=[rule.pk])
    assert owner_client.post(url, {}).status_code == 302
    rule.refresh_from_db()
    assert not rule.enabled
    owner_client.post(url, {"enabled": "on"})
    rule.refresh_from_db()
    assert rule.enabled
    actions = AuditEvent.objects.filter(account=account).values_list("action", flat=True)
    assert list(actions.order_by("id")) == ["rule_disabled", "rule_enabled"]


def test_the_enable_toggle_refuses_get(owner_client, account):
    url = reverse("automations:rule_enable", args=[_payment_rule(account).pk])
    assert owner_client.get(url).status_code == 405


def test_adding_a_rule_for_chosen_facilities(owner_client, account, facility):
    response = owner_client.post(
        reverse("automations:rule_create"),
        {
            "trigger": "move_out",
            "statuses": ["tenant_using_lock"],
            "set_status": "assigned_vacant",
            "notice": "",
            "facilities": facility.facility_id,
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    rule = Rule.objects.get(account=account, trigger="move_out")
    assert (rule.position, rule.all_facilities, list(rule.facilities.all())) == (
        3,
        False,
        [facility],
    )
    assert AuditEvent.objects.get(account=account).action == "rule_created"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"trigger": "payment_received", "statuses": ["assigned_overlock"]},
            "Choose what the rule does",
        ),
        ({"trigger": "payment_received"}, "Choose at least one lock status."),
        (
            {
                "trigger": "payment_received",
                "statuses": ["assigned_overlock"],
                "notice": "delinquency_paid",
            },
            "is sent only for a lock that is Returned to Dropbox",
        ),
        (
            {
                "trigger": "payment_received",
                "statuses": ["assigned_auction"],
                "notice": "new_rental",
            },
            "Select a valid choice",
        ),
        (
            {"trigger": "nonsense", "statuses": ["assigned_vacant"], "notice": "new_rental"},
            "Select a valid choice",
        ),
    ],
)
def test_a_rule_that_cannot_work_is_a_form_error(owner_client, account, data, message):
    response = owner_client.post(
        reverse("automations:rule_create"), {**data, "all_facilities": "on"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Rule.objects.filter(account=account).count() == 2


def test_a_restricted_admin_cannot_make_an_all_facilities_rule(facility_restricted_client, account):
    response = facility_restricted_client.post(
        reverse("automations:rule_create"),
        {
            "trigger": "move_in",
            "statuses": ["assigned_vacant"],
            "notice": "new_rental",
            "all_facilities": "on",
        },
    )
    assert "Only a user with All Facilities can make a rule for All Facilities" in (
        response.content.decode()
    )
    assert Rule.objects.filter(account=account).count() == 2


def test_editing_the_default_rule_records_what_changed(owner_client, account):
    rule = _payment_rule(account)
    response = owner_client.post(
        reverse("automations:rule_edit", args=[rule.pk]),
        {
            "trigger": "payment_received",
            "statuses": ["assigned_overlock"],
            "set_status": "returned_to_dropbox",
            "notice": "",
            "all_facilities": "on",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.notice == ""
    audit = AuditEvent.objects.get(account=account)
    assert audit.details["changes"] == {"notice": ["delinquency_paid", ""]}


def test_moving_a_rule_swaps_it_with_its_neighbour(owner_client, account):
    move_in = Rule.objects.get(account=account, default="move_in")
    owner_client.post(reverse("automations:rule_move", args=[move_in.pk]), {"direction": "up"})
    order = list(Rule.objects.for_account(account).values_list("default", flat=True))
    assert order == ["move_in", "payment"]


def test_a_rule_of_the_account_is_deleted_but_a_default_never(owner_client, account, facility):
    rule = _chosen_rule(account, facility)
    assert owner_client.get(reverse("automations:rule_delete", args=[rule.pk])).status_code == 200
    owner_client.post(reverse("automations:rule_delete", args=[rule.pk]))
    assert not Rule.objects.filter(pk=rule.pk).exists()
    default = _payment_rule(account)
    response = owner_client.post(reverse("automations:rule_delete", args=[default.pk]), follow=True)
    assert "A default rule cannot be deleted: turn it off instead." in response.content.decode()
    assert Rule.objects.filter(pk=default.pk).exists()


# --- Activity -----------------------------------------------------------------------------------


def test_the_activity_list_shows_each_run_and_filters(owner_client, owner, facility, overlocked):
    engine.fms_event_receive(
        unit=overlocked.unit,
        type="payment_received",
        occurred_at=PAID_AT,
        reference="RC-9",
        user=owner,
    )
    other = UnitFactory(facility=facility, unit_number="Z9")
    engine.fms_event_receive(unit=other, type="payment_received", occurred_at=PAID_AT, user=owner)
    page = owner_client.get(ACTIVITY).content.decode()
    assert "RC-9" in page and "Acted" in page and "Unit Z9 has no lock." in page
    only_b12 = owner_client.get(ACTIVITY, {"unit": "B12"}).content.decode()
    assert "RC-9" in only_b12 and "Z9" not in only_b12
    nothing = owner_client.get(ACTIVITY, {"result": "nothing", "facility": facility.name})
    assert "RC-9" not in nothing.content.decode()
    unknown = owner_client.get(ACTIVITY, {"facility": "nowhere", "result": "bogus"})
    assert unknown.status_code == 200
    assert "No facility of yours has this name or Facility ID." in unknown.content.decode()


def test_the_activity_list_pages_by_keyset_without_counting(
    owner_client, owner, facility, django_assert_max_num_queries
):
    unit = UnitFactory(facility=facility, unit_number="N1")
    for _ in range(55):
        engine.fms_event_receive(unit=unit, type="move_out", occurred_at=PAID_AT, user=owner)
    with django_assert_max_num_queries(12):
        first = owner_client.get(ACTIVITY)
    assert first.context["page"].older and not first.context["page"].newer
    older = owner_client.get(ACTIVITY, {"before": first.context["page"].older})
    assert len(older.context["page"].rows) == 5
    assert older.context["page"].newer
    assert owner_client.get(ACTIVITY, {"before": "x" * 40}).status_code == 200


def test_a_restricted_admin_sees_only_their_facilities_activity(
    facility_restricted_client, owner, facility, overlocked
):
    engine.fms_event_receive(
        unit=overlocked.unit, type="payment_received", occurred_at=PAID_AT, user=owner
    )
    assert AutomationRun.objects.count() == 1
    page = facility_restricted_client.get(ACTIVITY).content.decode()
    assert "B12" not in page


# --- Payments by CSV ----------------------------------------------------------------------------


def _csv(text: str, name: str = "payments.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_uploaded_payments_are_previewed_then_received(
    owner_client, account, facility, overlocked, django_capture_on_commit_callbacks
):
    vacant = assigned_lock(
        UnitFactory(facility=facility, unit_number="V1"), LockStatus.ASSIGNED_VACANT
    )
    text = (
        "Facility,Unit,Payment Date,Receipt\n"
        f"{facility.facility_id},B12,2026-03-02,RC-1\n"
        f"{facility.facility_id.upper()},V1,03/02/2026 14:30,RC-2\n"
    )
    preview = owner_client.post(UPLOAD, {"file": _csv(text)})
    page = preview.content.decode()
    assert "Ready: 2 payments" in page
    assert "Set Returned to Dropbox and send “Unlock and Delinquency Paid” (lock OV000001)." in page
    assert "Nothing: the lock is Assigned Vacant." in page
    assert not FmsEvent.objects.exists()
    payload = preview.context["confirm_form"].initial["payload"]
    with django_capture_on_commit_callbacks(execute=True):
        applied = owner_client.post(reverse("automations:payments_apply"), {"payload": payload})
    assert applied.url == ACTIVITY
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX
    assert len(mail.outbox) == 1
    assert sorted(FmsEvent.objects.values_list("reference", "source")) == [
        ("RC-1", "csv"),
        ("RC-2", "csv"),
    ]
    vacant.refresh_from_db()
    assert vacant.status == LockStatus.ASSIGNED_VACANT
    assert AuditEvent.objects.get(account=account).details == {
        "filename": "payments.csv",
        "payments": 2,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unit_number,paid_at\nB12,2026-03-02\n", "facility_id: add the Facility ID"),
        (
            "facility_id,unit_number,paid_at\nnope,B12,2026-03-02\n",
            "No facility of yours has the ID “nope”.",
        ),
        (
            "facility_id,unit_number,paid_at\n{fid},Q1,2026-03-02\n",
            "Harbor Downtown has no unit “Q1”.",
        ),
        ("facility_id,unit_number,paid_at\n{fid},B12,yesterday\n", "paid_at: write the date as"),
        ("facility_id,unit_number,paid_at\n{fid},B12,2999-01-01\n", "the payment is in the future"),
        ("facility,amount\n", "Unknown column “amount”."),
        ("facility_id,unit_number,paid_at\n", "The file has no payments."),
    ],
)
def test_a_bad_payments_file_is_shown_by_line_and_nothing_is_received(
    owner_client, facility, overlocked, text, message
):
    response = owner_client.post(UPLOAD, {"file": _csv(text.format(fid=facility.facility_id))})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not FmsEvent.objects.exists()


def test_a_payment_at_a_facility_outside_the_members_is_unknown(
    facility_restricted_client, facility, overlocked
):
    text = f"facility_id,unit_number,paid_at\n{facility.facility_id},B12,2026-03-02\n"
    response = facility_restricted_client.post(UPLOAD, {"file": _csv(text)})
    assert "No facility of yours has the ID" in response.content.decode()


def test_a_tampered_payments_preview_is_refused(owner_client):
    response = owner_client.post(
        reverse("automations:payments_apply"), {"payload": "x"}, follow=True
    )
    assert "This preview could not be read." in response.content.decode()
    assert not FmsEvent.objects.exists()


def test_a_facility_imports_preview_cannot_be_applied_as_payments(owner_client, facility):
    payload = ImportConfirmForm.seal(facility=facility, filename="x.csv", text="a", fingerprint="")
    response = owner_client.post(
        reverse("automations:payments_apply"), {"payload": payload}, follow=True
    )
    assert "This preview is for another account." in response.content.decode()
