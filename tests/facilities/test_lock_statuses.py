"""Lock statuses as DaVinci Lock defines them (docs/lock-statuses.md): which keep their
unit, which count towards the lock limit (and so keep their code), Release overlock and the
notices that send a tenant their code."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci import sms
from facilities import services
from facilities.forms import LockAdminForm
from facilities.history import Actor
from facilities.imports import plan_import
from facilities.models import LIMIT_STATUSES, UNIT_STATUSES, Lock, LockEvent, LockStatus
from tests.factories import FacilityFactory, LockFactory, UnitFactory

IP = "192.0.2.10"
COUNTING = sorted(LIMIT_STATUSES)
NOT_COUNTING = sorted(set(LockStatus) - LIMIT_STATUSES)


def lock_in_status(facility, status: str, *, serial: str = "ST000001", code: str = "2468") -> Lock:
    unit = UnitFactory(facility=facility) if status in UNIT_STATUSES else None
    return LockFactory(facility=facility, unit=unit, status=status, serial=serial, code=code)


def test_the_table_of_statuses():
    """docs/lock-statuses.md's table: on a unit, and counting towards the limit."""
    assert set(UNIT_STATUSES) == {
        "assigned_vacant",
        "assigned_overlock",
        "tenant_using_lock",
        "assigned_auction",
        "assigned_other",
        "assigned_vendor",
        "returned_to_dropbox",
    }
    assert set(LIMIT_STATUSES) == UNIT_STATUSES | {"on_dropbox"}
    assert set(NOT_COUNTING) == {"available", "damaged", "lost", "sold", "unscannable"}


# --- The code changes only in a status that does not count ------------------------------------


@pytest.mark.parametrize("status", COUNTING)
def test_model_refuses_a_new_code_in_a_counting_status(facility, status):
    lock = lock_in_status(facility, status)
    lock = Lock.objects.get(pk=lock.pk)
    lock.unlock_code = "1111"
    with pytest.raises(Exception) as exc:
        lock.full_clean()
    assert "code_locked" in [e.code for e in exc.value.error_dict["unlock_code"]]


@pytest.mark.parametrize("status", NOT_COUNTING)
def test_model_accepts_a_new_code_in_a_status_that_does_not_count(facility, status):
    lock = Lock.objects.get(pk=lock_in_status(facility, status).pk)
    lock.unlock_code = "1111"
    lock.full_clean()


@pytest.mark.parametrize("status", COUNTING)
def test_admin_form_refuses_a_new_code_in_a_counting_status(facility, status):
    lock = Lock.objects.get(pk=lock_in_status(facility, status).pk)
    data = {
        "account": lock.account_id,
        "facility": lock.facility_id,
        "serial": lock.serial,
        "status": lock.status,
        "unit": lock.unit_id or "",
        "unlock_code": "1111",
    }
    form = LockAdminForm(data, instance=lock)
    assert not form.is_valid()
    assert "does not count towards the lock limit" in str(form.errors["unlock_code"])


@pytest.mark.parametrize("status", COUNTING)
def test_set_code_refuses_a_new_code_in_a_counting_status(owner_client, facility, status):
    lock = lock_in_status(facility, status)
    url = reverse("facilities:lock_code", args=[lock.pk])
    response = owner_client.post(url, {"unlock_code": "1111"})
    assert response.status_code == 200
    assert "does not count towards the lock limit" in response.content.decode()
    lock.refresh_from_db()
    assert lock.unlock_code == "2468"
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SET).exists()


@pytest.mark.parametrize("status", sorted(LockStatus))
def test_csv_import_never_gives_an_existing_lock_a_new_code(facility, owner, status):
    """In a counting status the code may not change; in any other, Set code changes it, with
    its record: an import leaves every existing lock's code as it is, and says so."""
    lock = lock_in_status(facility, status)
    unit_number = lock.unit.unit_number if lock.unit_id else ""
    text = (
        "unit_number,serial,status,unlock_code\n"
        f"{unit_number},{lock.serial},{LockStatus(status).label},1111\n"
    )
    plan = plan_import(facility=facility, text=text, filename="locks.csv")
    assert plan.is_valid and plan.codes_ignored == 1 and not plan.has_changes
    services.facility_import_commit(
        facility=facility, text=text, filename="locks.csv", user=owner, ip=IP
    )
    lock.refresh_from_db()
    assert lock.unlock_code == "2468"


