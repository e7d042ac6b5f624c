"""A key's usage (integrations/usage.py): lookups per day from its LockEvents, refused
requests (401/403/429) counted in the cache, with no database write, then folded into
ApiKeyUsageDay rows; the chart shows the same numbers before and after the fold."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilities.models import LockEvent
from integrations import usage
from integrations.models import ApiKeyUsageDay
from tests.api.conftest import key_headers
from tests.factories import ApiKeyFactory


def _lookup(api, world, key=None, **extra):
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/A101/"
    return api.call(url, key or world.key, **extra)


def _lookup_at(api, world, when, monkeypatch):
    """A lookup whose LockEvent is written at `when` (history is append-only: no update)."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: when)
        assert _lookup(api, world).status_code == 200


def _today(days):
    return days[-1]


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def produced(world, api):
    """Three lookups and one request refused each way, all today."""
    for _ in range(3):
        assert _lookup(api, world).status_code == 200
    another = ApiKeyFactory(account=world.facility.account)
    wrong = api.get(
        f"/api/v1/facilities/{world.facility.facility_id}/",
        **key_headers(world.key, secret=another.plain_secret),  # well-formed, not this key's
    )
    assert wrong.status_code == 401
    disabled = ApiKeyFactory(account=world.facility.account, is_active=False)
    assert _lookup(api, world, disabled).status_code == 401
    fenced = ApiKeyFactory(account=world.facility.account, allowed_ips=["198.51.100.0/24"])
    assert _lookup(api, world, fenced, REMOTE_ADDR="192.0.2.1").status_code == 403
    return disabled, fenced


def test_the_days_count_lookups_and_refused_requests(world, produced):
    disabled, fenced = produced
    days = usage.usage_days(api_key=world.key)
    assert len(days) == usage.CHART_DAYS
    today = _today(days)
    assert today.day == timezone.now().astimezone(UTC).date()
    assert today.lookups == 3 == LockEvent.objects.filter(api_key=world.key).count()
    assert today.refused == {401: 1, 403: 0, 429: 0}
    assert _today(usage.usage_days(api_key=disabled)).refused == {401: 1, 403: 0, 429: 0}
    assert _today(usage.usage_days(api_key=fenced)).refused == {401: 0, 403: 1, 429: 0}
    assert sum(day.lookups + day.refused_total for day in days[:-1]) == 0


def _write(api, url, key, body, idempotency_key):
    return api.call(
        url,
        key,
        method="post",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )


@pytest.fixture
def written(world, api):
    """A release and a status change by a key that may write but not read (so no lookup),
    and a release by the world's key (read, release): a write and the code it read."""
    writer = ApiKeyFactory(account=world.facility.account, permissions=["release", "set_status"])
    base = f"/api/v1/facilities/{world.facility.facility_id}"
    body = {"notify_tenant": False}
    assert _write(api, f"{base}/units/A101/release/", writer, body, "w-1").status_code == 200
    # The replay and the refused second release are not writes.
    assert _write(api, f"{base}/units/A101/release/", writer, body, "w-1").status_code == 200
    assert _write(api, f"{base}/units/A101/release/", writer, body, "w-2").status_code == 409
    status = {"status": "tenant_using_lock"}
    assert _write(api, f"{base}/locks/HD000001/status/", writer, status, "w-3").status_code == 200
    world.key.permissions = ["read", "release"]
    world.key.save(update_fields=["permissions"])
    sibling = f"/api/v1/facilities/{world.sibling.facility_id}/units/A101/release/"
    assert _write(api, sibling, world.key, body, "w-4").status_code == 200
    return writer


def test_the_days_count_the_writes_of_the_key(world, written):
    today = _today(usage.usage_days(api_key=written))
    assert (today.lookups, today.writes, today.refused_total) == (0, 2, 0)
    reader = _today(usage.usage_days(api_key=world.key))
    assert (reader.lookups, reader.writes) == (1, 1)  # the release, and the code it answered


def test_the_key_page_shows_its_writes(world, written, owner_client):
    html = owner_client.get(reverse("integrations:api_key_detail", args=[written.pk])).content
    html = html.decode()
    today = timezone.now().astimezone(UTC).date()
    cells = "<td>0</td><td>2</td><td>0</td><td>0</td><td>0</td>"
    assert f'<tr><th scope="row">{today:%b} {today.day}</th>{cells}</tr>' in html
    assert "0 lookups, 2 writes and 0 refused requests in the last 30 days" in html
    assert 'class="usage-writes"' in html


