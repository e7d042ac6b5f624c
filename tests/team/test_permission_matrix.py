"""Every role by every portal action: allowed, or refused with 403 (and nothing changed).

The expectations are written here from docs/team.md's "The five roles" table, not derived from
davinci/accounts/permissions.py, so a change to the rules has to change this table too.
"""

import pytest
from django.urls import reverse

from davinci.accounts.models import Role
from facilities.models import LIMIT_STATUSES, UNIT_STATUSES, Lock, LockEvent, LockStatus
from integrations.models import ApiKey
from tests.conftest import confirmed, signed_in
from tests.factories import (
    ApiKeyFactory,
    LockFactory,
    MembershipFactory,
    UnitFactory,
    assigned_lock,
)

OWNER, ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER = (
    Role.OWNER,
    Role.CLIENT_ADMIN,
    Role.CLIENT_PERSONNEL,
    Role.CLIENT_PERSONNEL_RESTRICTED,
    Role.CLIENT_CALL_CENTER,
)
ROLES = [OWNER, ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER]
EVERYONE = set(ROLES)
MANAGERS = {OWNER, ADMIN}  # users, facilities, Integrations
LOCK_EDITORS = {OWNER, ADMIN, PERSONNEL, RESTRICTED}

TUL = LockStatus.TENANT_USING_LOCK
AUCTION = LockStatus.ASSIGNED_AUCTION
RTD = LockStatus.RETURNED_TO_DROPBOX
ON_UNIT = sorted(UNIT_STATUSES)
OFF_UNIT = sorted(set(LockStatus.values) - UNIT_STATUSES)

# "unlock codes (view)": the statuses whose code each role never sees.
WITHHELD = {
    OWNER: set(),
    ADMIN: set(),
    PERSONNEL: {AUCTION},
    RESTRICTED: {TUL, AUCTION},
    CALL_CENTER: {AUCTION},
}


def may_set(role: str, from_status: str, to_status: str) -> bool:
    """ "locks": who may move a lock from one status to another. A lock whose code the role
    never sees cannot be changed by it either (Restricted: "except locks in Tenant Using
    Lock"; changing it would show the code)."""
    if from_status in WITHHELD[role]:
        return False
    if role == CALL_CENTER:
        return to_status in {RTD, TUL}
    if role == RESTRICTED:
        return to_status != TUL
    return True


@pytest.fixture(params=ROLES)
def role(request):
    return request.param


@pytest.fixture
def member_client(account, owner, role):
    """A client of the account signed in with `role` (the owner fixture is the owner)."""
    if role == OWNER:
        return confirmed(signed_in(owner))
    user = MembershipFactory(account=account, role=role, user__email=f"{role}@example.com").user
    # Confirmed lately: a reveal shows the code (asking first is tests/accounts').
    return confirmed(signed_in(user))


# --- Code reveals, by status ------------------------------------------------------------------


@pytest.mark.parametrize("status", LockStatus.values)
def test_code_reveal_by_status(member_client, role, facility, status):
    unit = UnitFactory(facility=facility) if status in UNIT_STATUSES else None
    lock = LockFactory(facility=facility, status=status, unit=unit, code="4321")
    response = member_client.post(reverse("facilities:lock_reveal", args=[lock.pk]))
    if status in WITHHELD[role]:
        assert response.status_code == 403
        assert "4321" not in response.content.decode()
        assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_REVEALED).exists()
        page = member_client.get(reverse("facilities:lock_detail", args=[lock.pk]))
        assert "Withheld" in page.content.decode()
    else:
        assert response.status_code == 200
        assert "4321" in response.content.decode()
        assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_REVEALED).count() == 1


# --- Status changes ---------------------------------------------------------------------------

ON_UNIT_CHANGES = [(a, b) for a in ON_UNIT for b in ON_UNIT if a != b]
OFF_UNIT_CHANGES = [(a, b) for a in OFF_UNIT for b in OFF_UNIT if a != b]


@pytest.mark.parametrize(("from_status", "to_status"), ON_UNIT_CHANGES + OFF_UNIT_CHANGES)
def test_status_change(member_client, role, facility, from_status, to_status):
    unit = UnitFactory(facility=facility) if from_status in UNIT_STATUSES else None
    lock = LockFactory(facility=facility, status=from_status, unit=unit)
    response = member_client.post(
        reverse("facilities:lock_status", args=[lock.pk]), {"status": to_status}
    )
    lock.refresh_from_db()
    if may_set(role, from_status, to_status):
        assert response.status_code == 302, response.content.decode()[:500]
        assert lock.status == to_status
    else:
        assert response.status_code == 403
        assert lock.status == from_status
        assert not LockEvent.objects.exists()


