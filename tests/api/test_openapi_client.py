"""The served OpenAPI document as an integrator's tools read it: openapi-core validates live
answers against it (errors included, the writes' too), and openapi-python-client generates a
client from it whose models type every field of a facility, a unit and a lock as the API
answers them, and which calls both writes with their Idempotency-Key."""

from __future__ import annotations

import datetime
import enum
import importlib
import json
import subprocess
import sys
import types
import typing
from pathlib import Path

import httpx
import pytest
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from davinci.accounts.permissions import WITHHELD_STATUSES
from facilities.models import LockEvent, LockStatus
from integrations.api import serializers
from tests.api.conftest import lock_in
from tests.api.test_writes import CALL_CENTER
from tests.factories import ApiKeyFactory, UnitFactory


@pytest.fixture
def served(api, db) -> dict:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def lookups(world) -> dict[str, str]:
    """A URL per kind of answer: codes given and withheld, a unit without a lock, lists."""
    lock_in(world.facility, "A200", LockStatus.ASSIGNED_AUCTION, "HD000200")
    UnitFactory(facility=world.facility, unit_number="C300")
    base = f"/api/v1/facilities/{world.facility.facility_id}"
    return {
        "facilities": "/api/v1/facilities/?limit=1",
        "facility": f"{base}/",
        "units": f"{base}/units/?limit=200",
        "unit": f"{base}/units/A101/",
        "unit withheld": f"{base}/units/A200/",
        "unit without a lock": f"{base}/units/C300/",
        "lock": f"{base}/locks/HD000001/",
        "lock withheld": f"{base}/locks/HD000200/",
    }


# --- openapi-core: live answers against the served document --------------------------------


def test_openapi_core_accepts_the_live_answers(world, api, served, lookups):
    spec = OpenAPI.from_dict(served)
    fid = world.facility.facility_id
    refused = {
        "/api/v1/facilities/ZZ000000/": 404,
        f"/api/v1/facilities/{fid}/locks/ZZ000000/": 404,
        f"/api/v1/facilities/{fid}/units/NOPE/": 404,
        f"/api/v1/facilities/{fid}/units/?cursor=not-a-cursor": 400,
        "/api/v1/facilities/?cursor=eyJhZnRlciI6MX0": 400,  # {"after":1}: no cursor of ours
        f"/api/v1/facilities/{fid}/units/A101/?api_key=dvk_x": 400,
        f"/api/v1/facilities/{fid}/locks/HD000001/?secret=x": 400,
        "/api/v1/facilities/?X-API-Key=x": 400,
    }
    answers = [(url, 200, world.key) for url in lookups.values()]
    answers += [(url, status, world.key) for url, status in refused.items()]
    answers += [(lookups["unit"], 401, None), (lookups["facilities"], 401, None)]
    for url, status, key in answers:
        response = api.call(url, key)
        assert response.status_code == status, (url, response.data)
        request = DjangoOpenAPIRequest(response.wsgi_request)
        if status == 200:
            spec.validate_request(request)
        spec.validate_response(request, DjangoOpenAPIResponse(response))


def test_openapi_core_refuses_an_answer_the_document_does_not_allow(world, api, served, lookups):
    """The check above can fail: the same answer with a withheld reason the document does not
    list is refused."""
    from openapi_core.validation.response.exceptions import InvalidData

    response = api.call(lookups["lock"], world.key)
    data = json.loads(response.content)
    data["data"]["unlock_code_withheld"] = "assigned_overlock"
    response.content = json.dumps(data).encode()
    request = DjangoOpenAPIRequest(response.wsgi_request)
    with pytest.raises(InvalidData):
        OpenAPI.from_dict(served).validate_response(request, DjangoOpenAPIResponse(response))


# --- openapi-python-client: a generated client's models ------------------------------------


@pytest.fixture
def client_models(served, tmp_path) -> types.ModuleType:
    """The models of a client generated from the served document (no warning allowed: a
    part of the document the generator cannot read is a failure here)."""
    document, config = tmp_path / "openapi.json", tmp_path / "config.json"
    document.write_text(json.dumps(served))
    config.write_text(json.dumps({"post_hooks": []}))  # no formatter needed to import it
    generator = Path(sys.executable).with_name("openapi-python-client")
    package = f"davinci_client_{tmp_path.name.replace('-', '_')}"
    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            document,
            "--config",
            config,
            "--meta",
            "none",
            "--fail-on-warning",
            "--output-path",
            tmp_path / package,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(f"{package}.models")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith(package)]:
            del sys.modules[name]


def _enum_values(annotation) -> set[str]:
    assert isinstance(annotation, type) and issubclass(annotation, enum.Enum), annotation
    return {member.value for member in annotation}


