"""Every facilities URL: anonymous → sign-in, another account's object → 404, call-center
users → 403 with a reason on every edit, and the HTTP methods each view accepts."""

import pytest
from django.urls import get_resolver, reverse

from facilities.models import LockEvent

# (url name, kwargs from the fixtures, method): every view of the facilities screens.
READS = [
    ("facility_list", None),
    ("facility_detail", "facility"),
    ("facility_locks", "facility"),
    ("facility_export", "facility"),
    ("unit_detail", "unit"),
    ("lock_detail", "lock"),
    ("search", None),
]
FORMS = [  # GET shows a form, POST sends it: editors only
    ("facility_create", None),
    ("facility_edit", "facility"),
    ("unit_create", "facility"),
    ("unit_edit", "unit"),
    ("lock_create", "facility"),
    ("facility_import", "facility"),
]
ACTIONS = [  # POST only, editors only
    ("facility_import_commit", "facility"),
    ("unit_assign_lock", "unit"),
    ("lock_status", "lock"),
    ("lock_assign", "lock"),
    ("lock_unassign", "lock"),
    ("lock_code", "lock"),
    ("lock_release", "lock"),
    ("lock_notify_new_tenant", "lock"),
]
REVEAL = [("lock_reveal", "lock")]
ALL = READS + FORMS + ACTIONS + REVEAL
OWN = {"facility": "facility", "unit": "unit", "lock": "lock"}
OTHER = {"facility": "other_facility", "unit": "other_unit", "lock": "other_lock"}


def _url(request, name: str, target: str | None, objects: dict) -> str:
    if target is None:
        return reverse(f"facilities:{name}")
    obj = request.getfixturevalue(objects[target])
    return reverse(f"facilities:{name}", kwargs={"pk": obj.pk})


def test_the_lists_above_name_every_view():
    """A new URL pattern must be added here, so it gets the access tests below."""
    _, facilities = get_resolver().namespace_dict["facilities"]
    names = {pattern.name for pattern in facilities.url_patterns}
    names -= {"release_activity"}  # the release page's screen, tested with it
    # The Owner's history archives: tests/facilities/test_history_archives.py.
    names -= {"history_archive_list", "history_archive_download"}
    names -= {"facility_picker"}  # the key and member forms' search: test_facility_picker.py
    assert names == {name for name, _ in ALL}


@pytest.mark.parametrize(("name", "target"), ALL)
def test_anonymous_visitors_are_sent_to_sign_in(client, request, name, target):
    url = _url(request, name, target, OWN)
    response = client.get(url) if (name, target) in READS + FORMS else client.post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "target"), [(n, t) for n, t in ALL if t])
def test_another_accounts_objects_are_404(owner_client, request, name, target):
    url = _url(request, name, target, OTHER)
    if (name, target) in READS + FORMS:
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"status": "available"}).status_code in (404, 405)
    assert not LockEvent.objects.exists()


# Release overlock sets Returned to Dropbox, which the call center may set (test_lock_statuses).
@pytest.mark.parametrize(
    ("name", "target"), [action for action in FORMS + ACTIONS if action[0] != "lock_release"]
)
def test_call_center_users_edit_nothing(call_center_client, request, name, target):
    url = _url(request, name, target, OWN)
    response = call_center_client.post(url, {"status": "damaged", "name": "X"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "can open this page" in body or "Client Call Center cannot" in body
    assert not LockEvent.objects.exists()


@pytest.mark.parametrize(("name", "target"), READS)
def test_call_center_users_read_everything(call_center_client, request, name, target):
    assert call_center_client.get(_url(request, name, target, OWN)).status_code == 200


@pytest.mark.parametrize(("name", "target"), READS)
def test_reads_refuse_post(owner_client, request, name, target):
    assert owner_client.post(_url(request, name, target, OWN)).status_code == 405


@pytest.mark.parametrize(("name", "target"), ACTIONS + REVEAL)
def test_actions_refuse_get(owner_client, request, name, target):
    assert owner_client.get(_url(request, name, target, OWN)).status_code == 405
    assert not LockEvent.objects.exists()


@pytest.mark.parametrize(("name", "target"), FORMS)
def test_forms_refuse_other_methods(owner_client, request, name, target):
    assert owner_client.put(_url(request, name, target, OWN)).status_code == 405


@pytest.mark.parametrize("role_client", ["owner_client", "admin_client", "manager_client"])
def test_owners_admins_and_personnel_add_units(request, role_client, facility):
    client = request.getfixturevalue(role_client)
    assert client.get(reverse("facilities:unit_create", args=[facility.pk])).status_code == 200
