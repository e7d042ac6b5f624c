"""The OpenAPI 3.1 document: valid, public, describing exactly the API's operations, and
matching what the API really answers. /api/docs/ is rendered from it."""

from __future__ import annotations

import ast
import json
import re
import types
import typing
from pathlib import Path

import pytest
from django.urls import URLPattern, get_resolver
from django.utils.html import escape
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from davinci.accounts.permissions import WITHHELD_STATUSES
from facilities.models import UNIT_STATUSES, LockStatus, serial_validator
from integrations.api import openapi, serializers
from integrations.api import services as api_services
from integrations.api import views as api_module
from integrations.api.auth import URL_CREDENTIALS
from integrations.api.errors import FALLBACK_ERRORS, UNLISTED_ERROR
from tests.api.conftest import lock_in
from tests.factories import UnitFactory


@pytest.fixture
def document(api, db) -> dict:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_document_is_valid_openapi_3_1_and_needs_no_credentials(document):
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_document_describes_exactly_the_routes_of_the_api(document):
    resolver = get_resolver()
    (api_patterns,) = [p for p in resolver.url_patterns if str(p.pattern) == "api/"]
    routes = set()
    for pattern in api_patterns.url_patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in {"docs", "not_found"}:
            continue
        route = "/api/" + re.sub(r"<str:(\w+)>", r"{\1}", str(pattern.pattern))
        routes.add(route)
    assert routes == {openapi.SERVER_URL + path for path in document["paths"]}
    for path, item in document["paths"].items():
        # The writes answer POST, everything else GET (integrations/api/urls.py); the event
        # feed (/events/) is read, a unit's FMS events (/units/{unit_number}/events/) written.
        writes = ("/release/", "/status/", "/events/")
        write = path.endswith(writes) and path != "/events/"
        assert set(item) == ({"post"} if write else {"get"})


def _parameter(document: dict, name: str) -> dict:
    for item in document["paths"].values():
        (operation,) = item.values()
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                parameter = document["components"]["parameters"][parameter["$ref"].split("/")[-1]]
            if parameter["name"] == name:
                return parameter["schema"]
    raise AssertionError(name)


def _status(api, world, query: str) -> int:
    url = f"/api/v1/facilities/{world.facility.facility_id}/units/?{query}"
    return api.call(url, world.key).status_code


def test_the_documents_limits_are_the_ones_the_api_enforces(world, api, document):
    """Page sizes, statuses and the search length as the document states them, held against
    what the API answers (a change on either side alone fails here)."""
    limit = _parameter(document, "limit")
    assert _status(api, world, f"limit={limit['maximum']}") == 200
    assert _status(api, world, f"limit={limit['maximum'] + 1}") == 400
    assert _status(api, world, f"limit={limit['minimum']}") == 200
    assert _status(api, world, f"limit={limit['minimum'] - 1}") == 400
    assert limit["default"] == api_services.DEFAULT_PAGE_SIZE
    statuses = _parameter(document, "status")["enum"]
    assert all(_status(api, world, f"status={value}") == 200 for value in statuses)
    unlisted = {s.value for s in LockStatus} - set(statuses)
    assert all(_status(api, world, f"status={value}") == 400 for value in unlisted)
    q = _parameter(document, "q")
    assert _status(api, world, "q=" + "A" * q["maxLength"]) == 200
    assert _status(api, world, "q=" + "A" * (q["maxLength"] + 1)) == 400


def test_the_documents_path_patterns_are_the_ones_the_api_enforces(document):
    """What the path patterns allow is exactly what the views look up (anything else is a
    404 without a query)."""
    facility_id = re.compile(_parameter(document, "facility_id")["pattern"])
    serial = re.compile(_parameter(document, "serial")["pattern"])
    for value in ["abc123", "A" * 32, "A" * 33, "ab-c", "ab_c", ""]:
        assert (api_module._facility_id(value) is not None) == bool(facility_id.match(value))
    for value in ["HD000001", "hd000001", "HD00001", "HD0000011", "HD-00001"]:
        assert (api_module._serial(value) is not None) == bool(serial.match(value)), value


