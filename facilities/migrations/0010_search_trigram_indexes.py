"""Trigram indexes for "contains" search on PostgreSQL: the top search finds part of a unit
number (UPPER(unit_number), as `icontains` compares) or of a serial (serials are capitals)
through a GIN index instead of reading every account's units and locks.

PostgreSQL only, and outside the models' state: SQLite (development, the test suite) has no
GIN index and needs none, so there the migration does nothing. The indexes are built
CONCURRENTLY, so the units and locks stay writable while they build."""

from django.db import migrations

INDEXES = {
    "unit_number_trgm": "facilities_unit USING gin (UPPER(unit_number) gin_trgm_ops)",
    "lock_serial_trgm": "facilities_lock USING gin (serial gin_trgm_ops)",
}


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    # The extension stays: other database objects may use it by now.


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("facilities", "0009_lockevent_key_time")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
