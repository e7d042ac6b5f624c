"""Input no form expects (NUL characters, huge values) gets an answer, never a 500.

PostgreSQL refuses NUL characters in text: a value that reached a query unchecked would raise.
"""

import pytest
from django.urls import reverse

from facilities.models import LockEvent

NUL = "A1\x00"


@pytest.mark.parametrize(
    ("name", "target", "data"),
    [
        ("facility_create", None, {"name": NUL}),
        ("facility_edit", "facility", {"name": NUL}),
        ("unit_create", "facility", {"unit_number": NUL}),
        ("unit_edit", "unit", {"unit_number": "A101", "tenant_name": NUL}),
        ("unit_assign_lock", "unit", {"lock": NUL, "status": "assigned_overlock"}),
        ("lock_create", "facility", {"serial": NUL, "unlock_code": "1234"}),
        ("lock_assign", "lock", {"unit": NUL, "status": "assigned_overlock"}),
        ("lock_status", "lock", {"status": NUL}),
        ("lock_unassign", "lock", {"status": NUL}),
        ("lock_code", "lock", {"unlock_code": "12\x0034"}),
        ("lock_release", "lock", {"notify": NUL, "next": NUL}),
        ("lock_notify_new_tenant", "lock", {"next": NUL}),
        ("facility_import_commit", "facility", {"payload": NUL}),
    ],
)
def test_nul_characters_in_a_form_get_an_error(owner_client, request, name, target, data):
    kwargs = {"pk": request.getfixturevalue(target).pk} if target else {}
    response = owner_client.post(reverse(f"facilities:{name}", kwargs=kwargs), data)
    assert response.status_code in (200, 302)
    if response.status_code == 302 and name == "facility_import_commit":
        # The import's confirmation: back to the upload form.
        assert response.url == reverse("facilities:facility_import", kwargs=kwargs)
    elif response.status_code == 302:  # a refused notice: back to the lock, the error said
        assert response.url == reverse("facilities:lock_detail", kwargs=kwargs)
    assert not LockEvent.objects.exists()


@pytest.mark.parametrize(
    ("name", "target", "params"),
    [
        ("search", None, {"q": NUL}),
        ("search", None, {"q": "x" * 5000}),
        ("facility_detail", "facility", {"q": NUL, "status": NUL, "page": NUL}),
        ("facility_locks", "facility", {"q": NUL, "status": NUL}),
        ("lock_detail", "lock", {"page": "-1"}),
    ],
)
def test_odd_query_strings_get_a_page(owner_client, request, name, target, params):
    kwargs = {"pk": request.getfixturevalue(target).pk} if target else {}
    assert owner_client.get(reverse(f"facilities:{name}", kwargs=kwargs), params).status_code == 200


def test_a_too_long_search_says_so(owner_client, facility):
    body = owner_client.get(reverse("facilities:search"), {"q": "x" * 51}).content.decode()
    assert "Ensure this value has at most 50 characters" in body
