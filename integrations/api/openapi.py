"""The OpenAPI 3.1 document of the lookup API, built here in Python.

Served at /api/v1/openapi.json, rendered for people at /api/docs/, validated in the tests with
openapi-spec-validator and fuzzed with schemathesis. The statuses come from the same enum as
the models, so the document cannot drift from what the API accepts.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from facilities.models import UNIT_STATUSES, WITHHELD_STATUSES, LockStatus
from facilities.statuses import STATUS_MEANINGS
from integrations.api.errors import FALLBACK_ERRORS, UNLISTED_ERROR
from integrations.api.services import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

SERVER_URL = "/api/v1"
EXAMPLE_FACILITY_ID = "k3v9q2m7x1c8b4n6"
EXAMPLE_UNIT_NUMBER = "A101"
EXAMPLE_SERIAL = "HD000001"
# No control characters (the API refuses them in text parameters).
PRINTABLE = "^[^\\u0000-\\u001f\\u007f]*$"

# (code, status, when): every error the API answers, for the schema and the docs page.
ERROR_CODES: list[tuple[str, int, str]] = [
    ("invalid_parameter", 400, "A query parameter has a value the API does not accept."),
    ("missing_credentials", 401, "No API Key and API Secret were sent (or only one of them)."),
    (
        "invalid_credentials",
        401,
        "The API Key and API Secret do not match a key, or the header is malformed. Also a "
        "deleted key, and a rolled secret after its grace period.",
    ),
    ("key_disabled", 401, "The key is disabled in the portal (Integrations → API Settings)."),
    ("key_expired", 401, "The key's expiry date has passed."),
    ("ip_not_allowed", 403, "The key has allowed IP ranges and the call came from elsewhere."),
    (
        "not_found",
        404,
        "No such facility, unit or lock — or it is outside the key's facilities, or its "
        "facility is not included in the API. The answer is the same on purpose.",
    ),
    ("method_not_allowed", 405, "The API only answers GET."),
    (
        "rate_limited",
        429,
        "Too many requests from this key this minute, or too many failed authentications "
        "from this IP address (then even a correct secret waits). See Retry-After.",
    ),
    ("unavailable", 503, "The database cannot be reached. Retry after Retry-After seconds."),
]
# Codes of the safety net for errors outside the API views, taken from it
# (integrations/api/errors.py) so the schema's enum cannot miss one it answers.
_VIEW_CODES = {code for code, _, _ in ERROR_CODES}
OTHER_ERROR_CODES = [
    code for code, _ in [*FALLBACK_ERRORS.values(), UNLISTED_ERROR] if code not in _VIEW_CODES
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": schema},
        "additionalProperties": False,
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": [code for code, _, _ in ERROR_CODES] + OTHER_ERROR_CODES,
                        "description": "Stable, for programs. See the table of error codes.",
                    },
                    "message": {"type": "string", "description": "For people; may change."},
                },
            }
        },
        "example": {
            "error": {
                "code": "not_found",
                "message": "No unit with this number in a facility available to this API key.",
            }
        },
    },
    "Facility": {
        "type": "object",
        "required": ["facility_id", "name", "address"],
        "additionalProperties": False,
        "properties": {
            "facility_id": {
                "type": "string",
                "description": "The Facility ID shown in Integrations → Facilities.",
                "example": EXAMPLE_FACILITY_ID,
            },
            "name": {"type": "string", "example": "Harbor Downtown"},
            "address": {"type": "string", "example": "100 Harbor Way, Portsmouth, NH 03801"},
        },
    },
    "LockStatus": {
        "type": "string",
        "enum": [status.value for status in LockStatus],
        "description": "; ".join(
            f"`{s.value}`: {s.label} ({STATUS_MEANINGS[s]})" for s in LockStatus
        ),
        "example": LockStatus.ASSIGNED_OVERLOCK.value,
    },
    "LockSummary": {
        "type": "object",
        "description": "A lock in a list of units: serial and status, never the code.",
        "required": ["serial", "status", "status_label", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "serial": {"type": "string", "pattern": "^[A-Z0-9]{8}$", "example": EXAMPLE_SERIAL},
            "status": _ref("LockStatus"),
            "status_label": {"type": "string", "example": "Assigned Overlock"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "Lock": {
        "type": "object",
        "description": (
            "A lock with its unlock code. Every answer that carries a code is recorded in the "
            "lock's history with the API key, the IP address and the unit."
        ),
        "required": [
            "serial",
            "status",
            "status_label",
            "unlock_code",
            "unlock_code_withheld",
            "unit_number",
            "facility_id",
            "updated_at",
        ],
        "additionalProperties": False,
        "properties": {
            "serial": {"type": "string", "pattern": "^[A-Z0-9]{8}$", "example": EXAMPLE_SERIAL},
            "status": _ref("LockStatus"),
            "status_label": {"type": "string", "example": "Assigned Overlock"},
            "unlock_code": {
                "type": ["string", "null"],
                "pattern": "^[0-9]{4}$",
                "description": "The 4-digit code, or null when it is withheld.",
                "example": "4821",
            },
            "unlock_code_withheld": {
                "type": ["string", "null"],
                "enum": [*sorted(WITHHELD_STATUSES), None],
                "description": (
                    "Why the code is not given (the lock's status), or null. The code of a lock "
                    "on a unit being auctioned is never given out."
                ),
            },
            "unit_number": {
                "type": ["string", "null"],
                "description": "The unit the lock is on, or null when it is on none.",
                "example": EXAMPLE_UNIT_NUMBER,
            },
            "facility_id": {"type": "string", "example": EXAMPLE_FACILITY_ID},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "UnitListItem": {
        "type": "object",
        "required": ["unit_number", "facility_id", "lock"],
        "additionalProperties": False,
        "properties": {
            "unit_number": {"type": "string", "example": EXAMPLE_UNIT_NUMBER},
            "facility_id": {"type": "string", "example": EXAMPLE_FACILITY_ID},
            "lock": _nullable(_ref("LockSummary")),
        },
    },
    "Unit": {
        "type": "object",
        "required": ["unit_number", "facility_id", "lock"],
        "additionalProperties": False,
        "properties": {
            "unit_number": {"type": "string", "example": EXAMPLE_UNIT_NUMBER},
            "facility_id": {"type": "string", "example": EXAMPLE_FACILITY_ID},
            "lock": _nullable(_ref("Lock")),
        },
    },
    "UnitPage": {
        "type": "object",
        "required": ["data", "next"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref("UnitListItem")},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The URL of the next page, or null on the last page.",
            },
        },
    },
}

PARAMETERS: dict[str, Any] = {
    "facility_id": {
        "name": "facility_id",
        "in": "path",
        "required": True,
        "description": "The facility's Facility ID (Integrations → Facilities).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{1,32}$"},
        "example": EXAMPLE_FACILITY_ID,
    },
    "unit_number": {
        "name": "unit_number",
        "in": "path",
        "required": True,
        "description": "The unit number exactly as the facility writes it (leading zeros count).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 20},
        "example": EXAMPLE_UNIT_NUMBER,
    },
    "serial": {
        "name": "serial",
        "in": "path",
        "required": True,
        "description": "The 8-character serial engraved on the lock (case-insensitive).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{8}$"},
        "example": EXAMPLE_SERIAL,
    },
    "status": {
        "name": "status",
        "in": "query",
        "required": False,
        "description": (
            "Only units whose lock has this status; `returned_to_dropbox` lists the units "
            "whose overlock was released (the tenant has paid)."
        ),
        "schema": {"type": "string", "enum": sorted(UNIT_STATUSES)},
        "example": LockStatus.ASSIGNED_OVERLOCK.value,
    },
    "q": {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Only units whose number or lock serial contains this text.",
        "schema": {"type": "string", "maxLength": 40, "pattern": PRINTABLE},
        "example": "A1",
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": (
            "Where the page starts: opaque, take it from the previous page's `next`. A value "
            "no `next` link produced is refused with 400 `invalid_parameter`."
        ),
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"Units per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        },
    },
}

_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def _error_response(status: int, extra: str = "") -> dict[str, Any]:
    codes = [code for code, code_status, _ in ERROR_CODES if code_status == status]
    return {
        "description": " | ".join(f"`{code}`" for code in codes) + extra,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


RESPONSES: dict[str, Any] = {
    "InvalidParameter": _error_response(400),
    "Unauthorized": {
        **_error_response(401),
        "headers": {
            "WWW-Authenticate": {
                "description": "HTTP Basic is one of the accepted ways to authenticate.",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    },
    "Forbidden": _error_response(403),
    "NotFound": _error_response(404),
    "RateLimited": {**_error_response(429), "headers": {"Retry-After": _RETRY_AFTER}},
    "Unavailable": {**_error_response(503), "headers": {"Retry-After": _RETRY_AFTER}},
}


def _errors(*statuses: str) -> dict[str, Any]:
    names = {
        "400": "InvalidParameter",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "429": "RateLimited",
        "503": "Unavailable",
    }
    return {status: {"$ref": f"#/components/responses/{names[status]}"} for status in statuses}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    ok: dict[str, Any],
    *,
    parameters: list[str] = (),
    errors: tuple[str, ...] = ("401", "403", "404", "429", "503"),
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": "OK",
        "content": {"application/json": {"schema": ok}},
    }
    if links:
        success["links"] = links
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": ["Lookup"],
            "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
            "responses": {"200": success, **_errors(*errors)},
        }
    }


def _link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


@cache
def document() -> dict[str, Any]:
    paths = {
        "/facilities/": _operation(
            "listFacilities",
            "List the facilities this key can read",
            "The facilities in the key's scope: all of the account's facilities (or the ones "
            "chosen for the key) that are included in the API. Computed on every request.",
            _data({"type": "array", "items": _ref("Facility")}),
            errors=("401", "403", "429", "503"),
            links={
                "GetFacility": _link(
                    "getFacility", facility_id="$response.body#/data/0/facility_id"
                ),
                "ListUnits": _link("listUnits", facility_id="$response.body#/data/0/facility_id"),
            },
        ),
        "/facilities/{facility_id}/": _operation(
            "getFacility",
            "Get one facility",
            "One facility of the key's scope.",
            _data(_ref("Facility")),
            parameters=["facility_id"],
        ),
        "/facilities/{facility_id}/units/": _operation(
            "listUnits",
            "List a facility's units",
            "The facility's units in unit-number order, each with its lock's serial and "
            "status (no codes). Filter with `status` and `q`; follow `next` for more.",
            _ref("UnitPage"),
            parameters=["facility_id", "status", "q", "cursor", "limit"],
            errors=("400", "401", "403", "404", "429", "503"),
            links={
                "GetUnit": _link(
                    "getUnit",
                    facility_id="$request.path.facility_id",
                    unit_number="$response.body#/data/0/unit_number",
                ),
                "GetLock": _link(
                    "getLock",
                    facility_id="$request.path.facility_id",
                    serial="$response.body#/data/0/lock/serial",
                ),
            },
        ),
        "/facilities/{facility_id}/units/{unit_number}/": _operation(
            "getUnit",
            "Get a unit, its lock and the unlock code",
            "The unit and the lock on it with its `unlock_code` (null and explained by "
            "`unlock_code_withheld` for a lock being auctioned). A released overlock "
            "(`returned_to_dropbox`: the tenant has paid) is still on its unit, with its code, "
            "until staff set it Available. `lock` is null when the unit has no lock. Each code "
            "given out is recorded in the lock's history.",
            _data(_ref("Unit")),
            parameters=["facility_id", "unit_number"],
        ),
        "/facilities/{facility_id}/locks/{serial}/": _operation(
            "getLock",
            "Get a lock by serial, with its unit and the unlock code",
            "The lock with the number of the unit it is on and its `unlock_code` (withheld "
            "as for units). Each code given out is recorded in the lock's history.",
            _data(_ref("Lock")),
            parameters=["facility_id", "serial"],
        ),
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "description": "The OpenAPI 3.1 description of the API. No credentials needed.",
                "tags": ["Documentation"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DaVinci Lock lookup API",
            "version": "1.0.0",
            "summary": "Read units, locks and unlock codes of a storage operator's facilities.",
            "description": (
                "For call centers and other third parties holding an API Key and API Secret "
                "created in the portal (Integrations → API Settings). Send them in the "
                "`X-API-Key` and `X-API-Secret` headers, or as HTTP Basic `key:secret`; never "
                "in the URL. A key reads only its facilities that are included in the API; "
                "anything else answers 404 exactly like something that does not exist. Errors "
                'are always JSON: `{"error": {"code": "...", "message": "..."}}`. Each key may '
                "make a limited number of requests a minute, and an IP address that fails to "
                "authenticate too often is paused for the rest of the minute (429 with "
                "Retry-After)."
            ),
        },
        "servers": [{"url": SERVER_URL}],
        "security": [{"ApiKey": [], "ApiSecret": []}, {"Basic": []}],
        "tags": [
            {"name": "Lookup", "description": "Facilities, units, locks and unlock codes."},
            {"name": "Documentation"},
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "The API Key (public id), e.g. `dvk_…`.",
                },
                "ApiSecret": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Secret",
                    "description": "The API Secret, e.g. `dvs_…`. Send it with X-API-Key.",
                },
                "Basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "API Key as the user name, API Secret as the password.",
                },
            },
        },
    }


@cache
def document_json() -> bytes:
    return json.dumps(document(), indent=2, ensure_ascii=False).encode()


# --- The human page (/api/docs/) ---------------------------------------------------------


def _resolve(node: dict[str, Any], section: str) -> dict[str, Any]:
    ref = node.get("$ref", "")
    prefix = f"#/components/{section}/"
    return document()["components"][section][ref[len(prefix) :]] if ref.startswith(prefix) else node


def _schema_summary(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "one of: " + ", ".join(str(value) for value in schema["enum"])
    parts = [schema.get("type", "string")]
    if "pattern" in schema:
        parts.append(f"pattern {schema['pattern']}")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    if "minimum" in schema and "maximum" in schema:
        parts.append(f"{schema['minimum']} to {schema['maximum']}")
    return ", ".join(parts)


def _curl(base_url: str, path: str, parameters: list[dict[str, Any]], secured: bool) -> str:
    url = base_url + path
    for parameter in parameters:
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(parameter.get("example", "")))
    if not secured:
        return f"curl -s '{url}'"
    return (
        "curl -s \\\n"
        '  -H "X-API-Key: $DAVINCI_API_KEY" \\\n'
        '  -H "X-API-Secret: $DAVINCI_API_SECRET" \\\n'
        f"  '{url}'"
    )


def _example(schema: dict[str, Any]) -> Any:
    """A small example value built from the schema's own examples."""
    schema = _resolve(schema, "schemas")
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "oneOf" in schema:
        return _example(schema["oneOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return {name: _example(sub) for name, sub in schema["properties"].items()}
    if kind == "array":
        return [_example(schema["items"])]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date-time":
        return "2025-01-31T14:05:00+00:00"
    return None


def _segments(text: str) -> list[dict[str, Any]]:
    """`code` spans of a description, for the template to wrap in <code> (no HTML here)."""
    return [
        {"text": part, "code": index % 2 == 1} for index, part in enumerate(text.split("`")) if part
    ]


def docs_context(*, base_url: str) -> dict[str, Any]:
    """Everything /api/docs/ shows, read from the document (base_url: where /api/v1 is)."""
    doc = document()
    operations = []
    for path, item in doc["paths"].items():
        operation = item["get"]
        parameters = [_resolve(p, "parameters") for p in operation.get("parameters", [])]
        secured = operation.get("security", doc["security"]) != []
        responses = []
        for status, response in operation["responses"].items():
            response = _resolve(response, "responses")
            responses.append({"status": status, "description": _segments(response["description"])})
        ok_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        example = None if path == "/openapi.json" else _example(ok_schema)
        operations.append(
            {
                "id": operation["operationId"],
                "method": "GET",
                "path": SERVER_URL + path,
                "summary": operation["summary"],
                "description": _segments(operation["description"]),
                "parameters": [
                    {
                        "name": p["name"],
                        "in": p["in"],
                        "required": p.get("required", False),
                        "description": _segments(p["description"]),
                        "schema": _schema_summary(p["schema"]),
                    }
                    for p in parameters
                ],
                "responses": responses,
                "curl": _curl(base_url, path, parameters, secured),
                "example": json.dumps(example, indent=2) if example is not None else "",
            }
        )
    return {
        "info": doc["info"],
        "description": _segments(doc["info"]["description"]),
        "operations": operations,
        "error_codes": [
            {"code": code, "status": status, "when": when} for code, status, when in ERROR_CODES
        ],
        "base_url": base_url,
        "openapi_url": base_url + "/openapi.json",
        "lock_statuses": list(LockStatus),
        "withheld_statuses": sorted(WITHHELD_STATUSES),
    }