def test_security_schemes_are_the_two_headers_and_basic(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == schemes["ApiKey"] | {"in": "header", "name": "X-API-Key"}
    assert schemes["ApiSecret"] == schemes["ApiSecret"] | {"in": "header", "name": "X-API-Secret"}
    assert schemes["Basic"]["scheme"] == "basic"
    assert document["security"] == [{"ApiKey": [], "ApiSecret": []}, {"Basic": []}]


def _validator(document: dict, operation_id: str, status: str) -> OAS31Validator:
    for item in document["paths"].values():
        (operation,) = item.values()
        if operation["operationId"] == operation_id:
            response = operation["responses"][status]
            if "$ref" in response:
                response = document["components"]["responses"][response["$ref"].split("/")[-1]]
            schema = response["content"]["application/json"]["schema"]
            return OAS31Validator({**schema, "components": document["components"]})
    raise AssertionError(operation_id)


def test_real_answers_match_the_document(world, api, document):
    lock_in(world.facility, "A200", LockStatus.ASSIGNED_AUCTION, "HD000200")
    UnitFactory(facility=world.facility, unit_number="C300")
    fid = world.facility.facility_id
    calls = [
        ("listFacilities", "/api/v1/facilities/", "200"),
        ("getFacility", f"/api/v1/facilities/{fid}/", "200"),
        ("listUnits", f"/api/v1/facilities/{fid}/units/?limit=1", "200"),
        ("listUnits", f"/api/v1/facilities/{fid}/units/?limit=200", "200"),
        ("getUnit", f"/api/v1/facilities/{fid}/units/A101/", "200"),
        ("getUnit", f"/api/v1/facilities/{fid}/units/A200/", "200"),
        ("getUnit", f"/api/v1/facilities/{fid}/units/C300/", "200"),
        ("getLock", f"/api/v1/facilities/{fid}/locks/HD000001/", "200"),
        ("getLock", f"/api/v1/facilities/{fid}/locks/HD000200/", "200"),
        ("getLock", f"/api/v1/facilities/{fid}/locks/ZZ000000/", "404"),
        ("listUnits", f"/api/v1/facilities/{fid}/units/?status=x", "400"),
    ]
    for operation_id, url, status in calls:
        response = api.call(url, world.key)
        assert str(response.status_code) == status, url
        _validator(document, operation_id, status).validate(response.data)
    unauthenticated = api.call("/api/v1/facilities/")
    _validator(document, "listFacilities", "401").validate(unauthenticated.data)


def test_docs_page_is_rendered_from_the_document(api, db, document):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for path, item in document["paths"].items():
        assert f"<code>{openapi.SERVER_URL}{path}</code>" in html
        (operation,) = item.values()
        assert escape(operation["summary"]) in html
    for code, _, _ in openapi.ERROR_CODES:
        assert f"<code>{code}</code>" in html
    assert "curl -s" in html and "X-API-Secret: $DAVINCI_API_SECRET" in html
    assert "Idempotency-Key: $(uuidgen)" in html and "-X POST" in html
    assert "http://testserver/api/v1/facilities/k3v9q2m7x1c8b4n6/units/A101/" in html
    # Served from this server only, and nothing inline for the CSP.
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert not re.search(r"""(src|href)=["']https?://(?!testserver/)""", html)


def test_docs_page_is_public(client, db):
    assert client.get("/api/docs/").status_code == 200


def test_examples_in_the_document_match_their_schemas(document):
    """The docs page shows examples built from the document: they must be valid answers."""
    for item in document["paths"].values():
        (operation,) = item.values()
        if operation["operationId"] == "getOpenApi":
            continue
        ok = next(status for status in operation["responses"] if status.startswith("2"))
        schema = operation["responses"][ok]["content"]["application/json"]["schema"]
        example = openapi._example(schema)
        OAS31Validator({**schema, "components": document["components"]}).validate(example)
        text = json.dumps(example)
        if '"status": ' in text:
            assert '"status": "assigned_overlock", "status_label": "Assigned Overlock"' in text


# --- The file against the code: a change on one side alone fails here ----------------------


def _schema(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def test_the_documents_statuses_are_the_models(document):
    assert _schema(document, "LockStatus")["enum"] == [status.value for status in LockStatus]
    assert _parameter(document, "status")["enum"] == sorted(UNIT_STATUSES)
    # One enum of the withheld statuses, or null: the form client generators make one enum of.
    withheld = _schema(document, "Lock")["properties"]["unlock_code_withheld"]["oneOf"]
    assert withheld == [{"type": "string", "enum": sorted(WITHHELD_STATUSES)}, {"type": "null"}]
    for status in LockStatus:
        assert f"`{status.value}`: {status.label}" in _schema(document, "LockStatus")["description"]


def test_the_documents_patterns_and_lengths_are_the_codes(document):
    for schema in ("Lock", "LockSummary"):
        serial = _schema(document, schema)["properties"]["serial"]["pattern"]
        assert serial.rstrip("$") == serial_validator.regex.pattern.rstrip("$")
    assert _parameter(document, "unit_number")["maxLength"] == api_module.UNIT_NUMBER_MAX_LENGTH
    assert _parameter(document, "q")["maxLength"] == api_module.Q_MAX_LENGTH
    limit = _parameter(document, "limit")
    assert (limit["maximum"], limit["default"]) == (
        api_services.MAX_PAGE_SIZE,
        api_services.DEFAULT_PAGE_SIZE,
    )
    pattern = _parameter(document, "facility_id")["pattern"]
    assert pattern.rstrip("$") == api_module.FACILITY_ID_PATTERN.pattern.removesuffix(r"\Z")


def _answered_errors() -> set[tuple[int, str]]:
    """(status, code) of every api_error(<status>, "<code>", ...) written in the API's code."""
    found = set()
    for path in Path(api_module.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "api_error"
                and len(node.args) >= 2
                and all(isinstance(arg, ast.Constant) for arg in node.args[:2])
            ):
                found.add((node.args[0].value, node.args[1].value))
    return found


def test_every_error_the_api_answers_is_in_the_document(document):
    table = {(row["status"], row["code"]) for row in document["x-error-codes"]}
    answered = _answered_errors()
    assert len(answered) >= 8  # the scan sees the views, the auth and the safety net
    assert answered <= table
    fallback = {code for code, _ in [*FALLBACK_ERRORS.values(), UNLISTED_ERROR]}
    enum = _schema(document, "Error")["properties"]["error"]["properties"]["code"]["enum"]
    assert set(enum) == {code for _, code in table} | fallback
    for status, code in table - {(405, "method_not_allowed")}:  # no operation answers 405
        assert any(f"`{code}`" in text for text in _error_responses(document, status)), code


def _error_responses(document: dict, status: int) -> list[str]:
    """The descriptions of every operation's answer with this status."""
    found = []
    for item in document["paths"].values():
        for operation in item.values():
            response = operation["responses"].get(str(status))
            if response and "$ref" in response:
                response = document["components"]["responses"][response["$ref"].split("/")[-1]]
            if response:
                found.append(response["description"])
    return found


def test_no_example_gives_a_code_and_a_reason_to_withhold_it(document):
    for schema in ("Lock", "Unit"):
        example = openapi._example({"$ref": f"#/components/schemas/{schema}"})
        lock = example.get("lock", example) if schema == "Unit" else example
        assert (lock["unlock_code"] is None) != (lock["unlock_code_withheld"] is None), lock


def test_the_cursor_is_described_as_opaque(document):
    """A pattern that lets through values the server refuses (`cursor=s` is 400) promises
    what the API does not keep: the cursor is opaque, taken from `next` as it is."""
    assert _parameter(document, "cursor") == {"type": "string"}
    (cursor,) = [p for p in document["components"]["parameters"].values() if p["name"] == "cursor"]
    assert "opaque" in cursor["description"] and "`next`" in cursor["description"]


def test_every_operation_with_a_key_lists_400_and_refuses_credentials_in_the_url(
    world, api, document
):
    """Credentials in the query string are refused by every key-authenticated operation
    (integrations/api/auth.py), before anything else: each one lists that 400."""
    fid = world.facility.facility_id
    urls = {
        "listFacilities": "/api/v1/facilities/",
        "getFacility": f"/api/v1/facilities/{fid}/",
        "listUnits": f"/api/v1/facilities/{fid}/units/",
        "getUnit": f"/api/v1/facilities/{fid}/units/A101/",
        "getLock": f"/api/v1/facilities/{fid}/locks/HD000001/",
        "listEvents": "/api/v1/events/",
        "releaseUnit": f"/api/v1/facilities/{fid}/units/A101/release/",
        "setLockStatus": f"/api/v1/facilities/{fid}/locks/HD000001/status/",
        "sendFmsEvent": f"/api/v1/facilities/{fid}/units/A101/events/",
    }
    operations = [operation for item in document["paths"].values() for operation in item.values()]
    secured = {
        operation["operationId"]
        for operation in operations
        if operation.get("security", document["security"]) != []
    }
    assert secured == set(urls)
    for operation_id, url in urls.items():
        method = (
            "post" if operation_id in {"releaseUnit", "setLockStatus", "sendFmsEvent"} else "get"
        )
        for name in sorted(URL_CREDENTIALS):
            response = api.call(f"{url}?{name}=x", world.key, method=method)
            assert response.status_code == 400, (url, name)
            assert response.data["error"]["code"] == "invalid_parameter"
            _validator(document, operation_id, "400").validate(response.data)


# --- The document's objects against integrations/api/serializers.py -----------------------

# Each object schema of the document, and the TypedDict its answers are built as.
BUILT_AS = {
    "Facility": serializers.FacilityData,
    "FacilityPage": serializers.FacilityPageData,
    "LockSummary": serializers.LockSummaryData,
    "Lock": serializers.LockData,
    "UnitListItem": serializers.UnitListItemData,
    "Unit": serializers.UnitData,
    "UnitPage": serializers.UnitPageData,
    "Event": serializers.EventData,
    "EventPage": serializers.EventPageData,
    "TenantNotice": serializers.TenantNoticeData,
    "Release": serializers.ReleaseData,
    "LockStatusChange": serializers.LockStatusChangeData,
    "FmsEvent": serializers.FmsEventData,
    "AutomationRun": serializers.AutomationRunData,
}
BUILT_ELSEWHERE = {
    "Error": "integrations/api/errors.py's api_error",
    "LockStatus": "an enum",
    "ReleaseRequest": "a request body, read by views.unit_release",
    "LockStatusRequest": "a request body, read by views.lock_status",
    "FmsEventRequest": "a request body, read by views.unit_event_create",
    "FmsContact": "a request body's part, read by views.unit_event_create",
}


def _typed_dicts_in(annotation) -> set[str]:
    """The TypedDicts an annotation names (through `| None` and `list[...]`)."""
    if typing.is_typeddict(annotation):
        return {annotation.__name__}
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is list:
        return set().union(*(_typed_dicts_in(arg) for arg in typing.get_args(annotation)))
    return set()


def _schema_refs(schema: dict) -> set[str]:
    """The object schemas a property refers to (through `oneOf` and `items`)."""
    if "$ref" in schema:
        return {schema["$ref"].split("/")[-1]}
    nested = [
        *schema.get("oneOf", []),
        *schema.get("anyOf", []),
        *([schema["items"]] if "items" in schema else []),
    ]
    return set().union(set(), *(_schema_refs(sub) for sub in nested))


def test_every_object_schema_is_built_by_one_typed_dict(document):
    assert set(document["components"]["schemas"]) == set(BUILT_AS) | set(BUILT_ELSEWHERE)


@pytest.mark.parametrize("name", BUILT_AS)
def test_the_documents_object_has_the_fields_of_its_typed_dict(document, name):
    """Same field names, all required, and a nested object where the TypedDict nests one."""
    schema, built_as = _schema(document, name), BUILT_AS[name]
    hints = typing.get_type_hints(built_as)
    assert set(schema["properties"]) == set(hints)
    assert set(schema["required"]) == set(hints) == built_as.__required_keys__
    assert schema["additionalProperties"] is False
    names = {typed.__name__: schema_name for schema_name, typed in BUILT_AS.items()}
    for field, annotation in hints.items():
        nested = {names[typed] for typed in _typed_dicts_in(annotation)}
        assert nested == _schema_refs(schema["properties"][field]) & set(BUILT_AS), field
        nullable = type(None) in typing.get_args(annotation)
        prop = schema["properties"][field]
        kinds = prop.get("type", [])
        allows_null = "null" in kinds or {"type": "null"} in prop.get("oneOf", [])
        assert allows_null == nullable, field


def test_a_lookup_answers_what_serializers_builds_from_the_saved_models(world, api):
    """On PostgreSQL the statement builds the instances (statements.py), elsewhere the ORM
    loads them: either way the answer is the one built from the saved unit, field for field
    and in the TypedDicts' order."""
    unit = api.call(f"/api/v1/facilities/{world.facility.facility_id}/units/A101/", world.key)
    assert list(unit.data["data"]) == list(typing.get_type_hints(serializers.UnitData))
    assert list(unit.data["data"]["lock"]) == list(typing.get_type_hints(serializers.LockData))
    world.unit.refresh_from_db()
    assert unit.data["data"] == serializers.unit_data(world.unit)
