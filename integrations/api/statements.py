"""The lookup's one SQL statement on PostgreSQL: read the unit (or lock) through the key's
scope and record the read, in a single round trip.

`unit_look_up` and `lock_look_up` (integrations/api/services.py) use it on PostgreSQL and the
ORM everywhere else (SQLite in development and tests). The statement encodes three rules that
also live in Python, and tests/api/test_statements.py holds each against its Python twin on
PostgreSQL:

- the key's scope, `ApiKey.facilities_in_scope()`: the key's account, Include in API on, and
  all facilities or the chosen ones;
- which codes are withheld from keys, `permissions.key_can_view_code()`: the statement takes
  `permissions.WITHHELD_STATUSES` as its `withheld` parameter;
- the LockEvent of a code given out, as `lock_event_record()` writes it (kind, actor, key,
  unit, IP, details).

It runs in autocommit: the INSERT is committed when the statement returns, so the code that is
decrypted and sent afterwards always has its record. A code that is withheld inserts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import connection
from django.utils import timezone

from davinci.accounts import permissions
from facilities.models import Facility, Lock, LockEvent, Unit

# {match} is one of MATCHES: the unit by its number, or the lock by its serial.
_STATEMENT = """
WITH hit AS (
    SELECT u.id AS unit_id, u.unit_number,
           f.facility_id,
           l.id AS lock_id, l.serial, l.status, l.unlock_code_encrypted, l.updated_at
    FROM facilities_facility f
    {join}
    WHERE f.facility_id = %(facility_id)s
      AND f.account_id = %(account_id)s
      AND f.include_in_api
      AND (%(all_facilities)s OR EXISTS (
          SELECT 1 FROM integrations_apikey_facilities chosen
          WHERE chosen.apikey_id = %(key_id)s AND chosen.facility_id = f.id))
      AND {match}
    LIMIT 1
), recorded AS (
    INSERT INTO facilities_lockevent
        (lock_id, unit_id, created_at, kind, actor_type, actor_user_id, api_key_id,
         from_status, to_status, ip, details)
    SELECT lock_id, unit_id, %(created_at)s, %(kind)s, %(actor_type)s, NULL, %(key_id)s,
           '', '', %(ip)s::inet,
           jsonb_build_object('lookup', %(lookup)s::text, 'facility_id', facility_id)
    FROM hit
    WHERE lock_id IS NOT NULL AND status <> ALL(%(withheld)s)
    RETURNING id
)
SELECT unit_number, facility_id, serial, status, unlock_code_encrypted, updated_at,
       (SELECT count(*) FROM recorded) AS recorded
FROM hit
"""
STATEMENTS = {
    "unit": _STATEMENT.format(
        join="JOIN facilities_unit u ON u.facility_id = f.id\n"
        "    LEFT JOIN facilities_lock l ON l.unit_id = u.id",
        match="u.unit_number = %(match)s",
    ),
    "lock": _STATEMENT.format(
        join="JOIN facilities_lock l ON l.facility_id = f.id\n"
        "    LEFT JOIN facilities_unit u ON u.id = l.unit_id",
        match="l.serial = %(match)s",
    ),
}


@dataclass(frozen=True)
class Hit:
    """What the statement found, as the answer's builders (integrations/api/serializers.py)
    take it: the unit with its lock, the lock with its unit (unsaved instances holding the
    columns the answer shows), and whether it recorded a LockEvent."""

    unit: Unit | None
    lock: Lock | None
    recorded: bool


def _hit(
    unit_number: str | None,
    facility_id: str,
    serial: str | None,
    status: str | None,
    unlock_code_encrypted: str | None,
    updated_at: datetime | None,
    recorded: int,
) -> Hit:
    facility = Facility(facility_id=facility_id)
    unit = lock = None
    if unit_number is not None:  # a unit's number is never null: NULL means no unit
        unit = Unit(unit_number=unit_number, facility=facility)
    if serial is not None:
        lock = Lock(
            serial=serial,
            status=status,
            unlock_code_encrypted=unlock_code_encrypted,
            updated_at=updated_at,
            facility=facility,
            unit=unit,
        )
    if unit is not None:
        unit.lock = lock  # the reverse side, as select_related fills it on the ORM path
    return Hit(unit=unit, lock=lock, recorded=recorded == 1)


def read_and_record(
    *,
    lookup: Literal["unit", "lock"],
    match: str,
    facility_id: str,
    account_id: int,
    key_id: int,
    all_facilities: bool,
    ip: str | None,
) -> Hit | None:
    """Run the statement: the unit (lookup="unit", match=its number) or the lock
    (lookup="lock", match=its serial) in the key's scope, or None; the LockEvent is
    committed when this returns."""
    with connection.cursor() as cursor:
        cursor.execute(
            STATEMENTS[lookup],
            {
                "facility_id": facility_id,
                "account_id": account_id,
                "all_facilities": all_facilities,
                "key_id": key_id,
                "match": match,
                # The application's clock, as auto_now_add on the ORM path (and in tests).
                "created_at": timezone.now(),
                "kind": LockEvent.Kind.CODE_LOOKED_UP.value,
                "actor_type": LockEvent.Actor.API_KEY.value,
                "ip": ip,
                "lookup": lookup,
                "withheld": sorted(permissions.WITHHELD_STATUSES),
            },
        )
        row = cursor.fetchone()
    return _hit(*row) if row is not None else None