def _optional(annotation) -> typing.Any:
    """T of `T | None` (one type and None, as generators write a nullable field)."""
    assert isinstance(annotation, types.UnionType), annotation
    (inner,) = set(typing.get_args(annotation)) - {type(None)}
    return inner


LOCK_SUMMARY_FIELDS = {
    "serial": str,
    "status": "LockStatus",
    "status_label": str,
    "unit_number": str | None,
    "facility_id": str,
    "updated_at": datetime.datetime,
}
# The type each field of each generated model must have: a string names a generated model.
EXPECTED_TYPES = {
    "Facility": {"facility_id": str, "name": str, "address": str},
    "LockSummary": LOCK_SUMMARY_FIELDS,
    "Lock": {**LOCK_SUMMARY_FIELDS, "unlock_code": str | None, "unlock_code_withheld": "withheld"},
    "UnitListItem": {"unit_number": str, "facility_id": str, "lock": "LockSummary | None"},
    "Unit": {"unit_number": str, "facility_id": str, "lock": "Lock | None"},
}


def test_the_generated_models_type_every_field_of_facility_unit_and_lock(client_models):
    for name, expected in EXPECTED_TYPES.items():
        model = getattr(client_models, name)
        hints = typing.get_type_hints(model, localns=vars(client_models))
        built_as = getattr(serializers, f"{name}Data")
        assert set(hints) == set(expected) == set(typing.get_type_hints(built_as)), name
        for field, kind in expected.items():
            actual = hints[field]
            if kind == "LockStatus":
                assert _enum_values(actual) == {status.value for status in LockStatus}
            elif kind == "withheld":  # one enum of the withheld statuses, or None
                assert _enum_values(_optional(actual)) == set(WITHHELD_STATUSES), actual
            elif isinstance(kind, str):
                assert _optional(actual) is getattr(client_models, kind.removesuffix(" | None"))
            elif isinstance(kind, types.UnionType):
                assert set(typing.get_args(actual)) == set(typing.get_args(kind)), (name, field)
            else:
                assert actual is kind, (name, field, actual)


def test_the_generated_models_read_and_write_the_live_answers_unchanged(
    world, api, client_models, lookups
):
    models = client_models
    read_as = {
        "facilities": models.FacilityPage,
        "facility": models.Facility,
        "units": models.UnitPage,
        "unit": models.Unit,
        "unit withheld": models.Unit,
        "unit without a lock": models.Unit,
        "lock": models.Lock,
        "lock withheld": models.Lock,
    }
    for case, url in lookups.items():
        answer = api.call(url, world.key).data
        data = answer if case in {"facilities", "units"} else answer["data"]
        parsed = read_as[case].from_dict(data)
        assert parsed.to_dict() == data, case
    withheld = models.Lock.from_dict(api.call(lookups["lock withheld"], world.key).data["data"])
    assert withheld.unlock_code is None
    assert withheld.unlock_code_withheld.value == "assigned_auction"
    given = models.Unit.from_dict(api.call(lookups["unit"], world.key).data["data"])
    assert isinstance(given.lock, models.Lock) and given.lock.unlock_code == "1234"
    assert given.lock.unlock_code_withheld is None
    assert isinstance(given.lock.updated_at, datetime.datetime)


# --- the writes, as a generated client and openapi-core see them ---------------------------


def _post(api, url: str, body: object, key, idempotency_key: str | None = "idem-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    return api.call(
        url,
        key,
        method="post",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type=extra.pop("content_type", "application/json"),
        **headers,
        **extra,
    )


