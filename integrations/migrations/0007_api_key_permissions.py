"""Key permissions. Every key that exists gets Read lock information, what keys could do
until now; a key created afterwards gets the model's default (read only, too)."""

from django.db import migrations, models

import integrations.models


def every_key_reads(apps, schema_editor):
    ApiKey = apps.get_model("integrations", "ApiKey")
    ApiKey.objects.update(permissions=["read"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_api_key_usage_day"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="permissions",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(every_key_reads, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="permissions",
            field=models.JSONField(
                blank=True,
                default=integrations.models.default_permissions,
                validators=[integrations.models.validate_permissions],
            ),
        ),
    ]