# --- The lock limit ----------------------------------------------------------------------------


@pytest.fixture
def one_lock_per_status(facility):
    for index, status in enumerate(LockStatus, start=1):
        lock_in_status(facility, status, serial=f"LM{index:06d}")
    return facility


def test_limit_count_over_every_status(one_lock_per_status):
    facility = type(one_lock_per_status).objects.with_counts().get(pk=one_lock_per_status.pk)
    assert (facility.lock_count, facility.limit_count) == (13, 8)
    counted = set(facility.locks.counting_towards_limit().values_list("status", flat=True))
    assert counted == LIMIT_STATUSES


def test_facilities_list_shows_each_count_and_the_accounts_total(owner_client, one_lock_per_status):
    other = FacilityFactory(account=one_lock_per_status.account, name="Harbor Eastside")
    lock_in_status(other, LockStatus.ON_DROPBOX, serial="LM000099")
    lock_in_status(other, LockStatus.LOST, serial="LM000098")
    page = owner_client.get(reverse("facilities:facility_list")).content.decode()
    limit_cell = '<td data-label="Counting towards the lock limit" class="text-end">{}</td>'
    assert limit_cell.format(8) in page
    assert limit_cell.format(1) in page
    assert "<strong>9</strong> locks of" in page


@pytest.mark.parametrize("client_fixture", ["manager_client", "call_center_client"])
def test_the_accounts_total_is_for_owners_and_admins(request, client_fixture, one_lock_per_status):
    client = request.getfixturevalue(client_fixture)
    page = client.get(reverse("facilities:facility_list")).content.decode()
    assert "account-lock-limit" not in page
    # Each facility's count is for everyone.
    assert '<td data-label="Counting towards the lock limit" class="text-end">8</td>' in page


def test_admin_sees_the_accounts_total(admin_client, one_lock_per_status):
    page = admin_client.get(reverse("facilities:facility_list")).content.decode()
    assert "<strong>8</strong> locks of" in page


@pytest.mark.parametrize("name", ["facility_detail", "facility_locks"])
def test_facility_pages_show_the_facilitys_count(owner_client, one_lock_per_status, name):
    page = owner_client.get(reverse(f"facilities:{name}", args=[one_lock_per_status.pk]))
    assert "8 of 13 locks count towards the lock limit" in page.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["facility_list", "facility_detail", "facility_locks"])
def test_pages_with_lock_limit_counts_keep_a_constant_number_of_queries(
    owner_client, facility, name
):
    args = [] if name == "facility_list" else [facility.pk]
    url = reverse(f"facilities:{name}", args=args)
    lock_in_status(facility, LockStatus.ASSIGNED_OVERLOCK, serial="QC000000")
    before = _queries(owner_client, url)
    for index, status in enumerate(LockStatus, start=1):
        lock_in_status(facility, status, serial=f"QC{index:06d}")
    for number in range(5):
        more = FacilityFactory(account=facility.account, name=f"More {number}")
        lock_in_status(more, LockStatus.ASSIGNED_OVERLOCK, serial=f"QM{number:06d}")
    assert _queries(owner_client, url) == before


# --- Release overlock ------------------------------------------------------------------------


@pytest.fixture
def _sms(settings):
    settings.SMS_BACKEND = "davinci.sms.LocMemBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """`with sent():` runs the outbox's sends the way `make run` does: in-process once the
    request has committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _release(client, lock, **data):
    return client.post(reverse("facilities:lock_release", args=[lock.pk]), data)


def test_release_keeps_the_lock_on_its_unit_with_one_event(owner_client, overlocked, mailoutbox):
    unit = overlocked.unit
    response = _release(owner_client, overlocked)
    assert response.status_code == 302
    overlocked.refresh_from_db()
    assert (overlocked.status, overlocked.unit) == (LockStatus.RETURNED_TO_DROPBOX, unit)
    event = LockEvent.objects.get(lock=overlocked)
    assert (event.kind, event.unit, event.from_status, event.to_status) == (
        LockEvent.Kind.RELEASED,
        unit,
        LockStatus.ASSIGNED_OVERLOCK,
        LockStatus.RETURNED_TO_DROPBOX,
    )
    assert mailoutbox == []  # the notice was not asked for