def test_openapi_core_accepts_the_live_answers_of_the_writes(world, api, served):
    spec = OpenAPI.from_dict(served)
    writer = ApiKeyFactory(account=world.facility.account, permissions=CALL_CENTER)
    no_read = ApiKeyFactory(account=world.facility.account, permissions=["release", "set_status"])
    lock_in(world.facility, "A300", LockStatus.ASSIGNED_OVERLOCK, "HD000300")
    base = f"/api/v1/facilities/{world.facility.facility_id}"
    release, status = f"{base}/units/A101/release/", f"{base}/locks/HD000001/status/"
    calls = [
        (release, {"notify_tenant": False}, writer, "r-1", {}, 200),
        (release, {"notify_tenant": False}, writer, "r-1", {}, 200),  # replayed
        (release, {}, writer, "r-2", {}, 409),  # invalid_transition
        (release, {"notify_tenant": True}, writer, "r-1", {}, 422),  # reused
        (release, {"notify_tenant": "yes"}, writer, "r-3", {}, 400),  # invalid_body
        (release, {}, writer, None, {}, 400),  # idempotency_key_required
        (release, "notify_tenant=1", writer, "r-4", {"content_type": "text/plain"}, 415),
        (release, {"pad": "x" * 17_000}, writer, "r-5", {}, 413),
        (release, {}, world.key, "r-6", {}, 403),  # insufficient_permission
        (release, {}, None, "r-7", {}, 401),
        (f"{base}/units/NOPE/release/", {}, writer, "r-8", {}, 404),
        (f"{base}/units/A300/release/", {"notify_tenant": False}, no_read, "r-9", {}, 200),
        (status, {"status": "tenant_using_lock"}, writer, "s-1", {}, 200),
        (status, {"status": "returned_to_dropbox"}, no_read, "s-2", {}, 200),
        (status, {"status": "available"}, writer, "s-3", {}, 400),
        (f"{base}/locks/HD000300/status/", {"status": "tenant_using_lock"}, writer, "s-4", {}, 200),
        (f"{base}/locks/ZZ000000/status/", {"status": "tenant_using_lock"}, writer, "s-5", {}, 404),
    ]
    replayed = 0
    for url, body, key, idempotency_key, extra, expected in calls:
        response = _post(api, url, body, key, idempotency_key, **extra)
        assert response.status_code == expected, (url, body, response.data)
        replayed += response.get("Idempotent-Replayed") == "true"
        request = DjangoOpenAPIRequest(response.wsgi_request)
        if expected == 200:
            spec.validate_request(request)
        spec.validate_response(request, DjangoOpenAPIResponse(response))
    assert replayed == 1


class DjangoTransport(httpx.BaseTransport):
    """Hands a generated client's requests to Django's test client: the same process and
    test database, Django's own request handling."""

    def __init__(self) -> None:
        self.client = Client(raise_request_exception=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in {"host", "content-length", "content-type"}
        }
        response = self.client.generic(
            request.method,
            request.url.raw_path.decode(),
            data=request.read(),
            content_type=request.headers.get("content-type", ""),
            headers=headers,
        )
        return httpx.Response(
            response.status_code, headers=dict(response.items()), content=response.content
        )


@pytest.fixture
def client_package(client_models) -> types.ModuleType:
    return importlib.import_module(client_models.__name__.removesuffix(".models"))


def test_the_generated_client_calls_both_writes_with_an_idempotency_key(
    world, client_package, client_models
):
    models = client_models
    write = importlib.import_module(f"{client_package.__name__}.api.write")
    release_unit = importlib.import_module(f"{write.__name__}.release_unit")
    set_lock_status = importlib.import_module(f"{write.__name__}.set_lock_status")
    key = ApiKeyFactory(account=world.facility.account, permissions=CALL_CENTER)
    lock_in(world.facility, "A300", LockStatus.ASSIGNED_OVERLOCK, "HD000300")
    client = client_package.Client(
        base_url="http://testserver/api/v1",
        headers={"X-API-Key": key.api_key, "X-API-Secret": key.plain_secret},
        httpx_args={"transport": DjangoTransport()},
        raise_on_unexpected_status=True,
    )
    fid = world.facility.facility_id

    released = release_unit.sync_detailed(
        fid,
        "A101",
        client=client,
        body=models.ReleaseRequest(notify_tenant=False),
        idempotency_key="client-1",
    )
    assert released.status_code == 200, released.content
    assert isinstance(released.parsed, models.Release)
    assert isinstance(released.parsed.data, models.Unit)
    assert isinstance(released.parsed.data.lock, models.Lock)
    assert released.parsed.data.lock.status == models.LockStatus.RETURNED_TO_DROPBOX
    assert released.parsed.data.lock.unlock_code == "1234"
    assert released.parsed.tenant_notice.requested is False
    assert "Idempotent-Replayed" not in released.headers

    again = release_unit.sync_detailed(
        fid,
        "A101",
        client=client,
        body=models.ReleaseRequest(notify_tenant=False),
        idempotency_key="client-1",
    )
    assert again.content == released.content and again.headers["Idempotent-Replayed"] == "true"
    refused = release_unit.sync(
        fid, "A101", client=client, body=models.ReleaseRequest(), idempotency_key="client-2"
    )
    assert isinstance(refused, models.Error)
    assert refused.error.code == models.ErrorErrorCode.INVALID_TRANSITION

    changed = set_lock_status.sync(
        fid,
        "HD000300",
        client=client,
        body=models.LockStatusRequest(status=models.LockStatusRequestStatus.TENANT_USING_LOCK),
        idempotency_key="client-3",
    )
    assert isinstance(changed, models.LockStatusChange), changed
    assert changed.data.serial == "HD000300"
    assert changed.data.status == models.LockStatus.TENANT_USING_LOCK
    assert LockEvent.objects.filter(api_key=key, kind=LockEvent.Kind.RELEASED).count() == 1
