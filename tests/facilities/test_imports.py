"""CSV import: the preview (every row's errors by line, no writes, bounded queries), the
all-or-nothing commit, idempotence, and the export it round-trips with."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilities import imports, services
from facilities.forms import ImportConfirmForm
from facilities.models import Lock, LockEvent, Unit
from tests.factories import FacilityFactory, LockFactory, UnitFactory

HEADER = "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n"
GOOD = (
    HEADER
    + "A101,Avery Johnson,avery@example.com,(603) 555-0101,HD000101,4821,Assigned Overlock\n"
    + "A102,Blake Carter,blake@example.com,(603) 555-0102,,,\n"
    + "007,Casey Morgan,,,HD000007,5190,tenant_using_lock\n"
    + ",,,,HD000102,7305,Available\n"
)


def _plan(facility, text):
    return services.facility_import_preview(facility=facility, text=text, filename="t.csv")


def _commit(facility, text, user):
    return services.facility_import_commit(
        facility=facility, text=text, filename="t.csv", user=user, ip="192.0.2.5"
    )


def _errors(plan) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in plan.errors]


# --- Planning and writing ---------------------------------------------------------------------


def test_a_valid_file_writes_units_locks_and_one_event_per_lock(facility, owner):
    plan, result = _commit(facility, GOOD, owner)
    assert plan.is_valid and result is not None
    assert (result.units_created, result.locks_created, result.events) == (3, 3, 3)
    a101 = Unit.objects.get(facility=facility, unit_number="A101")
    assert (a101.tenant_name, a101.tenant_phone) == ("Avery Johnson", "+16035550101")
    lock = Lock.objects.get(serial="HD000101")
    assert (lock.unit, lock.status, lock.unlock_code) == (a101, "assigned_overlock", "4821")
    assert lock.account == facility.account and "4821" not in lock.unlock_code_encrypted
    assert Lock.objects.get(serial="HD000007").unit.unit_number == "007"
    assert Lock.objects.get(serial="HD000102").unit is None
    event = LockEvent.objects.get(lock=lock)
    assert (event.kind, event.actor_user, event.ip, event.unit, event.to_status) == (
        LockEvent.Kind.IMPORTED,
        owner,
        "192.0.2.5",
        a101,
        "assigned_overlock",
    )
    assert event.details == {"file": "t.csv", "line": 2, "changes": ["created"]}


def test_importing_the_same_file_again_changes_nothing(facility, owner):
    _commit(facility, GOOD, owner)
    stamps = list(Lock.objects.order_by("pk").values_list("updated_at", flat=True))
    plan = _plan(facility, GOOD)
    assert plan.is_valid and not plan.has_changes and plan.unchanged_rows == 4
    plan, result = _commit(facility, GOOD, owner)
    assert result.events == 0 and result.units_updated == 0 and result.locks_updated == 0
    assert LockEvent.objects.count() == 3
    assert Unit.objects.count() == 3 and Lock.objects.count() == 3
    assert list(Lock.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_changes_are_written_once_each(facility, owner):
    _commit(facility, GOOD, owner)
    changed = (
        HEADER
        + "A101,Avery Johnson,avery@new.example.com,(603) 555-0101,HD000101,,Assigned Auction\n"
        + ",,,,HD000102,9999,damaged\n"
    )
    plan = _plan(facility, changed)
    assert [row.changes for row in plan.units] == [["tenant_email"]]
    assert [row.changes for row in plan.locks] == [["status"], ["status"]]
    assert plan.codes_ignored == 1
    assert plan.summary() == "1 unit updated, 2 locks updated"
    _commit(facility, changed, owner)
    lock = Lock.objects.get(serial="HD000101")
    assert (lock.status, lock.unlock_code) == ("assigned_auction", "4821")  # empty code: kept
    assert Lock.objects.get(serial="HD000102").unlock_code == "7305"  # codes: Set code only
    assert LockEvent.objects.filter(lock=lock).count() == 2
    last = LockEvent.objects.filter(lock=lock).first()
    assert (last.from_status, last.to_status) == ("assigned_overlock", "assigned_auction")
    assert _plan(facility, changed).has_changes is False


def test_locks_can_swap_units_in_one_file(facility, owner):
    a, b = (
        UnitFactory(facility=facility, unit_number="A1"),
        UnitFactory(facility=facility, unit_number="B1"),
    )
    LockFactory(facility=facility, unit=a, serial="SWAP0001", status="assigned_vacant")
    LockFactory(facility=facility, unit=b, serial="SWAP0002", status="assigned_vacant")
    text = "unit_number,serial,status\nA1,SWAP0002,Assigned Vacant\nB1,SWAP0001,Assigned Overlock\n"
    plan, result = _commit(facility, text, owner)
    assert plan.is_valid, plan.errors
    assert Lock.objects.get(serial="SWAP0001").unit == b
    assert Lock.objects.get(serial="SWAP0002").unit == a
    assert result.events == 2


def test_a_lock_can_leave_its_unit_for_a_new_lock(facility, owner, overlocked):
    text = (
        "unit_number,serial,unlock_code,status\n"
        "B202,HD777777,1111,Assigned Overlock\n"
        ",HD000202,,Available\n"
    )
    plan, _ = _commit(facility, text, owner)
    assert plan.is_valid, plan.errors
    overlocked.refresh_from_db()
    assert (overlocked.unit, overlocked.status) == (None, "available")
    assert Lock.objects.get(serial="HD777777").unit.unit_number == "B202"
    left = LockEvent.objects.get(lock=overlocked)
    assert left.unit.unit_number == "B202"  # the event names the unit it left


def test_a_units_only_file_leaves_locks_alone(facility, owner, overlocked):
    text = "unit_number,tenant_name\nB202,New Tenant\nZ1,\n"
    _, result = _commit(facility, text, owner)
    assert (result.units_created, result.units_updated, result.events) == (1, 1, 0)
    overlocked.refresh_from_db()
    assert overlocked.unit.tenant_name == "New Tenant"


def test_a_file_with_one_bad_row_writes_nothing(facility, owner):
    bad = GOOD + "A103,Drew,not-an-email,,,,\n"
    plan, result = _commit(facility, bad, owner)
    assert result is None
    assert _errors(plan) == [(6, "tenant_email “not-an-email”: Enter a valid email address.")]
    assert not Unit.objects.exists() and not Lock.objects.exists()
    assert not LockEvent.objects.exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A/1,,,,,,", "unit_number “A/1”: Use letters, digits and dashes"),
        ("A9,,,12,,,", "tenant_phone “12”: Enter a phone number"),
        ("A9," + "x" * 201 + ",,,,,", "tenant_name: at most 200 characters."),
        ("A9,,,,HD1,1234,Assigned Vacant", "serial “HD1”: A serial is exactly 8"),
        ("A9,,,,HD000009,12345,Assigned Vacant", "unlock_code: An unlock code is exactly 4"),
        ("A9,,,,HD000009,1234,", "Lock HD000009: the status is missing."),
        ("A9,,,,HD000009,1234,Stolen", "status “Stolen” is not a lock status"),
        ("A9,,,,HD000009,,Assigned Vacant", "Lock HD000009 is new: its unlock_code is required."),
        (",,,,HD000009,1234,Assigned Vacant", "a lock that is Assigned Vacant needs a unit number"),
        ("A9,,,,HD000009,1234,Available", "a lock that is Available cannot be on unit A9"),
        (",,,,,1234,Available", "A code or status without a serial: add the serial."),
        (",,,,,,,extra", "The row has 8 cells; the heading has 7."),
        ("A101,,,,HD000999,1234,Assigned Vacant", "Unit A101 is already on line 2."),
        (",,,,hd000101,1234,Available", "Lock HD000101 is already on line 2."),
    ],
)
def test_each_bad_row_is_reported_by_line(facility, row, message):
    text = HEADER + "A101,,,,HD000101,1234,Assigned Vacant\n" + row + "\n"
    plan = _plan(facility, text)
    assert [line for line, _ in _errors(plan)] == [3]
    assert message in _errors(plan)[0][1]


def test_every_bad_row_is_listed_not_just_the_first(facility):
    text = HEADER + "A/1,,,,,,\nA2,,bad,,,,\nA3,,,,,,\nA4,,,,HD1,,Available\n"
    assert [line for line, _ in _errors(_plan(facility, text))] == [2, 3, 5, 5]


def test_rows_that_clash_with_the_database(facility, account, other_facility, overlocked):
    LockFactory(facility=FacilityFactory(account=account, name="Annex"), serial="AX000001")
    LockFactory(facility=other_facility, serial="RV000001")
    text = (
        HEADER
        + "B202,,,,HD000999,1234,Assigned Vacant\n"  # B202 already has HD000202
        + ",,,,AX000001,,Available\n"
        + ",,,,RV000001,1234,Available\n"
        + "C1,,,,HD000202,,Assigned Vacant\n"  # moves HD000202 off B202: fine for line 2
        + "C2,,,,HD000203,,Assigned Vacant\n"
    )
    plan = _plan(facility, text)
    assert _errors(plan) == [
        (
            3,
            "Lock AX000001 belongs to Annex. Import it there, or assign it to a unit here "
            "from the unit's page.",
        ),
        (4, "Lock RV000001 cannot be imported here: the serial is already registered."),
        (6, "Lock HD000203 is new: its unlock_code is required."),
    ]


def test_another_accounts_serial_gets_the_words_of_any_serial_this_member_cannot_use(
    account, facility, second_facility, other_facility, facility_restricted_admin
):
    """No serial oracle: a rival's lock is refused in the same words as a lock of a facility
    the member cannot see (whose name is not told either)."""
    LockFactory(facility=other_facility, serial="RV000001")
    LockFactory(facility=facility, serial="HD000777")
    membership = facility_restricted_admin.memberships.get()
    text = HEADER + ",,,,RV000001,1234,Available\n,,,,HD000777,1234,Available\n"
    plan = services.facility_import_preview(
        facility=second_facility, text=text, filename="t.csv", membership=membership
    )
    rival, hidden = (message for _line, message in _errors(plan))
    assert rival.replace("RV000001", "X") == hidden.replace("HD000777", "X")
    for message in (rival, hidden):
        assert "another account" not in message and facility.name not in message


def test_an_occupied_unit_is_refused_unless_its_lock_moves(facility, overlocked):
    text = HEADER + "B202,,,,HD000999,1234,Assigned Vacant\n"
    assert _errors(_plan(facility, text)) == [
        (
            2,
            "Unit B202 already has lock HD000202. Unassign it first, or add a row that moves "
            "HD000202 elsewhere.",
        )
    ]


def test_an_import_never_changes_the_code_of_an_existing_lock(facility, overlocked, owner):
    same = "unit_number,serial,unlock_code,status\nB202,HD000202,2468,Assigned Overlock\n"
    other = same.replace("2468", "1111")
    for text in (same, other):
        plan = _plan(facility, text)
        assert plan.is_valid and not plan.has_changes and plan.codes_ignored == 1
        _commit(facility, text, owner)
    assert Lock.objects.get(serial="HD000202").unlock_code == "2468"


@pytest.mark.parametrize("status", ["Assigned Overlock", "Assigned Auction", "Available"])
def test_the_preview_never_tells_whether_a_typed_code_is_right(
    owner_client, facility, overlocked, status
):
    """Finding 1: a guessed code and the right one get the same preview, on a unit or not,
    so the preview is no oracle for codes."""
    if status == "Available":
        overlocked.status, overlocked.unit = "available", None
        overlocked.save()
    row = "unit_number,serial,unlock_code,status\n{unit},HD000202,{code},{status}\n"
    unit = "" if status == "Available" else "B202"

    def preview(code: str):
        response = _upload(owner_client, facility, row.format(unit=unit, code=code, status=status))
        plan = response.context["plan"]
        # The page, but the per-render CSRF tokens and the encrypted payload.
        page = re.sub(r'value="[^"]{40,}"', 'value=""', response.content.decode())
        return _errors(plan), plan.changes(), page

    assert preview("2468") == preview("1111")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("unit_number,colour\n", "Unknown column “colour”."),
        ("unit_number,Unit Number\n", "The column “Unit Number” appears twice."),
        ("tenant_name\n", "The file needs a unit_number column, a serial column, or both."),
        ('unit_number\n"A1\n', "The file is not valid CSV"),
    ],
)
def test_a_bad_heading_or_file_is_reported_on_its_line(facility, text, message):
    errors = _errors(_plan(facility, text))
    assert errors and message in errors[0][1]


def test_friendly_headings_delimiters_and_encodings(facility):
    text = (
        "Unit;Name;Email;Phone;Lock Serial;Code;Lock Status\r\n"
        "A1;Zoë;;;hd000001;1234;ASSIGNED OVERLOCK\r\n"
    )
    plan = _plan(facility, text)
    assert plan.is_valid, plan.errors
    assert plan.units[0].values["tenant_name"] == "Zoë"
    assert plan.locks[0].serial == "HD000001" and plan.locks[0].status == "assigned_overlock"
    assert imports.decode_csv("\ufeffa,b".encode()) == "a,b"
    assert imports.decode_csv("Zoë".encode("cp1252")) == "Zoë"


def test_blank_lines_are_skipped_and_lines_counted(facility):
    text = HEADER + "\nA1,,,,,,\n,,,,,,\nA/2,,,,,,\n"
    assert [line for line, _ in _errors(_plan(facility, text))] == [5]


def _big_file(size: int) -> str:
    """`size` units; nine in ten with a lock on the door, the tenth's lock on a row of its own."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMNS)
    statuses = ["Assigned Overlock", "Tenant Using Lock", "Assigned Vacant", "Assigned Auction"]
    for n in range(size):
        unit = [f"U{n:05d}", f"Tenant {n}", f"tenant{n}@example.com", f"(603) 555-{n:04d}"]
        lock = [f"BG{n:06d}", f"{n % 10000:04d}"]
        if n % 10:
            writer.writerow([*unit, *lock, statuses[n % len(statuses)]])
        else:
            writer.writerow([*unit, "", "", ""])
            writer.writerow(["", "", "", "", *lock, "Available"])
    return out.getvalue()


