"""`lockevent_key_time`: a key's lookups by time, of lookups only (a partial index). The usage
chart and the API Settings list count a key's lookups in it alone (an index-only scan on
PostgreSQL), instead of the events of every account in the period.

On PostgreSQL the index is built CONCURRENTLY: LockEvent is the largest table and every
lookup writes to it, so a plain CREATE INDEX would hold the lookups for the whole build."""

from django.db import migrations, models

KEY_TIME = models.Index(
    condition=models.Q(("kind", "code_looked_up")),
    fields=["api_key", "created_at"],
    name="lockevent_key_time",
)


def add_index(apps, schema_editor):
    model = apps.get_model("facilities", "LockEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, KEY_TIME, concurrently=True)
    else:
        schema_editor.add_index(model, KEY_TIME)


def remove_index(apps, schema_editor):
    model = apps.get_model("facilities", "LockEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, KEY_TIME, concurrently=True)
    else:
        schema_editor.remove_index(model, KEY_TIME)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("facilities", "0008_history_archive_and_lockevent_indexes"),
        ("integrations", "0006_api_key_usage_day"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="lockevent", index=KEY_TIME)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
