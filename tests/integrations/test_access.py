"""Every Integrations URL: anonymous → sign-in, managers and call-center users → 403,
another account's objects → 404, a method the view does not take → 405."""

import re

import pytest
from django.urls import get_resolver, reverse

from integrations import urls as integrations_urls
from tests.conftest import signed_in

# name → (allowed methods, needs an object of the account)
URLS = {
    "api_settings": ({"GET"}, None),
    "api_key_create": ({"GET", "POST"}, None),
    "api_key_detail": ({"GET", "POST"}, "key"),
    "api_key_reveal": ({"POST"}, "key"),
    "api_key_disable": ({"POST"}, "key"),
    "api_key_enable": ({"POST"}, "key"),
    "api_key_roll": ({"GET", "POST"}, "key"),
    "api_key_delete": ({"GET", "POST"}, "key"),
    "facility_list": ({"GET"}, None),
    "facility_include": ({"POST"}, "facility"),
    "activity": ({"GET"}, None),
}


def test_the_table_covers_every_integrations_url():
    names = {pattern.name for pattern in integrations_urls.urlpatterns}
    assert names == set(URLS)
    assert get_resolver().resolve("/integrations/").url_name == "api_settings"


def _url(name, api_key, facility):
    kind = URLS[name][1]
    if kind == "key":
        return reverse(f"integrations:{name}", args=[api_key.pk])
    if kind == "facility":
        return reverse(f"integrations:{name}", args=[facility.facility_id])
    return reverse(f"integrations:{name}")


def _call(client, method, url):
    return getattr(client, method.lower())(url)


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_sign_in(client, name, api_key, facility):
    url = _url(name, api_key, facility)
    for method in URLS[name][0]:
        response = _call(client, method, url)
        assert response.status_code == 302, (name, method)
        assert response["Location"].startswith(reverse("accounts:login")), (name, method)


@pytest.mark.parametrize("role_user", ["manager", "call_center_user"])
@pytest.mark.parametrize("name", URLS)
def test_managers_and_call_center_get_403(request, role_user, name, api_key, facility):
    client = signed_in(request.getfixturevalue(role_user))
    url = _url(name, api_key, facility)
    for method in URLS[name][0]:
        response = _call(client, method, url)
        assert response.status_code == 403, (name, method)
        assert b"Only owners and client admins" in response.content
    api_key.refresh_from_db()
    facility.refresh_from_db()
    assert api_key.is_active and not api_key.is_deleted and facility.include_in_api


@pytest.mark.parametrize("name", [name for name, (_, kind) in URLS.items() if kind])
def test_another_accounts_objects_are_404(other_owner_client, name, api_key, facility):
    url = _url(name, api_key, facility)
    for method in URLS[name][0]:
        assert _call(other_owner_client, method, url).status_code == 404, (name, method)
    api_key.refresh_from_db()
    facility.refresh_from_db()
    assert api_key.is_active and not api_key.is_deleted and facility.include_in_api


@pytest.mark.parametrize("name", URLS)
def test_other_methods_are_405(owner_client, name, api_key, facility):
    url = _url(name, api_key, facility)
    for method in {"GET", "POST", "PUT", "DELETE"} - URLS[name][0]:
        assert _call(owner_client, method, url).status_code == 405, (name, method)


def test_admins_reach_the_tabs(admin_client, api_key):
    for name in ("api_settings", "facility_list", "activity", "api_key_create"):
        assert admin_client.get(reverse(f"integrations:{name}")).status_code == 200
    assert admin_client.get(_url("api_key_detail", api_key, None)).status_code == 200


def test_navigation_shows_integrations_only_to_owners_and_admins(owner_client, manager, facility):
    assert b">Integrations</a>" in owner_client.get(reverse("integrations:facility_list")).content
    page = signed_in(manager).get(reverse("facilities:facility_list")).content
    assert b">Integrations</a>" not in page


def test_pages_have_no_inline_script_or_style(owner_client, api_key, facility, password):
    """The strict Content-Security-Policy allows neither; JavaScript lives in static/."""
    get_pages = [name for name, (methods, _) in URLS.items() if "GET" in methods]
    pages = [owner_client.get(_url(name, api_key, facility)).content.decode() for name in get_pages]
    pages.append(owner_client.post(_url("api_key_reveal", api_key, facility)).content.decode())
    pages.append(
        owner_client.post(
            _url("api_key_reveal", api_key, facility), {"password": password}
        ).content.decode()
    )
    for html in pages:
        assert "style=" not in html
        assert "<style" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
