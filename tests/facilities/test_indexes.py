"""The indexes that keep the large account's pages as cheap as a small one's: each query is
asked for its plan, so a change to the query that no index serves any more fails here.

PostgreSQL is asked with sequential scans off (and bitmap scans for the counts, index scans
for the searches: a GIN index is only ever read through a bitmap): on a test-sized table the
planner would rightly read the table, and the question is whether the index *can* answer the
query (and, for the counts, alone). SQLite shows its plan through EXPLAIN QUERY PLAN."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from facilities.models import Lock, LockEvent, Unit
from integrations import usage
from integrations.models import ApiKey
from tests.factories import ApiKeyFactory, LockFactory, UnitFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


def _plan(sql: str, *, scans_off: tuple[str, ...] = ("seqscan", "bitmapscan")) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for scan in scans_off:
                cursor.execute(f"SET LOCAL enable_{scan} = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row) for row in cursor.fetchall())


def _from_the_index_alone(plan: str, index: str) -> bool:
    """PostgreSQL: an index-only scan. SQLite, which still reads the rows for the partial
    index's condition, at least searches the index."""
    if connection.vendor == "postgresql":
        return f"Index Only Scan using {index}" in plan
    return f"INDEX {index}" in plan


def _history_queries(run) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [q["sql"] for q in captured.captured_queries if "facilities_lockevent" in q["sql"]]


def test_the_usage_chart_counts_a_keys_lookups_in_the_key_time_index(account, facility):
    key = ApiKeyFactory(account=account)
    [lookups, _writes] = _history_queries(lambda: usage.usage_days(api_key=key))
    assert _from_the_index_alone(_plan(lookups), "lockevent_key_time")


def test_the_usage_chart_counts_a_keys_writes_in_the_key_writes_index(account, facility):
    key = ApiKeyFactory(account=account)
    [_lookups, writes] = _history_queries(lambda: usage.usage_days(api_key=key))
    assert _from_the_index_alone(_plan(writes), "lockevent_key_writes")


def test_the_key_writes_index_holds_the_writes_of_keys_only(account, facility):
    [index] = [i for i in LockEvent._meta.indexes if i.name == "lockevent_key_writes"]
    assert index.fields == ["api_key", "created_at"]
    writes = Q(kind=LockEvent.Kind.RELEASED) | Q(kind=LockEvent.Kind.STATUS_CHANGED)
    assert index.condition == Q(api_key__isnull=False) & writes


def test_the_api_settings_list_counts_lookups_in_the_key_time_index(account):
    for _ in range(3):
        ApiKeyFactory(account=account)
    keys = list(ApiKey.objects.filter(account=account).with_facility_summary(account))
    [sql] = _history_queries(lambda: usage.with_list_usage(keys))
    assert _from_the_index_alone(_plan(sql), "lockevent_key_time")


def test_the_lock_limit_is_counted_in_the_account_status_index(owner, account, facility):
    from davinci.accounts.models import Membership

    membership = Membership.objects.get(user=owner, account=account)
    with CaptureQueriesContext(connection) as captured:
        Lock.objects.for_membership(membership).counting_towards_limit().count()
    plan = _plan(captured.captured_queries[0]["sql"])
    # Either index starting with (account, status) counts it without reading a lock; the
    # reports' (account, status, updated_at) one is as good, and on a tiny table the planner
    # may take it.
    assert any(
        _from_the_index_alone(plan, index)
        for index in ("lock_account_status", "lock_account_status_updated")
    ), plan


def test_the_key_time_index_holds_lookups_only(account, facility):
    key = ApiKeyFactory(account=account)
    lock = LockFactory(facility=facility)
    LockEvent.objects.create(
        lock=lock, kind=LockEvent.Kind.CODE_LOOKED_UP, actor_type="api_key", api_key=key
    )
    [index] = [i for i in LockEvent._meta.indexes if i.name == "lockevent_key_time"]
    assert index.fields == ["api_key", "created_at"]
    assert index.condition.children == [("kind", LockEvent.Kind.CODE_LOOKED_UP)]


def _search_plan(queryset) -> tuple[list, str]:
    """The plan of the search's condition alone (no account, no order): the trigram index is
    then the only index that can serve it."""
    with CaptureQueriesContext(connection) as captured:
        results = list(queryset.order_by())
    return results, _plan(captured.captured_queries[0]["sql"], scans_off=("seqscan", "indexscan"))


@postgresql_only
def test_part_of_a_unit_number_is_found_through_the_trigram_index(facility):
    UnitFactory(facility=facility, unit_number="A101")
    units, plan = _search_plan(Unit.objects.number_matching("a10"))
    assert [unit.unit_number for unit in units] == ["A101"]
    assert "Bitmap Index Scan on unit_number_trgm" in plan


@postgresql_only
def test_part_of_a_serial_is_found_through_the_trigram_index(facility):
    LockFactory(facility=facility, serial="HD000123")
    locks, plan = _search_plan(Lock.objects.serial_matching("0012"))
    assert [lock.serial for lock in locks] == ["HD000123"]
    assert "Bitmap Index Scan on lock_serial_trgm" in plan


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)
def test_the_index_migrations_run_both_ways():
    executor = MigrationExecutor(connection)
    executor.migrate([("facilities", "0007_tenant_phone_e164")])
    assert "lockevent_key_time" not in _indexes("facilities_lockevent")
    assert "unit_number_trgm" not in _indexes("facilities_unit")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "lockevent_key_time" in _indexes("facilities_lockevent")
    trigram = {"unit_number_trgm", "lock_serial_trgm"}
    found = _indexes("facilities_unit") | _indexes("facilities_lock")
    if connection.vendor == "postgresql":
        assert trigram <= found
    else:
        assert not trigram & found
