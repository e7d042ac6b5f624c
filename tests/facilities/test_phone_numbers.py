import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from facilities.models import Unit
from tests.conftest import staff_signed_in
from tests.factories import UnitFactory, UserFactory

migration = importlib.import_module("facilities.migrations.0007_tenant_phone_e164")


@pytest.mark.django_db
def test_the_data_migration_rewrites_numbers_on_file_in_e164_and_keeps_the_rest(capsys):
    typed = UnitFactory(unit_number="1")
    invalid = UnitFactory(unit_number="2")
    UnitFactory(unit_number="3", tenant_phone="")
    # As the numbers were kept before: whatever was typed (update() skips Unit.save).
    Unit.objects.filter(pk=typed.pk).update(tenant_phone="(603) 555-0142")
    Unit.objects.filter(pk=invalid.pk).update(tenant_phone="555-01")

    migration.to_e164(apps, None)

    phones = dict(Unit.objects.values_list("unit_number", "tenant_phone"))
    assert phones == {"1": "+16035550142", "2": "555-01", "3": ""}
    assert "1 tenant phone number(s) are not valid numbers" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_model_keeps_what_was_typed_in_e164_and_refuses_a_number_that_cannot_exist():
    unit = UnitFactory(tenant_phone="")
    unit.tenant_phone = "+1 (603) 555-0142"
    unit.full_clean()  # what model forms and the admin call
    assert unit.tenant_phone == "+16035550142"
    unit.tenant_phone = "+1 555 0142"
    with pytest.raises(ValidationError) as error:
        unit.full_clean()
    assert error.value.error_dict["tenant_phone"][0].code == "invalid_phone"


@pytest.mark.django_db
def test_the_admin_saves_a_unit_phone_in_e164():
    client = staff_signed_in(UserFactory(is_staff=True, is_superuser=True))
    unit = UnitFactory(tenant_phone="")
    url = reverse("admin:facilities_unit_change", args=[unit.pk])
    form = {
        "facility": unit.facility.pk,
        "unit_number": unit.unit_number,
        "tenant_name": "",
        "tenant_email": "",
        "tenant_phone": "603 555 0142",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    unit.refresh_from_db()
    assert unit.tenant_phone == "+16035550142"
