"""The OpenAPI 3.1 document of the lookup API: the file openapi.json beside this module.

Served as it is at /api/v1/openapi.json and rendered for people at /api/docs/ (below). The
file is the contract; tests/api/test_openapi.py validates it (openapi-spec-validator), holds
its statuses, patterns, limits and error codes against the code, and validates the API's real
answers against it, and schemathesis fuzzes the API with it. Its `x-error-codes` table (code,
status, when) is what the docs page lists.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from davinci.accounts.permissions import WITHHELD_STATUSES
from facilities.models import LockStatus

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@cache
def document_json() -> bytes:
    return DOCUMENT_PATH.read_bytes()


@cache
def _document() -> dict[str, Any]:
    return json.loads(document_json())


SERVER_URL: str = _document()["servers"][0]["url"]
# The Facility ID the examples use (the docs page puts a signed-in member's own in its place).
EXAMPLE_FACILITY_ID: str = _document()["components"]["parameters"]["facility_id"]["example"]
# (code, status, when): every error the API answers in its views, for the docs page.
ERROR_CODES: list[tuple[str, int, str]] = [
    (row["code"], row["status"], row["when"]) for row in _document()["x-error-codes"]
]


# --- The human page (/api/docs/) ---------------------------------------------------------


def _resolve(node: dict[str, Any], section: str) -> dict[str, Any]:
    ref = node.get("$ref", "")
    prefix = f"#/components/{section}/"
    if not ref.startswith(prefix):
        return node
    return _document()["components"][section][ref[len(prefix) :]]


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


def _curl(
    base_url: str,
    path: str,
    parameters: list[dict[str, Any]],
    secured: bool,
    body: dict[str, Any] | None = None,
) -> str:
    url = base_url + path
    for parameter in parameters:
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(parameter.get("example", "")))
    if not secured:
        return f"curl -s '{url}'"
    write = ""
    if body is not None:  # a POST: its JSON body and a new Idempotency-Key
        write = (
            "  -X POST \\\n"
            '  -H "Content-Type: application/json" \\\n'
            '  -H "Idempotency-Key: $(uuidgen)" \\\n'
            f"  -d '{json.dumps(body)}' \\\n"
        )
    return (
        "curl -s \\\n"
        '  -H "X-API-Key: $DAVINCI_API_KEY" \\\n'
        '  -H "X-API-Secret: $DAVINCI_API_SECRET" \\\n'
        f"{write}"
        f"  '{url}'"
    )


def _example(schema: dict[str, Any]) -> Any:
    """A small example value built from the schema's own examples."""
    schema = _resolve(schema, "schemas")
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "oneOf" in schema or "anyOf" in schema:
        return _example(schema.get("oneOf", schema.get("anyOf"))[0])
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
    doc = _document()
    operations = []
    for path, item in doc["paths"].items():
        ((method, operation),) = item.items()
        request = operation.get("requestBody", {}).get("content", {}).get("application/json")
        body = _example(request["schema"]) if request else None
        parameters = [_resolve(p, "parameters") for p in operation.get("parameters", [])]
        secured = operation.get("security", doc["security"]) != []
        responses = []
        for status, response in operation["responses"].items():
            response = _resolve(response, "responses")
            responses.append({"status": status, "description": _segments(response["description"])})
        ok = next(status for status in operation["responses"] if status.startswith("2"))
        ok_schema = operation["responses"][ok]["content"]["application/json"]["schema"]
        example = None if path == "/openapi.json" else _example(ok_schema)
        operations.append(
            {
                "id": operation["operationId"],
                "method": method.upper(),
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
                "curl": _curl(base_url, path, parameters, secured, body),
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
