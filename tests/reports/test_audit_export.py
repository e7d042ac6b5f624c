"""The audit export: a period's LockEvents or AuditEvents as CSV or JSON Lines, streamed in
batches, narrowed to the member's facilities and the filters, formula-safe, itself audited;
Owner and Client Admin only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC

import pytest
from django.urls import reverse
from django.utils import timezone

from davinci.accounts.models import AuditEvent
from facilities.models import LockEvent
from reports import audit_export
from tests.factories import ApiKeyFactory, UnitFactory, assigned_lock

URL = reverse("reports:audit_export")


def _today() -> str:
    return timezone.now().astimezone(UTC).date().isoformat()


def _query(**extra) -> dict:
    return {
        "kind": "lock_events",
        "file_format": "csv",
        "start": _today(),
        "end": _today(),
        **extra,
    }


@pytest.fixture
def history(account, facility, second_facility, owner):
    """Lock events at two facilities: a reveal by the owner, a lookup by a key, and a status
    change whose details start like a spreadsheet formula."""
    here = assigned_lock(UnitFactory(facility=facility, unit_number="A1"))
    there = assigned_lock(UnitFactory(facility=second_facility, unit_number="B2"))
    key = ApiKeyFactory(account=account)
    LockEvent.objects.create(lock=here, actor_type="user", actor_user=owner, kind="code_revealed")
    LockEvent.objects.create(lock=here, actor_type="api_key", api_key=key, kind="code_looked_up")
    LockEvent.objects.create(
        lock=there, actor_type="system", kind="status_changed", details={"note": "=HYPERLINK()"}
    )
    return here, there, key


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_streams_the_periods_lock_events_and_is_audited(owner_client, account, history):
    response = owner_client.get(URL, _query())

    assert response.streaming and response["Content-Disposition"].startswith("attachment")
    rows = _rows(response)
    assert sorted(row["event"] for row in rows) == [
        "code_looked_up",
        "code_revealed",
        "status_changed",
    ]
    assert {row["serial"] for row in rows} == {history[0].serial, history[1].serial}
    formula = next(row for row in rows if row["event"] == "status_changed")
    assert formula["details"].startswith("{")  # JSON text, not a formula
    exported = AuditEvent.objects.get(account=account, action=AuditEvent.Action.HISTORY_EXPORTED)
    assert exported.details["history"] == "lock_events"


def test_a_cell_that_starts_like_a_formula_is_guarded(owner_client, account, owner):
    AuditEvent.objects.create(
        account=account, actor=owner, action="key_created", target_repr="=cmd|' /C calc'!A0"
    )
    rows = _rows(owner_client.get(URL, _query(kind="audit_events")))
    assert [row["target"] for row in rows if row["action"] == "key_created"] == [
        "'=cmd|' /C calc'!A0"
    ]


def test_json_lines_carry_each_row_whole(owner_client, history):
    response = owner_client.get(URL, _query(file_format="jsonl"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    assert next(r for r in rows if r["event"] == "status_changed")["details"] == {
        "note": "=HYPERLINK()"
    }


@pytest.mark.parametrize(
    ("filters", "events"),
    [
        ({"facility": "facility"}, {"code_revealed", "code_looked_up"}),
        ({"actor": "owner"}, {"code_revealed"}),
        ({"api_key": "key"}, {"code_looked_up"}),
    ],
)
def test_facility_actor_and_key_narrow_the_export(
    owner_client, owner, facility, history, filters, events
):
    values = {"facility": facility.facility_id, "owner": owner.pk, "key": history[2].pk}
    query = _query(**{name: values[value] for name, value in filters.items()})
    assert {row["event"] for row in _rows(owner_client.get(URL, query))} == events


def test_an_admin_with_chosen_facilities_exports_only_theirs(facility_restricted_client, history):
    rows = _rows(facility_restricted_client.get(URL, _query()))
    assert {row["serial"] for row in rows} == {history[1].serial}


def test_rows_come_in_batches_of_constant_size(
    owner_client, history, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(audit_export, "BATCH", 1)
    events = LockEvent.objects.all()
    with django_assert_num_queries(4):  # one a row, and the empty batch that ends it
        lines = list(audit_export.export_lines(events, audit_export.LOCK_EVENT_COLUMNS, "jsonl"))
    assert [json.loads(line)["id"] for line in lines] == sorted(e.pk for e in events)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"start": "yesterday"}, "Enter a valid date"),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "The period ends before it starts"),
        ({"facility": "nosuchfacility00"}, "None of your facilities"),
        ({"kind": "passwords"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error(owner_client, query, error):
    response = owner_client.get(URL, _query(**query))
    assert response.status_code == 200
    assert error in response.content.decode()


def test_only_owners_and_admins_export(manager_client, call_center_client, admin_client, client):
    assert manager_client.get(URL).status_code == 403
    assert call_center_client.get(URL).status_code == 403
    assert admin_client.get(URL).status_code == 200
    assert client.get(URL).status_code == 302