@pytest.mark.parametrize("from_status", ON_UNIT)
@pytest.mark.parametrize(
    "to_status", [LockStatus.AVAILABLE, LockStatus.ON_DROPBOX, LockStatus.DAMAGED]
)
def test_unassign(member_client, role, facility, from_status, to_status):
    lock = assigned_lock(UnitFactory(facility=facility), from_status)
    response = member_client.post(
        reverse("facilities:lock_unassign", args=[lock.pk]),
        {"status": to_status, "confirm_unreleased": "on"},
    )
    lock.refresh_from_db()
    if may_set(role, from_status, to_status):
        assert response.status_code == 302
        assert (lock.status, lock.unit_id) == (to_status, None)
    else:
        assert response.status_code == 403
        assert lock.status == from_status and lock.unit_id is not None


def test_release_overlock(member_client, role, facility):
    lock = assigned_lock(UnitFactory(facility=facility), LockStatus.ASSIGNED_OVERLOCK)
    response = member_client.post(reverse("facilities:lock_release", args=[lock.pk]))
    lock.refresh_from_db()
    if may_set(role, LockStatus.ASSIGNED_OVERLOCK, RTD):
        assert response.status_code == 302
        assert (lock.status, lock.unit_id) == (RTD, lock.unit_id)
    else:
        assert response.status_code == 403
        assert lock.status == LockStatus.ASSIGNED_OVERLOCK


@pytest.mark.parametrize("to_status", ON_UNIT)
@pytest.mark.parametrize("where", ["lock_assign", "unit_assign_lock"])
def test_assign(member_client, role, facility, to_status, where):
    unit = UnitFactory(facility=facility)
    lock = LockFactory(facility=facility)
    if where == "lock_assign":
        url = reverse("facilities:lock_assign", args=[lock.pk])
        data = {"unit": unit.unit_number, "status": to_status}
    else:
        url = reverse("facilities:unit_assign_lock", args=[unit.pk])
        data = {"lock": lock.serial, "status": to_status}
    response = member_client.post(url, data)
    lock.refresh_from_db()
    if role in LOCK_EDITORS and may_set(role, LockStatus.AVAILABLE, to_status):
        assert response.status_code == 302
        assert (lock.status, lock.unit_id) == (to_status, unit.pk)
    else:
        assert response.status_code == 403
        assert lock.unit_id is None


@pytest.mark.parametrize("status", sorted(set(LockStatus) - LIMIT_STATUSES))
def test_set_code(member_client, role, facility, status):
    lock = LockFactory(facility=facility, status=status, code="1111")
    response = member_client.post(
        reverse("facilities:lock_code", args=[lock.pk]), {"unlock_code": "2222"}
    )
    lock.refresh_from_db()
    if role in LOCK_EDITORS:
        assert response.status_code == 302
        assert lock.unlock_code == "2222"
    else:
        assert response.status_code == 403
        assert lock.unlock_code == "1111"


# --- Facilities, units, locks, import/export --------------------------------------------------


def _csv(rows: str) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n" + rows
    return {"file": SimpleUploadedFile("units.csv", text.encode(), content_type="text/csv")}


PAGE_ACTIONS = [
    # (name, object, method, data, roles allowed)
    ("facility_list", None, "get", None, EVERYONE),
    ("facility_detail", "facility", "get", None, EVERYONE),
    ("facility_locks", "facility", "get", None, EVERYONE),
    ("unit_detail", "unit", "get", None, EVERYONE),
    ("lock_detail", "lock", "get", None, EVERYONE),
    ("search", None, "get", None, EVERYONE),
    ("facility_export", "facility", "get", None, EVERYONE),
    ("facility_create", None, "get", None, MANAGERS),
    ("facility_create", None, "post", {"name": "Harbor New", "address": ""}, MANAGERS),
    ("facility_edit", "facility", "get", None, MANAGERS),
    ("facility_edit", "facility", "post", {"name": "Harbor Renamed", "address": ""}, MANAGERS),
    ("unit_create", "facility", "get", None, LOCK_EDITORS),
    ("unit_create", "facility", "post", {"unit_number": "Z9"}, LOCK_EDITORS),
    ("unit_edit", "unit", "get", None, LOCK_EDITORS),
    ("unit_edit", "unit", "post", {"unit_number": "Z8"}, LOCK_EDITORS),
    ("lock_create", "facility", "get", None, LOCK_EDITORS),
    (
        "lock_create",
        "facility",
        "post",
        {"serial": "NEWLOCK1", "unlock_code": "1234", "status": "available"},
        LOCK_EDITORS,
    ),
    ("facility_import", "facility", "get", None, LOCK_EDITORS),
    ("facility_import", "facility", "post", "csv", LOCK_EDITORS),
    ("facility_import_commit", "facility", "post", {"payload": "x"}, LOCK_EDITORS),
    ("release_activity", None, "get", None, MANAGERS),
]


