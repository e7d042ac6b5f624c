"""The middleware is Django's own and ours, each class listed once in settings.MIDDLEWARE and
defined once in its module; one function (davinci.net.is_api_path) decides what an API request
is, and the API, which authenticates with keys, never loads or sets a session."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.module_loading import import_string

from davinci import net
from davinci.net import is_api_path
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [
    path
    for package in ("davinci", "facilities", "integrations", "team")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
]


@pytest.mark.parametrize("dotted", settings.MIDDLEWARE)
def test_every_middleware_is_a_class_defined_once_in_the_module_it_is_listed_from(dotted):
    middleware = import_string(dotted)
    module, _, name = dotted.rpartition(".")
    assert inspect.isclass(middleware)
    # Defined at the top of its module, by a `class` statement: not made by a function.
    assert (middleware.__module__, middleware.__qualname__) == (module, name)
    assert f"class {name}" in inspect.getsource(inspect.getmodule(middleware))


def test_middleware_is_listed_once():
    assert len(settings.MIDDLEWARE) == len(set(settings.MIDDLEWARE))


def _class_definitions_inside_functions(tree: ast.AST) -> list[str]:
    return [
        node.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.ClassDef)
    ]


def test_no_product_module_makes_classes_at_import_time_or_reads_djangos_private_state():
    for path in PRODUCT:
        source = path.read_text()
        assert not _class_definitions_inside_functions(ast.parse(source)), path
        assert "._wrapped" not in source and "_cached_user" not in source, path


# A path compared with the API's prefix: `.startswith("/api/")`, `== "/api"`, `API_PREFIX`.
API_PATH_TEST = re.compile(r"""startswith\([^)]*(/api|API_PREFIX)|[=!]= *f?["']/api|API_PREFIX""")


def test_one_function_decides_what_an_api_path_is():
    deciding = sorted(
        str(p.relative_to(ROOT)) for p in PRODUCT if API_PATH_TEST.search(p.read_text())
    )
    assert deciding == ["davinci/net.py"]
    assert [name for name in dir(net) if "api_path" in name] == ["is_api_path"]


def test_one_receiver_keeps_the_outage_for_the_middleware():
    receivers = sorted(
        str(p.relative_to(ROOT)) for p in PRODUCT if "got_request_exception" in p.read_text()
    )
    assert receivers == ["davinci/outage.py"]


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/api/v1/facilities/", True),
        ("/api/v1/openapi.json", True),
        ("/api/", True),
        ("/api", True),
        ("/api/nothing/here", True),
        # The documentation is a page of the portal: HTML, a signed-in member's examples.
        ("/api/docs/", False),
        ("/apis/", False),
        ("/release/harbor/", False),
        ("/facilities/", False),
    ],
)
def test_is_api_path(path, api):
    assert is_api_path(RequestFactory().get(path)) is api


def test_a_lookup_gets_no_session_cookie_and_the_portal_still_does(client, db):
    api = client.get("/api/v1/facilities/")
    assert api.status_code == 401 and not api.cookies
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert client.get("/api/docs/").status_code == 200


def test_a_session_cookie_costs_the_api_nothing(account, facility, owner):
    """A browser signed in to the portal calls the API: its cookies are not read, so no
    session or user is loaded (no query) and none is set; the key alone authenticates."""
    key = ApiKeyFactory(account=account)
    url = f"/api/v1/facilities/{facility.facility_id}/"
    headers = {"X-API-Key": key.api_key, "X-API-Secret": key.plain_secret}
    browser = signed_in(owner)
    browser.get(url, headers=headers)  # spend this minute's touch of the key
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url, headers=headers)
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "session" in q["sql"] or "auth_user" in q["sql"]]
    assert not response.cookies


def test_a_signed_in_request_is_logged_with_its_user(owner, caplog):
    with caplog.at_level("INFO", logger="davinci.request"):
        signed_in(owner).get(reverse("facilities:facility_list"))
    (line,) = [r for r in caplog.records if r.name == "davinci.request"]
    assert line.user_id == owner.pk