def _count(callable_) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        value = callable_()
    return len(queries), value


def test_the_preview_runs_in_a_bounded_number_of_queries(facility, owner):
    small, big = _big_file(50), _big_file(5000)
    small_queries, plan = _count(lambda: _plan(facility, small))
    assert plan.is_valid, plan.errors[:3]
    big_queries, plan = _count(lambda: _plan(facility, big))
    assert plan.is_valid, plan.errors[:3]
    assert plan.rows == 5500 and plan.units_created == 5000 and plan.locks_created == 5000
    assert big_queries == small_queries <= 4

    # Against a facility that has every row already: still a couple of queries.
    _commit(facility, big, owner)
    again_queries, plan = _count(lambda: _plan(facility, big))
    assert not plan.has_changes and again_queries <= 4


def test_the_commit_writes_in_batches_not_per_row(facility, owner):
    big = _big_file(2000)
    queries, (_, result) = _count(lambda: _commit(facility, big, owner))
    assert result.locks_created == 2000 and result.events == 2000
    # Bulk INSERTs: on SQLite Django caps a batch at 999 parameters (~100 rows), on
    # PostgreSQL 500 rows; one query per row would be over 4,000.
    assert queries < 2000 / 25


# --- Export -----------------------------------------------------------------------------------


def test_export_has_units_and_locks_without_codes(owner_client, facility, owner):
    _commit(facility, GOOD, owner)
    UnitFactory(
        facility=facility,
        unit_number="A200",
        tenant_name="=HYPERLINK(1)",
        tenant_email="",
        tenant_phone="",
    )
    response = owner_client.get(reverse("facilities:facility_export", args=[facility.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == imports.EXPORT_COLUMNS
    assert [
        "A101",
        "Avery Johnson",
        "avery@example.com",
        "'+16035550101",  # E.164, escaped like any cell a spreadsheet reads as a formula
        "HD000101",
        "Assigned Overlock",
    ] in rows
    assert ["", "", "", "", "HD000102", "Available"] in rows
    assert ["A200", "'=HYPERLINK(1)", "", "", "", ""] in rows  # not run as a formula
    for code in ("4821", "7305", "5190"):
        assert code not in text


def test_export_then_import_changes_nothing(owner_client, facility, owner):
    _commit(facility, GOOD, owner)
    UnitFactory(
        facility=facility, unit_number="A200", tenant_name="=1+1", tenant_phone="+16035550100"
    )
    text = owner_client.get(
        reverse("facilities:facility_export", args=[facility.pk])
    ).content.decode("utf-8-sig")
    plan = _plan(facility, text)
    assert plan.is_valid, plan.errors
    assert not plan.has_changes


def test_export_runs_in_constant_queries(owner_client, facility, django_assert_max_num_queries):
    for _ in range(30):
        LockFactory(
            facility=facility, unit=UnitFactory(facility=facility), status="assigned_vacant"
        )
    with django_assert_max_num_queries(8):
        owner_client.get(reverse("facilities:facility_export", args=[facility.pk]))


# --- The screens ------------------------------------------------------------------------------


def _upload(client, facility, text: str, name: str = "units.csv"):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("facilities:facility_import", args=[facility.pk]), {"file": upload})


def test_upload_shows_a_preview_and_writes_nothing(owner_client, facility):
    response = _upload(owner_client, facility, GOOD)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Ready to import: 3 new units, 3 new locks" in body
    assert "New lock HD000101: Assigned Overlock on unit A101" in body
    assert not Unit.objects.exists() and not Lock.objects.exists()


def test_upload_with_errors_lists_them_by_line_and_offers_no_import(owner_client, facility):
    response = _upload(owner_client, facility, GOOD + "A103,,bad-email,,,,\n")
    body = response.content.decode()
    assert "Nothing was imported" in body
    assert '<td class="text-end font-monospace">6</td>' in body
    assert "Enter a valid email address." in body
    assert reverse("facilities:facility_import_commit", args=[facility.pk]) not in body
    assert not Unit.objects.exists()


def test_confirm_imports_everything_once(owner_client, facility):
    preview = _upload(owner_client, facility, GOOD)
    payload = preview.context["confirm_form"].initial["payload"]
    url = reverse("facilities:facility_import_commit", args=[facility.pk])
    response = owner_client.post(url, {"payload": payload})
    assert response.status_code == 302
    assert Unit.objects.count() == 3 and Lock.objects.count() == 3
    assert LockEvent.objects.count() == 3
    page = owner_client.get(response.url).content.decode()
    assert "Imported units.csv: 3 new units, 3 new locks." in page
    # The same confirmation posted twice (a double click) changes nothing more.
    owner_client.post(url, {"payload": payload})
    assert LockEvent.objects.count() == 3 and Unit.objects.count() == 3


def test_an_unchanged_file_says_so(owner_client, facility, owner):
    _commit(facility, GOOD, owner)
    body = _upload(owner_client, facility, GOOD).content.decode()
    assert "Nothing to change" in body


def test_confirm_rechecks_against_the_database(owner_client, facility, owner):
    preview = _upload(owner_client, facility, GOOD)
    payload = preview.context["confirm_form"].initial["payload"]
    LockFactory(facility=FacilityFactory(account=facility.account), serial="HD000101")
    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]), {"payload": payload}
    )
    assert response.status_code == 200
    assert "Nothing was imported" in response.content.decode()
    assert not Unit.objects.exists()