@override_settings(API_RATE_LIMIT_PER_MINUTE=2)
def test_rate_limited_requests_are_counted_as_429(world, api):
    statuses = [_lookup(api, world).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    today = _today(usage.usage_days(api_key=world.key))
    assert (today.lookups, today.refused[429]) == (2, 2)


def test_a_refused_request_writes_nothing_to_the_database(world, api):
    disabled = ApiKeyFactory(account=world.facility.account, is_active=False)
    with CaptureQueriesContext(connection) as queries:
        assert _lookup(api, world, disabled).status_code == 401
    assert len(queries) == 1 and not _writes(queries)  # the key, read once
    assert _today(usage.usage_days(api_key=disabled)).refused[401] == 1


def test_fold_moves_the_counts_into_rows_and_the_chart_does_not_change(world, produced, api):
    disabled, _fenced = produced
    before = usage.usage_days(api_key=disabled)
    assert usage.usage_fold() == 3  # the wrong secret, the disabled key, the fenced address
    row = ApiKeyUsageDay.objects.get(api_key=disabled)
    assert (row.refused_401, row.refused_403, row.refused_429) == (1, 0, 0)
    assert usage.usage_days(api_key=disabled) == before
    assert usage.usage_fold() == 0  # nothing moved twice
    # Counted after the fold: waiting in the cache, added to the row by the next fold.
    assert _lookup(api, world, disabled).status_code == 401
    assert _today(usage.usage_days(api_key=disabled)).refused[401] == 2
    assert usage.usage_fold() == 1
    assert ApiKeyUsageDay.objects.get(api_key=disabled).refused_401 == 2
    assert _today(usage.usage_days(api_key=disabled)).refused[401] == 2


def test_fold_runs_once_at_a_time(world, produced):
    from django.core.cache import cache

    cache.add(usage.FOLD_LOCK, 1)
    assert usage.usage_fold() == 0 and not ApiKeyUsageDay.objects.exists()
    cache.delete(usage.FOLD_LOCK)
    assert usage.usage_fold() == 3


def test_older_lookups_fall_on_their_day_and_out_of_the_window(world, api, monkeypatch):
    now = timezone.now()
    _lookup_at(api, world, now - timedelta(days=5), monkeypatch)
    _lookup_at(api, world, now - timedelta(days=40), monkeypatch)
    days = usage.usage_days(api_key=world.key)
    five_days_ago = (now - timedelta(days=5)).astimezone(UTC).date()
    assert {day.day: day.lookups for day in days if day.lookups} == {five_days_ago: 1}


def test_the_beat_schedule_folds_every_five_minutes_with_a_task_the_worker_knows(
    settings, world, produced
):
    from davinci.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["api-usage-fold"]
    assert entry == {"task": "integrations.usage_fold", "schedule": 300.0}
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert app.tasks["integrations.usage_fold"].apply().get() == 3


# --- The pages -------------------------------------------------------------------------------


def test_the_key_page_draws_the_numbers_the_api_produced(world, produced, owner_client):
    response = owner_client.get(reverse("integrations:api_key_detail", args=[world.key.pk]))
    html = response.content.decode()
    assert '<svg class="usage-chart"' in html and 'role="img"' in html
    today = timezone.now().astimezone(UTC).date()
    cells = "<td>3</td><td>0</td><td>1</td><td>0</td><td>0</td>"  # lookups, writes, refused
    row = f'<tr><th scope="row">{today:%b} {today.day}</th>{cells}</tr>'
    assert row in html
    assert "3 lookups and 1 refused request in the last 30 days" in html


def _key_page_queries(client, key) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("integrations:api_key_detail", args=[key.pk])).status_code == 200
    return len(queries)


def test_the_key_page_costs_the_same_with_more_use(world, api, owner_client, monkeypatch):
    quiet = _key_page_queries(owner_client, world.key)
    for days_ago in range(5):
        _lookup_at(api, world, timezone.now() - timedelta(days=days_ago), monkeypatch)
    usage.refused_count(api_key_id=world.key.pk, status=429)
    usage.usage_fold()
    assert _key_page_queries(owner_client, world.key) == quiet


def test_the_list_shows_recent_lookups_and_what_each_key_can_read(
    world, api, owner_client, monkeypatch
):
    _lookup(api, world)
    _lookup_at(api, world, timezone.now() - timedelta(days=8), monkeypatch)
    world.excluded.include_in_api = True  # three of the account's facilities now
    world.excluded.save()
    ApiKeyFactory(account=world.facility.account, name="Scoped", facilities=[world.sibling])
    world.sibling.include_in_api = False
    world.sibling.save()
    response = owner_client.get(reverse("integrations:api_settings"))
    keys = {key.name: key for key in response.context["page"]}
    assert (keys[world.key.name].recent_lookups, keys[world.key.name].readable_count) == (1, 2)
    assert (keys["Scoped"].recent_lookups, keys["Scoped"].readable_count) == (0, 0)
    html = response.content.decode()
    assert "Reads nothing" in html


def test_the_list_costs_the_same_with_more_keys(world, owner_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            owner_client.get(reverse("integrations:api_settings"))
        return len(captured)

    few = queries()
    for _ in range(10):
        ApiKeyFactory(account=world.facility.account, facilities=[world.facility, world.sibling])
    assert queries() == few
