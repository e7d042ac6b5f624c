import pytest
from django.core.exceptions import ValidationError

from facilities.forms import LockAdminForm
from facilities.models import Lock, LockEvent, LockStatus, Unit
from tests.conftest import staff_signed_in
from tests.factories import LockFactory, UnitFactory, UserFactory, assigned_lock


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def test_a_five_digit_code_is_refused(lock):
    lock.unlock_code = "12345"
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "invalid_unlock_code" in _errors(exc.value)["unlock_code"]


@pytest.mark.parametrize("code", ["123", "12a4", "", " 123", "١٢٣٤"])
def test_a_code_is_exactly_four_ascii_digits(lock, code):
    lock.unlock_code = code
    with pytest.raises(ValidationError):
        lock.full_clean()


def test_an_assigned_lock_needs_a_unit(lock):
    lock.status = LockStatus.ASSIGNED_OVERLOCK
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "unit_required" in _errors(exc.value)["unit"]


def test_an_unassigned_lock_has_no_unit(unit, lock):
    lock.unit = unit
    lock.status = LockStatus.DAMAGED
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "unit_not_allowed" in _errors(exc.value)["unit"]


def test_the_database_refuses_an_assigned_lock_without_unit(lock):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Lock.objects.filter(pk=lock.pk).update(status=LockStatus.ASSIGNED_OVERLOCK)


def test_unit_numbers_are_unique_within_a_facility(unit):
    duplicate = Unit(facility=unit.facility, unit_number=unit.unit_number)
    with pytest.raises(ValidationError) as exc:
        duplicate.full_clean()
    assert "This facility already has a unit with that number." in str(exc.value)


def test_the_same_unit_number_is_fine_in_another_facility(unit, other_facility):
    Unit(facility=other_facility, unit_number=unit.unit_number).full_clean()


def test_unit_numbers_keep_leading_zeros(facility):
    unit = UnitFactory(facility=facility, unit_number="007")
    unit.refresh_from_db()
    assert unit.unit_number == "007"


# Re-typing the current code is refused too: otherwise the refusal would tell a guess apart.
@pytest.mark.parametrize("code", ["2222", "1111"], ids=["another code", "the current code"])
def test_the_code_of_an_assigned_lock_cannot_change(unit, code):
    lock = Lock.objects.get(pk=assigned_lock(unit, code="1111").pk)
    lock.unlock_code = code
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "code_locked" in _errors(exc.value)["unlock_code"]


def test_the_code_of_an_unassigned_lock_can_change(lock):
    lock = Lock.objects.get(pk=lock.pk)
    lock.unlock_code = "9876"
    lock.full_clean()
    lock.save()
    assert Lock.objects.get(pk=lock.pk).unlock_code == "9876"


def test_serial_is_eight_characters(facility):
    lock = LockFactory.build(facility=facility, account=facility.account, serial="ABC123")
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "invalid_serial" in _errors(exc.value)["serial"]


def test_a_lock_cannot_hang_on_a_unit_of_another_facility(facility, other_facility):
    foreign_unit = UnitFactory(facility=other_facility)
    lock = LockFactory.build(
        facility=facility, serial="HD123456", unit=foreign_unit, status=LockStatus.ASSIGNED_OVERLOCK
    )
    with pytest.raises(ValidationError) as exc:
        lock.full_clean()
    assert "unit_elsewhere" in _errors(exc.value)["unit"]


def test_lock_events_are_append_only(lock):
    event = LockEvent.objects.create(
        lock=lock, actor_type=LockEvent.Actor.SYSTEM, kind=LockEvent.Kind.CREATED
    )
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        LockEvent.objects.all().delete()
    with pytest.raises(TypeError):
        LockEvent.objects.update(kind=LockEvent.Kind.CODE_SET)


