"""Every POST of the API: JSON bodies and the Idempotency-Key (integrations/api/idempotency.py),
through a write that does only what its body asks (tests/api/idempotency_urls.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.api.idempotency import idempotency_keys_expire
from integrations.models import IdempotencyKey
from tests.api import idempotency_urls
from tests.api.conftest import error_code, key_headers
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.urls("tests.api.idempotency_urls")

URL = "/api/v1/test-writes/one/"


@pytest.fixture(autouse=True)
def _acted():
    idempotency_urls.ACTED.clear()
    yield idempotency_urls.ACTED


@pytest.fixture
def key(account):
    return ApiKeyFactory(account=account)


def post(api, key, body=None, *, idempotency_key="k-1", url=URL, **extra):
    headers = key_headers(key)
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    data = json.dumps(body if body is not None else {}) if not isinstance(body, str) else body
    extra.setdefault("content_type", "application/json")
    return api.call(url, method="post", data=data, **headers, **extra)


def test_the_first_answer_is_replayed_byte_for_byte(api, key, _acted):
    first = post(api, key, {"a": 1})
    assert first.status_code == 200 and "Idempotent-Replayed" not in first
    again = post(api, key, {"a": 1})
    assert again.content == first.content
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Cache-Control"] == "no-store"
    assert _acted == [{"a": 1}]


def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(api, key, _acted):
    post(api, key, '{"a": 1, "b": 2}')
    assert post(api, key, '{"b":2,"a":1}')["Idempotent-Replayed"] == "true"
    assert len(_acted) == 1


def test_a_new_idempotency_key_acts_again(api, key, _acted):
    post(api, key, {"a": 1}, idempotency_key="k-1")
    assert post(api, key, {"a": 1}, idempotency_key="k-2").data["data"]["acted"] == 2


@pytest.mark.parametrize(
    "other", [{"body": {"a": 2}}, {"url": "/api/v1/test-writes/two/"}], ids=["body", "path"]
)
def test_the_same_idempotency_key_for_another_request_is_refused(api, key, other, _acted):
    post(api, key, {"a": 1})
    response = post(api, key, **({"body": {"a": 1}} | other))
    assert (response.status_code, error_code(response)) == (422, "idempotency_key_reused")
    assert len(_acted) == 1


def test_idempotency_keys_belong_to_one_api_key(api, key, account, _acted):
    post(api, key, {"a": 1})
    other = post(api, ApiKeyFactory(account=account), {"a": 1})
    assert other.status_code == 200 and "Idempotent-Replayed" not in other
    assert len(_acted) == 2


@pytest.mark.parametrize(
    ("idempotency_key", "code"),
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("x" * 256, "idempotency_key_invalid"),
        ("tab\there", "idempotency_key_invalid"),
        ("clé", "idempotency_key_invalid"),
    ],
)
def test_the_idempotency_key_is_required_and_printable(api, key, idempotency_key, code, _acted):
    response = post(api, key, {"a": 1}, idempotency_key=idempotency_key)
    assert (response.status_code, error_code(response)) == (400, code)
    assert _acted == [] and not IdempotencyKey.objects.exists()


def test_the_longest_idempotency_key_is_accepted(api, key):
    assert post(api, key, idempotency_key="x" * 255).status_code == 200


@pytest.mark.parametrize(
    ("body", "extra", "status", "code"),
    [
        ("{}", {"content_type": "text/plain"}, 415, "unsupported_media_type"),
        ("a=1", {"content_type": "application/x-www-form-urlencoded"}, 415, None),
        ('{"a": 1', {}, 400, "invalid_body"),
        ("[1, 2]", {}, 400, "invalid_body"),
        ("", {"CONTENT_TYPE": "application/json"}, 400, "invalid_body"),
        ('{"a": "' + "x" * 16 * 1024 + '"}', {}, 413, "request_too_large"),
    ],
    ids=["text", "form", "broken", "array", "empty", "too_large"],
)
def test_bodies_are_json_objects_of_at_most_16_kb(api, key, body, extra, status, code, _acted):
    response = post(api, key, body, **extra)
    assert response.status_code == status
    assert error_code(response) == (code or "unsupported_media_type")
    assert _acted == [] and not IdempotencyKey.objects.exists()


def test_a_body_just_under_the_limit_is_read(api, key):
    body = '{"a": "' + "x" * (16 * 1024 - 9) + '"}'
    assert len(body) == 16 * 1024
    assert post(api, key, body).status_code == 200


def test_a_refused_field_is_not_stored(api, key, _acted):
    response = post(api, key, {"fail": "field"})
    assert (response.status_code, error_code(response)) == (400, "invalid_body")
    assert "fail" in response.data["error"]["message"]
    fixed = post(api, key, {"fail": "no"})
    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed


def test_a_failure_while_acting_releases_the_idempotency_key(api, key, _acted):
    failed = post(api, key, {"fail": "exception"})
    assert (failed.status_code, error_code(failed)) == (500, "internal_error")
    assert not IdempotencyKey.objects.exists()
    # The same request again acts (the failure was not stored); then it is replayed.
    retried = post(api, key, {"fail": "exception"})
    assert retried.status_code == 500
    assert post(api, key, {"a": 1}, idempotency_key="k-2").status_code == 200


def test_an_answer_of_the_endpoint_other_than_200_is_stored(api, key, _acted):
    first = post(api, key, {"fail": "not_found"})
    assert first.status_code == 404
    again = post(api, key, {"fail": "not_found"})
    assert (again.status_code, again["Idempotent-Replayed"]) == (404, "true")
    assert again.content == first.content and len(_acted) == 1


def test_a_key_still_acting_is_in_use(api, key, _acted):
    post(api, key, {"a": 1})
    IdempotencyKey.objects.update(status=None, response_encrypted="")  # as while acting
    response = post(api, key, {"a": 1})
    assert (response.status_code, error_code(response)) == (409, "idempotency_key_in_use")
    assert response["Retry-After"] == "1"
    assert len(_acted) == 1


def test_a_claim_whose_request_died_is_given_up(api, key, _acted):
    post(api, key, {"a": 1})
    IdempotencyKey.objects.update(
        status=None, response_encrypted="", created_at=timezone.now() - timedelta(minutes=3)
    )
    assert post(api, key, {"a": 1}).status_code == 200
    assert len(_acted) == 2


def test_answers_are_kept_24_hours(api, key, _acted):
    post(api, key, {"a": 1})
    stored = IdempotencyKey.objects.get()
    assert (
        timedelta(hours=23, minutes=59) < stored.expires_at - timezone.now() <= timedelta(hours=24)
    )
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # Past its 24 hours the Idempotency-Key is free again, even before the sweep.
    assert "Idempotent-Replayed" not in post(api, key, {"a": 1})
    assert len(_acted) == 2


def test_the_stored_answer_is_encrypted(api, key):
    post(api, key, {"secret_word": "swordfish"})
    stored = IdempotencyKey.objects.get()
    assert "swordfish" not in stored.response_encrypted
    assert stored.status == 200


def test_beat_removes_expired_answers_only(api, key):
    post(api, key, {"a": 1}, idempotency_key="old")
    post(api, key, {"a": 1}, idempotency_key="new")
    IdempotencyKey.objects.filter(key="old").update(expires_at=timezone.now())
    assert idempotency_keys_expire() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    task = settings.CELERY_BEAT_SCHEDULE["api-idempotency-keys-expire"]
    assert task["task"] == "integrations.idempotency_keys_expire"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_write_answers_only_post(api, key, method):
    response = api.call(URL, key, method=method)
    assert (response.status_code, response["Allow"]) == (405, "POST")


def test_cookies_and_csrf_play_no_part(api, key, _acted):
    api.cookies["sessionid"] = "whatever"
    api.cookies["csrftoken"] = "whatever"
    assert post(api, key, {"a": 1}).status_code == 200


def test_the_beat_task_runs_the_sweep(api, key):
    from integrations.tasks import expire_idempotency_keys

    post(api, key, {"a": 1})
    IdempotencyKey.objects.update(expires_at=timezone.now())
    assert expire_idempotency_keys() == 1
