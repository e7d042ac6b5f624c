"""The event feed (`GET /api/v1/events/`): the key's scope's lock changes, oldest first, paged
by an opaque cursor that outlives any number of calls, never a code; a key without `events`
is refused; and, while changes keep arriving from writers whose transactions commit out of
order, every status change is returned exactly once across pages. And `updated_since` on
the units list."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_schema_validator import OAS31Validator

from facilities.models import LockEvent, LockStatus
from integrations.api import openapi, services
from integrations.api.views import encode_cursor
from tests.api.conftest import error_code
from tests.factories import ApiKeyFactory

URL = "/api/v1/events/"


@pytest.fixture
def settled(monkeypatch):
    """No settling lag: the tests that do not race writers see what they just wrote."""
    monkeypatch.setattr(services, "FEED_SETTLING", timedelta(0))


@pytest.fixture
def feed_key(world):
    return ApiKeyFactory(account=world.facility.account, permissions=["events"])


def _change(lock, status: str, *, seconds_ago: float = 60, kind=LockEvent.Kind.STATUS_CHANGED):
    event = LockEvent.objects.create(
        lock=lock,
        unit=lock.unit,
        actor_type="user",
        kind=kind,
        from_status=lock.status,
        to_status=status,
    )
    with connection.cursor() as cursor:  # history is append-only: only SQL moves it in time
        cursor.execute(
            "UPDATE facilities_lockevent SET created_at = %s WHERE id = %s",
            [
                connection.ops.adapt_datetimefield_value(
                    timezone.now() - timedelta(seconds=seconds_ago)
                ),
                event.pk,
            ],
        )
    return event


def _after(next_url: str) -> str:
    return parse_qs(urlsplit(next_url).query)["after"][0]


def test_a_key_without_events_is_refused(world, api):
    key = ApiKeyFactory(account=world.facility.account, permissions=["read"])
    response = api.call(URL, key)
    assert (response.status_code, error_code(response)) == (403, "insufficient_permission")


def test_the_scopes_lock_changes_oldest_first_never_a_code(world, api, feed_key, settled):
    first = _change(world.lock, LockStatus.RETURNED_TO_DROPBOX, seconds_ago=30)
    released = _change(world.sibling_lock, "", seconds_ago=20, kind=LockEvent.Kind.RELEASED)
    _change(world.excluded_lock, LockStatus.AVAILABLE, seconds_ago=25)  # Include in API off
    _change(world.rival_lock, LockStatus.AVAILABLE, seconds_ago=25)  # another account
    _change(world.lock, "", seconds_ago=10, kind=LockEvent.Kind.CODE_LOOKED_UP)

    response = api.call(URL, feed_key)

    assert response.status_code == 200
    assert [e["id"] for e in response.data["data"]] == [first.pk, released.pk]
    assert response.data["data"][0] == {
        "id": first.pk,
        "type": "status_changed",
        "occurred_at": LockEvent.objects.get(pk=first.pk).created_at.isoformat(),
        "actor": "user",
        "serial": world.lock.serial,
        "facility_id": world.facility.facility_id,
        "unit_number": world.unit.unit_number,
        "from_status": LockStatus.ASSIGNED_OVERLOCK,
        "to_status": LockStatus.RETURNED_TO_DROPBOX,
    }
    assert response.data["retention_months"] == world.facility.account.history_retention_months
    assert "1234" not in response.content.decode()
    document = json.loads(openapi.document_json())
    schema = document["paths"]["/events/"]["get"]["responses"]["200"]["content"]
    OAS31Validator(
        {**schema["application/json"]["schema"], "components": document["components"]}
    ).validate(response.data)


def test_pages_follow_the_cursor_and_an_empty_page_keeps_it(world, api, feed_key, settled):
    events = [_change(world.lock, LockStatus.AVAILABLE, seconds_ago=50 - n) for n in range(5)]
    seen, url = [], URL + "?limit=2"
    for _ in range(3):
        page = api.call(url, feed_key).data
        seen += [e["id"] for e in page["data"]]
        url = page["next"]
    assert seen == [e.pk for e in events]
    empty = api.call(url, feed_key).data
    assert empty["data"] == [] and _after(empty["next"]) == _after(url)
    later = _change(world.lock, LockStatus.AVAILABLE, seconds_ago=1)
    assert [e["id"] for e in api.call(url, feed_key).data["data"]] == [later.pk]


def test_the_feeds_queries_do_not_grow_with_the_events(world, api, feed_key, settled):
    _change(world.lock, LockStatus.AVAILABLE, seconds_ago=30)
    api.call(URL, feed_key)  # the key's first call also notes when it was last used
    with CaptureQueriesContext(connection) as one:
        assert len(api.call(URL, feed_key).data["data"]) == 1
    for n in range(5):
        _change(world.sibling_lock, LockStatus.AVAILABLE, seconds_ago=20 - n)
    with CaptureQueriesContext(connection) as six:
        assert len(api.call(URL, feed_key).data["data"]) == 6
    assert len(six) == len(one)


def test_types_choose_the_kinds(world, api, feed_key, settled):
    _change(world.lock, LockStatus.AVAILABLE, seconds_ago=30)
    released = _change(world.lock, "", seconds_ago=20, kind=LockEvent.Kind.RELEASED)
    data = api.call(URL + "?types=released", feed_key).data["data"]
    assert [e["id"] for e in data] == [released.pk]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("types=code_looked_up", "types"),
        ("types=", "types"),
        ("after=notacursor", "after"),
        ("after=" + encode_cursor(["yesterday", 1]), "after"),
        ("after=" + encode_cursor(["2026-01-01T00:00:00", 1]), "after"),  # no offset
        ("after=" + encode_cursor(["2026-01-01T00:00:00+00:00", "1"]), "after"),
        ("limit=0", "limit"),
    ],
)
def test_bad_parameters_are_400_invalid_parameter(world, api, feed_key, query, name):
    response = api.call(f"{URL}?{query}", feed_key)
    assert (response.status_code, error_code(response)) == (400, "invalid_parameter")
    assert name in response.data["error"]["message"]


def test_a_cursor_older_than_the_retention_is_410(world, api, feed_key):
    old = timezone.now() - timedelta(
        days=31 * (world.facility.account.history_retention_months + 1)
    )
    response = api.call(f"{URL}?after={encode_cursor([old.isoformat(), 1])}", feed_key)
    assert (response.status_code, error_code(response)) == (410, "cursor_expired")


def test_an_event_younger_than_the_settling_lag_waits(world, api, feed_key):
    _change(world.lock, LockStatus.AVAILABLE, seconds_ago=0)
    assert api.call(URL, feed_key).data["data"] == []


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="concurrent writers need PostgreSQL (CI runs the suite on it)",
)
@pytest.mark.django_db(transaction=True)
def test_every_status_change_exactly_once_while_changes_keep_arriving(
    world, api, feed_key, monkeypatch
):
    """Two writers add status changes, each holding its transaction open a random while
    (so rows commit out of id and time order), while a reader polls the feed page by page;
    once the writers stop and the lag has passed, the reader has every change, once."""
    settling = 0.4
    monkeypatch.setattr(services, "FEED_SETTLING", timedelta(seconds=settling))
    written: list[int] = []
    stop = time.monotonic() + 3

    def writer(lock, seed: int) -> None:
        rng = random.Random(seed)
        try:
            while time.monotonic() < stop:
                with transaction.atomic():
                    event = LockEvent.objects.create(
                        lock=lock,
                        actor_type="user",
                        kind=LockEvent.Kind.STATUS_CHANGED,
                        from_status=LockStatus.ASSIGNED_OVERLOCK,
                        to_status=LockStatus.RETURNED_TO_DROPBOX,
                    )
                    time.sleep(rng.uniform(0, settling / 2))  # a slow transaction
                written.append(event.pk)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=writer, args=(lock, n))
        for n, lock in enumerate([world.lock, world.sibling_lock])
    ]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    url = URL + "?limit=3"
    while any(t.is_alive() for t in threads):
        page = api.call(url, feed_key).data
        seen += [e["id"] for e in page["data"]]
        url = page["next"]
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    time.sleep(settling + 0.1)
    while True:
        page = api.call(url, feed_key).data
        if not page["data"]:
            break
        seen += [e["id"] for e in page["data"]]
        url = page["next"]

    assert len(written) > 10
    assert sorted(seen) == sorted(written)
    assert len(seen) == len(set(seen))


# --- updated_since on the units list ----------------------------------------------------


def test_updated_since_keeps_the_units_changed_since(world, api):
    key = ApiKeyFactory(account=world.facility.account, permissions=["read"])
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/"
    since = timezone.now() + timedelta(seconds=-1)
    assert [
        u["unit_number"]
        for u in api.call(url, key, data={"updated_since": since.isoformat()}).data["data"]
    ] == [world.unit.unit_number]
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api.call(url, key, data={"updated_since": later}).data["data"] == []


@pytest.mark.parametrize("value", ["yesterday", "2026-01-01T00:00:00", "", "2026-13-01T00:00:00Z"])
def test_a_bad_updated_since_is_400(world, api, value):
    key = ApiKeyFactory(account=world.facility.account, permissions=["read"])
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/"
    response = api.call(url, key, data={"updated_since": value})
    assert (response.status_code, error_code(response)) == (400, "invalid_parameter")
    assert "updated_since" in response.data["error"]["message"]
