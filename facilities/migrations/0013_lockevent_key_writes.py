"""`lockevent_key_writes`: a key's writes by time (Release overlock and Set status by API), of
those only (a partial index). The usage chart counts a key's writes in it alone, however many
lookups the key makes; API keys write rarely, so it stays small.

On PostgreSQL the index is built CONCURRENTLY, as `lockevent_key_time` (0009): LockEvent is
the largest table and every lookup writes to it."""

from django.db import migrations, models

KEY_WRITES = models.Index(
    condition=models.Q(("api_key__isnull", False), ("kind__in", ["released", "status_changed"])),
    fields=["api_key", "created_at"],
    name="lockevent_key_writes",
)


def add_index(apps, schema_editor):
    model = apps.get_model("facilities", "LockEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, KEY_WRITES, concurrently=True)
    else:
        schema_editor.add_index(model, KEY_WRITES)


def remove_index(apps, schema_editor):
    model = apps.get_model("facilities", "LockEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, KEY_WRITES, concurrently=True)
    else:
        schema_editor.remove_index(model, KEY_WRITES)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("facilities", "0012_lockevent_actor_automation"),
        ("integrations", "0008_idempotency_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="lockevent", index=KEY_WRITES)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