@pytest.mark.parametrize(
    "edit",
    [
        lambda unit: Unit.objects.filter(pk=unit.pk).update(tenant_email="new@example.com"),
        lambda unit: Unit.objects.filter(pk=unit.pk).update(tenant_phone="(603) 555-0199"),
        lambda unit: Lock.objects.filter(serial="HD000202").update(status="assigned_vacant"),
    ],
)
def test_confirm_refuses_when_what_it_would_write_changed_after_the_preview(
    owner_client, facility, overlocked, edit
):
    """Finding 6: preview, someone edits the unit (or its lock), Import: the import must not
    write the file's stale values over the edit; it asks for a new preview instead."""
    text = (
        "unit_number,tenant_name,tenant_email,tenant_phone,serial,status\n"
        "B202,Avery Johnson,old@example.com,,HD000202,Assigned Overlock\n"
    )
    preview = _upload(owner_client, facility, text)
    payload = preview.context["confirm_form"].initial["payload"]
    edit(overlocked.unit)
    before = list(Unit.objects.values()), list(Lock.objects.values())

    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]), {"payload": payload}
    )

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert (list(Unit.objects.values()), list(Lock.objects.values())) == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("garbage", "This preview could not be read."),
        ("", "This field is required."),
    ],
)
def test_confirm_with_a_bad_payload(owner_client, facility, payload, message):
    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]),
        {"payload": payload},
        follow=True,
    )
    assert message in response.content.decode()
    assert not Unit.objects.exists()


