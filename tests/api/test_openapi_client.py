"""The served OpenAPI document as an integrator's tools read it: openapi-core validates live
answers against it (errors included), and openapi-python-client generates a client from it
whose models type every field of a facility, a unit and a lock as the API answers them."""

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

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from davinci.accounts.permissions import WITHHELD_STATUSES
from facilities.models import LockStatus
from integrations.api import serializers
from tests.api.conftest import lock_in
from tests.factories import UnitFactory


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
