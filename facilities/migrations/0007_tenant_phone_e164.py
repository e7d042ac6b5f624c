"""Units keep their tenant's phone number in E.164 (davinci.phones.normalize_phone).

Numbers already on file are rewritten; one that cannot be read as a valid number stays as it
was (it is not lost) and is counted, so the owner can correct it on the unit's page."""

from django.core.exceptions import ValidationError
from django.db import migrations

import facilities.models


def to_e164(apps, schema_editor):
    from facilities.models import normalize_phone

    Unit = apps.get_model("facilities", "Unit")
    kept = 0
    for unit in Unit.objects.exclude(tenant_phone="").only("pk", "tenant_phone").iterator():
        try:
            phone = normalize_phone(unit.tenant_phone)
        except ValidationError:
            kept += 1
            continue
        if phone != unit.tenant_phone:
            Unit.objects.filter(pk=unit.pk).update(tenant_phone=phone)
    if kept:
        print(
            f"\n  {kept} tenant phone number(s) are not valid numbers and were left as they were."
        )


class Migration(migrations.Migration):
    dependencies = [("facilities", "0006_release_send_limited")]

    operations = [
        migrations.AlterField(
            model_name="unit",
            name="tenant_phone",
            field=facilities.models.PhoneNumberField(blank=True, max_length=32),
        ),
        migrations.RunPython(to_e164, migrations.RunPython.noop),
    ]