def test_a_preview_for_another_facility_is_refused(owner_client, facility, account):
    elsewhere = FacilityFactory(account=account)
    payload = ImportConfirmForm.seal(
        facility=elsewhere, filename="x.csv", text=GOOD, fingerprint=""
    )
    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]),
        {"payload": payload},
        follow=True,
    )
    assert "This preview is for another facility." in response.content.decode()
    assert not Unit.objects.exists()


def test_an_old_preview_is_refused(owner_client, facility, monkeypatch):
    payload = ImportConfirmForm.seal(facility=facility, filename="x.csv", text=GOOD, fingerprint="")
    monkeypatch.setattr("facilities.forms.IMPORT_PREVIEW_MAX_AGE", -1)
    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]),
        {"payload": payload},
        follow=True,
    )
    assert "more than an hour old" in response.content.decode()


def test_the_payload_is_encrypted_and_sealed(owner_client, facility):
    text = GOOD
    payload = ImportConfirmForm.seal(facility=facility, filename="x.csv", text=text, fingerprint="")
    # No code, serial or unit number of the file can be read from the page's hidden field.
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        for cell in row:
            if len(cell) >= 3:
                assert cell not in payload
    tampered = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    response = owner_client.post(
        reverse("facilities:facility_import_commit", args=[facility.pk]),
        {"payload": tampered},
        follow=True,
    )
    assert "This preview could not be read." in response.content.decode()
    assert not Unit.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01PK", "This is not a CSV file."),
        (None, "The submitted file is empty."),
    ],
)
def test_upload_of_something_that_is_not_csv(owner_client, facility, content, message):
    data = (
        {"file": SimpleUploadedFile("x.csv", content or b"")}
        if content is not None
        else {"file": SimpleUploadedFile("x.csv", b"")}
    )
    response = owner_client.post(reverse("facilities:facility_import", args=[facility.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_upload_without_a_file(owner_client, facility):
    response = owner_client.post(reverse("facilities:facility_import", args=[facility.pk]), {})
    assert "This field is required." in response.content.decode()


def test_upload_of_a_too_large_file(owner_client, facility, monkeypatch):
    monkeypatch.setattr(imports, "MAX_BYTES", 10)
    response = _upload(owner_client, facility, GOOD)
    assert "The file is larger than" in response.content.decode()


def test_the_upload_page_explains_the_columns(owner_client, facility):
    body = owner_client.get(reverse("facilities:facility_import", args=[facility.pk])).content
    for column in imports.COLUMNS:
        assert column.encode() in body


def test_a_file_too_large_to_carry_to_the_import_is_refused_up_front(
    owner_client, facility, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = _upload(owner_client, facility, _big_file(200))
    assert "too large to import in one go" in response.content.decode()


def test_the_preview_shows_old_and_new_values_of_each_change(facility, overlocked):
    overlocked.unit.tenant_name, overlocked.unit.tenant_email = "Old Tenant", ""
    overlocked.unit.save()
    text = "unit_number,tenant_name,tenant_email\nB202,New Tenant,new@example.com\n"
    assert _plan(facility, text).changes() == [
        (
            2,
            "Unit B202: tenant name “Old Tenant” → “New Tenant”; "
            "tenant email (empty) → “new@example.com”",
        )
    ]