@pytest.mark.parametrize(
    ("name", "target", "method", "data", "allowed"),
    PAGE_ACTIONS,
    ids=[f"{a[0]}-{a[2]}" for a in PAGE_ACTIONS],
)
def test_facility_pages(member_client, role, facility, name, target, method, data, allowed):
    unit = UnitFactory(facility=facility, unit_number="A1")
    lock = assigned_lock(unit)
    obj = {"facility": facility, "unit": unit, "lock": lock}.get(target)
    url = reverse(f"facilities:{name}", args=[obj.pk] if obj else [])
    if data == "csv":
        data = _csv("A2,,,,,,\n")
    response = getattr(member_client, method)(url, data or {})
    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 403
        facility.refresh_from_db()
        assert facility.name == "Harbor Downtown"
        assert not Lock.objects.filter(serial="NEWLOCK1").exists()


@pytest.mark.parametrize("status", [TUL, AUCTION, LockStatus.ASSIGNED_OVERLOCK])
def test_import_changes_only_the_locks_the_role_may(member_client, role, facility, status):
    """A file that moves a lock of `status` to Assigned Vacant, or adds a lock in it."""
    unit = UnitFactory(facility=facility, unit_number="A1")
    assigned_lock(unit, status, serial="HD000001")
    rows = f"A1,,,,HD000001,,assigned_vacant\nA2,,,,HD000002,1234,{status}\n"
    response = member_client.post(
        reverse("facilities:facility_import", args=[facility.pk]), _csv(rows)
    )
    if role not in LOCK_EDITORS:
        assert response.status_code == 403
        return
    body = response.content.decode()
    refused_move = not may_set(role, status, LockStatus.ASSIGNED_VACANT)
    refused_new = not may_set(role, LockStatus.AVAILABLE, status)  # they type its code
    assert ("HD000001: a " in body) == refused_move
    assert ("HD000002: a " in body) == refused_new


# --- Integrations and Team --------------------------------------------------------------------

INTEGRATIONS = [
    ("api_settings", None, "get"),
    ("api_key_create", None, "get"),
    ("api_key_detail", "key", "get"),
    ("api_key_reveal", "key", "post"),
    ("api_key_disable", "key", "post"),
    ("api_key_enable", "key", "post"),
    ("api_key_roll", "key", "get"),
    ("api_key_delete", "key", "get"),
    ("facility_list", None, "get"),
    ("facility_include", "facility_id", "post"),
    ("activity", None, "get"),
]


@pytest.mark.parametrize(("name", "target", "method"), INTEGRATIONS)
def test_integrations(member_client, role, account, facility, name, target, method):
    key = ApiKeyFactory(account=account)
    args = {"key": [key.pk], "facility_id": [facility.facility_id]}.get(target, [])
    response = getattr(member_client, method)(reverse(f"integrations:{name}", args=args))
    if role in MANAGERS:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        key.refresh_from_db()
        facility.refresh_from_db()
        assert key.is_active and not key.is_deleted and facility.include_in_api
        assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "method"), [("member_list", "get"), ("member_add", "get"), ("member_add", "post")]
)
def test_team_pages(member_client, role, name, method):
    data = {"name": "New", "email": "new@example.com", "role": Role.CLIENT_CALL_CENTER}
    response = getattr(member_client, method)(
        reverse(f"team:{name}"), data | {"all_facilities": "on"}
    )
    if role in MANAGERS:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


# Who may edit whom: owners everyone; Client Admins non-admin users only.
@pytest.mark.parametrize("target_role", [ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER])
def test_team_edit(member_client, role, account, target_role):
    member = MembershipFactory(account=account, role=target_role, user__email="target@example.com")
    url = reverse("team:member_edit", args=[member.pk])
    response = member_client.get(url)
    may = role == OWNER or (role == ADMIN and target_role != ADMIN)
    assert response.status_code == (200 if may else 403)
    response = member_client.post(
        url,
        {
            "name": "Renamed",
            "email": member.user.email,
            "role": target_role,
            "all_facilities": "on",
            "is_active": "on",
        },
    )
    member.user.refresh_from_db()
    assert (member.user.name == "Renamed") == may
    assert response.status_code == (302 if may else 403)