@pytest.mark.usefixtures("_sms")
def test_release_with_the_notice_sends_the_code_by_email_and_text(owner_client, overlocked, sent):
    unit = overlocked.unit
    next_url = reverse("facilities:unit_detail", args=[unit.pk])
    with sent():
        response = _release(owner_client, overlocked, notify="on", next=next_url)
    assert response.url == next_url
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [unit.tenant_email]
    assert "2468" in mail.outbox[0].body
    assert [m.to for m in sms.outbox] == [unit.tenant_phone]
    assert "2468" in sms.outbox[0].body
    sent = LockEvent.objects.filter(lock=overlocked, kind=LockEvent.Kind.CODE_SENT)
    assert sorted((e.details["notice"], e.details["channel"]) for e in sent) == [
        ("delinquency_paid", "email"),
        ("delinquency_paid", "sms"),
    ]
    page = owner_client.get(next_url).content.decode()
    assert "Unlock and Delinquency Paid notice with the code is on its way to" in page
    assert "Returned to Dropbox" in page


def test_the_notice_is_on_by_default_when_there_is_a_contact(owner_client, overlocked):
    page = owner_client.get(reverse("facilities:lock_detail", args=[overlocked.pk]))
    html = page.content.decode()
    assert "Release overlock" in html
    assert 'id="release_notify" checked' in html


def test_without_a_contact_the_notice_is_off_and_said_why(owner_client, overlocked):
    unit = overlocked.unit
    unit.tenant_email = unit.tenant_phone = ""
    unit.save()
    html = owner_client.get(reverse("facilities:unit_detail", args=[unit.pk])).content.decode()
    assert "No email address or phone number on file" in html
    assert _release(owner_client, overlocked, notify="on").status_code == 302
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()


@pytest.mark.usefixtures("_sms")
def test_a_failed_send_is_recorded_and_said(owner_client, overlocked, settings, sent):
    settings.EMAIL_BACKEND = "tests.release.failing_backends.RefusingEmailBackend"
    with sent():
        response = _release(owner_client, overlocked, notify="on")
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX  # the release itself holds
    failed = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SEND_FAILED)
    assert failed.details["channel"] == "email"
    assert failed.details["notice"] == "delinquency_paid"
    assert "2468" not in str(failed.details)
    sent = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert sent.details["channel"] == "sms"
    page = owner_client.get(response.url).content.decode()
    assert "Code could not be sent" in page  # in the history
    assert "not sent after every retry" in page


@pytest.mark.parametrize("status", sorted(set(LockStatus) - {LockStatus.ASSIGNED_OVERLOCK}))
def test_only_an_assigned_overlock_lock_can_be_released(owner_client, facility, status):
    lock = lock_in_status(facility, status)
    response = _release(owner_client, lock, notify="on")
    assert response.status_code == 200
    assert "Only an Assigned Overlock lock can be released" in response.content.decode()
    lock.refresh_from_db()
    assert lock.status == status
    assert not LockEvent.objects.exists()


def test_call_center_users_release_an_overlock(call_center_client, overlocked):
    """DaVinci's call center sets Returned to Dropbox: the tenant paid on the phone."""
    page = call_center_client.get(reverse("facilities:unit_detail", args=[overlocked.unit_id]))
    assert "Release overlock" in page.content.decode()
    assert _release(call_center_client, overlocked).status_code == 302
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX


def test_call_center_users_cannot_send_a_new_rental_notice(call_center_client, facility):
    lock = lock_in_status(facility, LockStatus.ASSIGNED_VACANT)
    page = call_center_client.get(reverse("facilities:unit_detail", args=[lock.unit_id]))
    assert "Send code to new tenant" not in page.content.decode()
    assert _notify(call_center_client, lock).status_code == 403
    assert not LockEvent.objects.exists()


def test_a_member_without_the_facility_cannot_release(facility_restricted_client, facility):
    lock = lock_in_status(facility, LockStatus.ASSIGNED_OVERLOCK)
    assert _release(facility_restricted_client, lock).status_code == 404


