"""The whole-job floor of a unit lookup (docs/benchmarks.md): the least Django can do for the
lookup's job, in the fewest round trips, served with no middleware (bench/floor_settings.py).
Never part of the product.

One indexed key SELECT and an HMAC compare; one pipelined Redis INCR + EXPIRE; ONE statement
that reads the scoped unit and lock and inserts the LockEvent (autocommit: durable before
the answer); a Fernet decrypt; a JsonResponse.
"""

from __future__ import annotations

import time
from functools import cache

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from davinci import crypto
from integrations.secrets import secret_matches

KEY_SQL = """
SELECT id, account_id, secret_digest, all_facilities FROM integrations_apikey
WHERE api_key = %s AND deleted_at IS NULL AND is_active
  AND (expires_at IS NULL OR expires_at > now())
"""
# Read the unit and its lock through the key's scope and record the read, in one statement.
LOOKUP_SQL = """
WITH hit AS (
    SELECT l.id AS lock_id, l.serial, l.status, l.unlock_code_encrypted, l.updated_at,
           u.id AS unit_id, u.unit_number, f.facility_id
    FROM facilities_unit u
    JOIN facilities_facility f ON f.id = u.facility_id
    LEFT JOIN facilities_lock l ON l.unit_id = u.id
    WHERE f.facility_id = %(facility_id)s AND u.unit_number = %(unit_number)s
      AND f.account_id = %(account_id)s AND f.include_in_api
      AND (%(all_facilities)s OR EXISTS (
          SELECT 1 FROM integrations_apikey_facilities s
          WHERE s.apikey_id = %(key_id)s AND s.facility_id = f.id))
    LIMIT 1
), recorded AS (
    INSERT INTO facilities_lockevent
        (lock_id, created_at, actor_type, api_key_id, kind, from_status, to_status, unit_id,
         ip, details)
    SELECT lock_id, now(), 'api_key', %(key_id)s, 'code_looked_up', '', '', unit_id,
           %(ip)s::inet, jsonb_build_object('lookup', 'unit', 'facility_id', facility_id)
    FROM hit WHERE lock_id IS NOT NULL AND status <> 'assigned_auction'
    RETURNING id
)
SELECT hit.*, (SELECT count(*) FROM recorded) FROM hit
"""


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def _error(status: int, code: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code}}, status=status)


def unit_lookup(request: HttpRequest, facility_id: str, unit_number: str) -> JsonResponse:
    key, secret = request.headers.get("X-API-Key", ""), request.headers.get("X-API-Secret", "")
    with connection.cursor() as cursor:
        cursor.execute(KEY_SQL, [key])
        row = cursor.fetchone()
    if row is None or not secret_matches(secret, row[2]):
        return _error(401, "invalid_credentials")
    key_id, account_id, _, all_facilities = row
    window = int(time.time() // 60)
    pipeline = _redis().pipeline(transaction=False)
    pipeline.incr(f"bench-floor:{key_id}:{window}")
    pipeline.expire(f"bench-floor:{key_id}:{window}", 65)
    count, _ = pipeline.execute()
    if count > settings.API_RATE_LIMIT_PER_MINUTE:
        return _error(429, "rate_limited")
    with connection.cursor() as cursor:
        cursor.execute(
            LOOKUP_SQL,
            {
                "facility_id": facility_id.lower(),
                "unit_number": unit_number,
                "account_id": account_id,
                "all_facilities": all_facilities,
                "key_id": key_id,
                "ip": request.META.get("REMOTE_ADDR"),
            },
        )
        hit = cursor.fetchone()
    if hit is None:
        return _error(404, "not_found")
    lock_id, serial, status, encrypted, updated_at, _, number, public_id, recorded = hit
    lock = None
    if lock_id is not None:
        withheld = status == "assigned_auction"
        lock = {
            "serial": serial,
            "status": status,
            "unit_number": number,
            "facility_id": public_id,
            "updated_at": updated_at.isoformat(),
            "unlock_code": None if withheld else crypto.decrypt(encrypted),
            "unlock_code_withheld": status if withheld else None,
        }
        assert withheld or recorded == 1  # the code leaves only with its record
    return JsonResponse({"data": {"unit_number": number, "facility_id": public_id, "lock": lock}})