class TestAdminForm:
    """The admin shows the same clear errors as the model."""

    def _form(self, lock, **data):
        return LockAdminForm(
            data=_admin_lock_data(lock, **data), instance=Lock.objects.get(pk=lock.pk)
        )

    def test_five_digit_code(self, lock):
        form = self._form(lock, unlock_code="12345")
        assert not form.is_valid()
        assert "unlock_code" in form.errors

    def test_assigned_without_unit(self, lock):
        form = self._form(lock, status=LockStatus.ASSIGNED_OVERLOCK)
        assert not form.is_valid()
        assert "needs a unit" in str(form.errors)

    def test_code_change_on_assigned_lock(self, unit):
        lock = assigned_lock(unit)
        form = self._form(lock, unlock_code="4321")
        assert not form.is_valid()
        assert "does not count towards the lock limit" in str(form.errors)

    def test_valid_change_saves_encrypted(self, lock):
        form = self._form(lock, unlock_code="4321")
        assert form.is_valid(), form.errors
        saved = form.save()
        assert saved.unlock_code == "4321"
        assert (
            "4321"
            not in Lock.objects.filter(pk=lock.pk)
            .values_list("unlock_code_encrypted", flat=True)
            .get()
        )


@pytest.fixture
def staff_client(db):
    return staff_signed_in(UserFactory(is_staff=True, is_superuser=True))


def test_admin_refuses_a_duplicate_unit_number(staff_client, unit):
    response = staff_client.post(
        "/admin/facilities/unit/add/",
        {"facility": unit.facility_id, "unit_number": unit.unit_number},
    )
    assert response.status_code == 200
    assert "This facility already has a unit with that number." in response.content.decode()


def _admin_lock_data(lock, **changes) -> dict:
    data = {
        "account": lock.account_id,
        "facility": lock.facility_id,
        "serial": lock.serial,
        "status": lock.status,
        "unit": lock.unit_id or "",
        "unlock_code": "",
    }
    return {**data, **changes}


def test_admin_refuses_a_five_digit_code(staff_client, lock):
    url = f"/admin/facilities/lock/{lock.pk}/change/"
    response = staff_client.post(url, _admin_lock_data(lock, unlock_code="12345"))
    assert response.status_code == 200
    assert "Ensure this value has at most 4 characters" in response.content.decode()


def test_admin_refuses_an_assigned_lock_without_unit(staff_client, lock):
    url = f"/admin/facilities/lock/{lock.pk}/change/"
    response = staff_client.post(url, _admin_lock_data(lock, status="assigned_overlock"))
    assert response.status_code == 200
    assert "needs a unit" in response.content.decode()


@pytest.mark.parametrize("code", ["2222", "1111"], ids=["another code", "the current code"])
def test_admin_refuses_a_code_change_on_an_assigned_lock(staff_client, unit, code):
    lock = assigned_lock(unit, code="1111")
    url = f"/admin/facilities/lock/{lock.pk}/change/"
    response = staff_client.post(url, _admin_lock_data(lock, unlock_code=code))
    assert response.status_code == 200
    assert "does not count towards the lock limit" in response.content.decode()
    assert Lock.objects.get(pk=lock.pk).unlock_code == "1111"


def test_admin_lock_list_masks_codes(staff_client, lock):
    body = staff_client.get("/admin/facilities/lock/").content.decode()
    assert lock.serial in body
    assert "••••" in body
    assert lock.unlock_code not in body.replace(lock.serial, "")


def test_admin_edits_write_one_lock_event(staff_client, lock, unit):
    url = f"/admin/facilities/lock/{lock.pk}/change/"
    data = _admin_lock_data(lock, status="assigned_overlock", unit=unit.pk)
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = LockEvent.objects.get(lock=lock)
    assert event.kind == LockEvent.Kind.ASSIGNED
    assert (event.from_status, event.to_status, event.unit) == (
        "available",
        "assigned_overlock",
        unit,
    )
    assert event.actor_user.is_staff
    assert event.details == {"source": "admin", "changed": ["status", "unit"]}


def test_admin_code_change_is_recorded(staff_client, lock):
    url = f"/admin/facilities/lock/{lock.pk}/change/"
    assert staff_client.post(url, _admin_lock_data(lock, unlock_code="7777")).status_code == 302
    assert LockEvent.objects.get(lock=lock).kind == LockEvent.Kind.CODE_SET
    assert Lock.objects.get(pk=lock.pk).unlock_code == "7777"


@pytest.mark.parametrize(
    "model", ["facilities/lockevent", "facilities/releaseattempt", "accounts/auditevent"]
)
def test_records_are_read_only_in_the_admin(staff_client, model):
    assert staff_client.get(f"/admin/{model}/").status_code == 200
    assert staff_client.get(f"/admin/{model}/add/").status_code == 403