def test_release_of_another_accounts_lock_is_not_found(owner_client, other_facility):
    lock = lock_in_status(other_facility, LockStatus.ASSIGNED_OVERLOCK, serial="RV000202")
    assert _release(owner_client, lock).status_code == 404


def test_next_outside_the_site_is_ignored(owner_client, overlocked):
    response = _release(owner_client, overlocked, next="https://evil.example.com/")
    assert response.url == reverse("facilities:lock_detail", args=[overlocked.pk])


# --- Send code to new tenant -----------------------------------------------------------------


def _notify(client, lock):
    return client.post(reverse("facilities:lock_notify_new_tenant", args=[lock.pk]))


def test_send_code_to_new_tenant_of_a_rented_vacant_unit(owner_client, facility, mailoutbox, sent):
    lock = lock_in_status(facility, LockStatus.ASSIGNED_VACANT)
    page = owner_client.get(reverse("facilities:unit_detail", args=[lock.unit_id]))
    assert "Send code to new tenant" in page.content.decode()
    with sent():
        response = _notify(owner_client, lock)
    assert response.status_code == 302
    assert mailoutbox[0].to == [lock.unit.tenant_email]
    assert "2468" in mailoutbox[0].body
    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert event.details["notice"] == "new_rental"
    assert event.details["notice_label"] == "Unlock and New Rental"
    lock.refresh_from_db()
    assert lock.status == LockStatus.ASSIGNED_VACANT


@pytest.mark.parametrize(
    "status", sorted(set(UNIT_STATUSES) - {LockStatus.ASSIGNED_VACANT}), ids=str
)
def test_new_rental_notice_is_only_for_assigned_vacant(owner_client, facility, status, mailoutbox):
    lock = lock_in_status(facility, status)
    response = _notify(owner_client, lock)
    assert response.status_code == 302
    assert mailoutbox == []
    assert not LockEvent.objects.exists()
    message = "No notice is ever sent" if status == LockStatus.ASSIGNED_AUCTION else "only for"
    assert message in owner_client.get(response.url).content.decode()


def test_no_notice_is_ever_sent_for_assigned_auction(auction_lock, owner, mailoutbox):
    from facilities.notices import Notice, tenant_notice_send

    for notice in Notice:
        with pytest.raises(Exception, match="No notice is ever sent"):
            tenant_notice_send(lock=auction_lock, notice=notice, actor=Actor.for_user(owner, ip=IP))
    assert mailoutbox == []


# --- Setting a lock Available ------------------------------------------------------------------


def test_setting_an_overlock_available_needs_the_warning_confirmed(owner_client, overlocked):
    url = reverse("facilities:lock_unassign", args=[overlocked.pk])
    page = owner_client.get(reverse("facilities:lock_detail", args=[overlocked.pk]))
    assert "will no longer send the tenant the code" in page.content.decode()
    response = owner_client.post(url, {"status": "available"})
    assert response.status_code == 200
    assert "has not been released" in response.content.decode()
    overlocked.refresh_from_db()
    assert overlocked.unit_id is not None
    response = owner_client.post(url, {"status": "available", "confirm_unreleased": "on"})
    assert response.status_code == 302
    overlocked.refresh_from_db()
    assert (overlocked.unit, overlocked.status) == (None, LockStatus.AVAILABLE)


def test_a_released_lock_set_available_leaves_its_unit(owner_client, overlocked, owner):
    services.lock_release(lock=overlocked, actor=Actor.for_user(owner, ip=IP))
    url = reverse("facilities:lock_unassign", args=[overlocked.pk])
    assert owner_client.post(url, {"status": "available"}).status_code == 302
    overlocked.refresh_from_db()
    assert (overlocked.unit, overlocked.status) == (None, LockStatus.AVAILABLE)


def test_change_status_on_a_unit_offers_returned_to_dropbox(owner_client, overlocked):
    url = reverse("facilities:lock_status", args=[overlocked.pk])
    assert owner_client.post(url, {"status": "returned_to_dropbox"}).status_code == 302
    overlocked.refresh_from_db()
    assert overlocked.status == LockStatus.RETURNED_TO_DROPBOX
    assert overlocked.unit.unit_number == "B202"
