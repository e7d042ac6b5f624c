"""Hostile input in every form and query parameter of the portal: never a 500, never a
traceback, and what was typed never comes back as live markup.

The test does not keep a list of forms: it opens every portal page (each URL pattern, with
objects of the signed-in owner's account), reads the forms on it, and posts them back with
hostile values: all fields at once, and one field at a time with the others left as the page
filled them (so a hostile value gets past the other fields' validation and reaches the
service). The public pages (sign-in, password reset, overlock release) get the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from facilities.models import LockStatus
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, LockFactory, UnitFactory, assigned_lock
from tests.security import hostile

SKIPPED_ACTIONS = ("/accounts/sign-out/",)  # would end the session the test walks with
QUERY_PARAMETERS = ("q", "page", "status", "sort", "o", "next", "facility", "by", "unit")
# One field at a time: fewer values, each posted to every field of every form.
ONE_BY_ONE = [
    hostile.SQL[0],
    hostile.TEMPLATE[0],
    hostile.MARKUP[0],
    hostile.CONTROL[0],
    hostile.UNICODE[2],
    "X" * 100_000,
    "-1",
    "",
]
MARKUP = hostile.MARKUP[0]


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name: the value the page filled
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """The page's forms, each with the values a browser would submit unchanged."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.forms.append(Form(a.get("method", "get").lower(), action))
        elif not self.forms or "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.forms[-1].files.append(a["name"])
            elif kind not in ("checkbox", "radio", "submit") or "checked" in a:
                self.forms[-1].fields.setdefault(a["name"], a.get("value", ""))
            else:
                self.forms[-1].fields.setdefault(a["name"], "")
        elif tag == "textarea":
            self.forms[-1].fields.setdefault(a["name"], "")
        elif tag == "select":
            self._select = a["name"]
            self.forms[-1].fields.setdefault(a["name"], "")
        elif tag == "button" and a.get("value"):
            self.forms[-1].fields.setdefault(a["name"], a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        pass

    def feed_option(self, value: str) -> None:
        if self._select and self.forms and not self.forms[-1].fields.get(self._select):
            self.forms[-1].fields[self._select] = value


class _OptionAwareParser(FormParser):
    def handle_starttag(self, tag, attrs):
        if tag == "option" and self._select:
            self.feed_option(dict(attrs).get("value") or "")
        super().handle_starttag(tag, attrs)


def forms_on(page_url: str, html: str) -> list[Form]:
    parser = _OptionAwareParser(page_url)
    parser.feed(html)
    return [form for form in parser.forms if not form.action.endswith(SKIPPED_ACTIONS)]


# --- The pages ------------------------------------------------------------------------------------


def _portal_patterns(patterns=None, namespace: str = ""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("api", "admin", "release"):
                continue
            yield from _portal_patterns(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, list(entry.pattern.converters)


def _url(name: str, params: list[str], objects: dict) -> str:
    short = name.split(":")[-1]
    kwargs = {}
    for param in params:
        if param == "facility_id":
            kwargs[param] = objects["facility"].facility_id
        elif short.startswith("api_key"):
            kwargs[param] = objects["api_key"].pk
        elif short.startswith("unit"):
            kwargs[param] = objects["unit"].pk
        elif short.startswith("lock"):
            kwargs[param] = objects["spare_lock" if "assign" in short else "lock"].pk
        else:
            kwargs[param] = objects["facility"].pk
    return reverse(name, kwargs=kwargs)


def portal_urls(objects: dict) -> list[str]:
    urls = {_url(name, params, objects) for name, params in _portal_patterns()}
    # Destructive pages last, so the others are still there to be walked.
    return sorted(urls, key=lambda url: ("delete" in url, "disable" in url, url))


@pytest.fixture
def objects(account, facility, owner):
    unit = UnitFactory(facility=facility, unit_number="A101")
    UnitFactory(facility=facility, unit_number="A102")
    return {
        "facility": facility,
        "unit": unit,
        "lock": assigned_lock(unit, serial="HD000001", code="7391"),
        "spare_lock": LockFactory(
            facility=facility, serial="HD000002", status=LockStatus.AVAILABLE
        ),
        "api_key": ApiKeyFactory(account=account),
    }


FAILURES: list[str] = []


def _ok(response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    body = response.content.decode(errors="replace")
    assert "Traceback" not in body, where
    if response.get("Content-Type", "").startswith("text/html"):
        assert MARKUP not in body, f"{where}: typed markup came back unescaped"


def _post(client: Client, form: Form, data: dict[str, str], value: str, where: str) -> None:
    payload = dict(data)
    for name in form.files:
        payload[name] = SimpleUploadedFile(
            f"{value[:40]}.csv", value.encode("utf-8", "surrogatepass"), "text/csv"
        )
    _ok(client.post(form.action, payload), where)


def _fuzz_pages(client: Client, urls: list[str], value: str, one_by_one: bool) -> int:
    posted = 0
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for url in urls:
        page = client.get(url)
        _ok(page, f"GET {url}")
        query = urlencode({name: value for name in QUERY_PARAMETERS})
        _ok(client.get(f"{url}?{query}"), f"GET {url}?…")
        if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
            continue
        for form in forms_on(f"http://testserver{url}", page.content.decode()):
            signature = (form.action, tuple(sorted(form.fields)))
            if signature in seen:
                continue
            seen.add(signature)
            names = [n for n in form.fields if n != "csrfmiddlewaretoken"]
            if form.method == "get":
                _ok(client.get(form.action, {n: value for n in names}), f"GET form {form.action}")
                continue
            _post(client, form, {n: value for n in names}, value, f"POST {form.action} (all)")
            posted += 1
            for name in names if one_by_one else []:
                _post(
                    client, form, {**form.fields, name: value}, value, f"POST {form.action} {name}"
                )
                posted += 1
    return posted


@override_settings(RELEASE_RATE_LIMIT_PER_IP=10**6, RELEASE_RATE_LIMIT_PER_UNIT=10**6)
@pytest.mark.parametrize("value", hostile.PORTAL, ids=lambda v: repr(v[:20]))
def test_no_portal_form_or_query_parameter_answers_500(objects, owner, account, value):
    client = signed_in(owner)
    client.raise_request_exception = False
    posted = _fuzz_pages(client, portal_urls(objects), value, one_by_one=value in ONE_BY_ONE)
    assert posted >= 15, "the walk found too few forms: is the parser still right?"

    # The public pages, as an anonymous visitor.
    visitor = Client(raise_request_exception=False)
    public = ["/accounts/sign-in/", "/accounts/password-reset/", f"/release/{account.slug}/"]
    _fuzz_pages(visitor, public, value, one_by_one=value in ONE_BY_ONE)
    _ok(visitor.get(f"/release/{value[:200]}/"), "release page of a hostile slug")

    # What was typed, shown back to the owner (names, activity, release attempts): escaped.
    for url in [*portal_urls(objects), "/facilities/release-activity/"]:
        _ok(client.get(url), f"GET {url} after the posts")


# --- CSV import -------------------------------------------------------------------------------


HEADER = "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n"
FILES = {
    "binary": bytes(range(256)) * 40,
    "invalid UTF-8": HEADER.encode() + b"B1,\xff\xfe\xfd,,,,,\n",
    "UTF-16 with BOM": (HEADER + "B1,Ann,,,,,\n").encode("utf-16"),
    "NUL bytes": HEADER.encode() + b"B1\x00,Ann\x00,,,,,\n",
    "formula": (HEADER + '=cmd|" /C calc"!A0,@SUM(1),+1,-1,HD0000X1,1234,available\n').encode(),
    "injection": (HEADER + "' OR 1=1 --,{{7*7}},<script>alert(1)</script>,,,,\n").encode(),
    "wide line": HEADER.encode() + b"," * 200_000 + b"\n",
    "long cell": HEADER.encode() + b"B1," + b"A" * 1_000_000 + b",,,,,\n",
    "many columns": (",".join(f"c{n}" for n in range(5000)) + "\n").encode(),
    "quotes": (HEADER + 'B1,"unterminated,,,,,\n').encode(),
    "only a header": HEADER.encode(),
    "empty": b"",
    "just newlines": b"\n" * 10_000,
    "over 5 MB": HEADER.encode() + b"B1,Ann,,,,,\n" * 500_000,
    "status and code junk": (HEADER + "B1,Ann,,,HD000003,12a4,not_a_status\n").encode(),
    "duplicate units": (HEADER + "B1,Ann,,,,,\nB1,Bob,,,,,\n").encode(),
}


@pytest.mark.parametrize("content", FILES.values(), ids=FILES.keys())
def test_hostile_csv_files_get_an_answer_not_a_500(objects, owner, content):
    client = signed_in(owner)
    client.raise_request_exception = False
    facility = objects["facility"]
    upload = SimpleUploadedFile("../../etc/passwd<script>.csv", content, "text/csv")
    response = client.post(f"/facilities/{facility.pk}/import/", {"file": upload})
    _ok(response, "upload")
    for form in forms_on("http://testserver/", response.content.decode()):
        if form.action.endswith("/import/commit/"):
            _ok(client.post(form.action, form.fields), "commit")
    _ok(client.get(f"/facilities/{facility.pk}/export.csv"), "export")


@pytest.mark.parametrize(
    "payload", ["", "x", "a" * 100_000, "eyJhIjoxfQ:1abc:def", hostile.SQL[0], "\x00"]
)
def test_a_forged_import_payload_is_refused_not_a_500(objects, owner, payload):
    client = signed_in(owner)
    client.raise_request_exception = False
    facility = objects["facility"]
    response = client.post(f"/facilities/{facility.pk}/import/commit/", {"payload": payload})
    _ok(response, "commit")
    assert response.status_code in (200, 302, 400)


def test_exported_cells_that_a_spreadsheet_would_run_are_quoted(objects, owner):
    unit = objects["unit"]
    unit.tenant_name = '=HYPERLINK("http://evil.example","x")'
    unit.save()
    response = signed_in(owner).get(f"/facilities/{objects['facility'].pk}/export.csv")
    body = b"".join(response.streaming_content if response.streaming else [response.content])
    assert b"\n=HYPERLINK" not in body and b",=HYPERLINK" not in body
