import importlib

import pytest
from django.apps import apps

from facilities.models import Unit
from tests.factories import UnitFactory

migration = importlib.import_module("facilities.migrations.0004_tenant_phone_e164")


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
