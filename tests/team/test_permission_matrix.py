"""The role table (docs/team.md, "The five roles") and the API keys' withheld codes, held
against davinci/accounts/permissions.py in two ways:

- every cell as a pure-function case: every role by every status and action, no database;
- every view that asks permissions.py, through HTTP: one allowed and one refused request per
  role class the view tells apart (the classes: the roles that may, and those that may not;
  for a lock, each role's row of the table), so each view is proven to ask.

The expectations are written out here from docs/team.md as tables, not derived from
permissions.py, so a change to the rules has to change these tables too.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from davinci.accounts import permissions
from davinci.accounts.models import Role
from facilities.models import UNIT_STATUSES, Lock, LockEvent, LockStatus
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
    "owner",
    "client_admin",
    "client_personnel",
    "client_personnel_restricted",
    "client_call_center",
)
ROLES = [OWNER, ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER]

# --- The table, as docs/team.md writes it ---------------------------------------------------

# The columns of the lock tables: every status, in DaVinci's order.
STATUSES = [
    "available",
    "assigned_vacant",
    "assigned_overlock",
    "tenant_using_lock",
    "assigned_auction",
    "assigned_other",
    "assigned_vendor",
    "returned_to_dropbox",
    "on_dropbox",
    "damaged",
    "lost",
    "sold",
    "unscannable",
]
TUL, AUCTION, RTD = "tenant_using_lock", "assigned_auction", "returned_to_dropbox"


def grid(text: str, rows: list[str] = ROLES) -> dict[str, dict[str, bool]]:
    """A table of x (yes) and . (no): a row per role (or `rows`), a column per status."""
    table = {}
    for line in text.strip().splitlines():
        row, *cells = line.split()
        assert len(cells) == len(STATUSES), line
        table[row] = {status: cell == "x" for status, cell in zip(STATUSES, cells, strict=True)}
    assert list(table) == rows
    return table


# "unlock codes (reveal)": all; all; all but Assigned Auction; all but Tenant Using Lock and
# Assigned Auction; all but Assigned Auction.
#                             av va ov tu au ot ve rd od da lo so un
SEES_CODE = grid("""
owner                         x  x  x  x  x  x  x  x  x  x  x  x  x
client_admin                  x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel              x  x  x  x  .  x  x  x  x  x  x  x  x
client_personnel_restricted   x  x  x  .  .  x  x  x  x  x  x  x  x
client_call_center            x  x  x  x  .  x  x  x  x  x  x  x  x
""")
# "units and locks: add, assign, transfer, change status, set code": the locks a role may
# change in place (set code, assign, transfer), by their status. Nobody changes a lock whose
# code they never see; Call Center only sets a status.
#                             av va ov tu au ot ve rd od da lo so un
EDITS_LOCK_IN = grid("""
owner                         x  x  x  x  x  x  x  x  x  x  x  x  x
client_admin                  x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel              x  x  x  x  .  x  x  x  x  x  x  x  x
client_personnel_restricted   x  x  x  .  .  x  x  x  x  x  x  x  x
client_call_center            .  .  .  .  .  .  .  .  .  .  .  .  .
""")
# The status of a lock a role may change the status of ...
#                             av va ov tu au ot ve rd od da lo so un
SETS_STATUS_OF = grid("""
owner                         x  x  x  x  x  x  x  x  x  x  x  x  x
client_admin                  x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel              x  x  x  x  .  x  x  x  x  x  x  x  x
client_personnel_restricted   x  x  x  .  .  x  x  x  x  x  x  x  x
client_call_center            x  x  x  x  .  x  x  x  x  x  x  x  x
""")
# ... and the statuses it may set: Restricted "never *to* Tenant Using Lock"; Call Center
# "Returned to Dropbox or Tenant Using Lock only".
#                             av va ov tu au ot ve rd od da lo so un
SETS_STATUS_TO = grid("""
owner                         x  x  x  x  x  x  x  x  x  x  x  x  x
client_admin                  x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel              x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel_restricted   x  x  x  .  x  x  x  x  x  x  x  x  x
client_call_center            .  .  .  x  .  .  .  x  .  .  .  .  .
""")
# "add": the status a role may add a lock in (typing its code).
#                             av va ov tu au ot ve rd od da lo so un
ADDS_LOCK_IN = grid("""
owner                         x  x  x  x  x  x  x  x  x  x  x  x  x
client_admin                  x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel              x  x  x  x  x  x  x  x  x  x  x  x  x
client_personnel_restricted   x  x  x  .  x  x  x  x  x  x  x  x  x
client_call_center            .  .  .  .  .  .  .  .  .  .  .  .  .
""")
# Assigned Auction: "its code is withheld from the API ... and no tenant is ever sent it".
#                             av va ov tu au ot ve rd od da lo so un
OUTSIDE = grid(
    """
api_key                       x  x  x  x  .  x  x  x  x  x  x  x  x
tenant_notice                 x  x  x  x  .  x  x  x  x  x  x  x  x
""",
    rows=["api_key", "tenant_notice"],
)

# The pages: Team, Integrations, facilities (add, edit), units and locks (add, import), the
# account's lock-limit total.
#                   team integrations facilities locks limit
PAGES = {
    OWNER: (True, True, True, True, True),
    ADMIN: (True, True, True, True, True),
    PERSONNEL: (False, False, False, True, False),
    RESTRICTED: (False, False, False, True, False),
    CALL_CENTER: (False, False, False, False, False),
}
# "Team (users)": owners edit everyone; Client Admins non-admin users; nobody else anyone.
#             edits: owner  admin  personnel restricted call_center
EDITS_MEMBER = {
    OWNER: (True, True, True, True, True),
    ADMIN: (False, False, True, True, True),
    PERSONNEL: (False, False, False, False, False),
    RESTRICTED: (False, False, False, False, False),
    CALL_CENTER: (False, False, False, False, False),
}
# "Nobody gives a role above their own; Owner is never in the role list."
GIVES_ROLES = {
    OWNER: [ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER],
    ADMIN: [ADMIN, PERSONNEL, RESTRICTED, CALL_CENTER],
    PERSONNEL: [],
    RESTRICTED: [],
    CALL_CENTER: [],
}


# --- Every cell, as a pure-function case (no database) --------------------------------------


def test_the_tables_name_every_role_and_status():
    assert Role.values == ROLES
    assert LockStatus.values == STATUSES


@pytest.mark.parametrize("role", ROLES)
def test_code_reveal(role):
    assert {s: permissions.can_view_code(role, s) for s in STATUSES} == SEES_CODE[role]


@pytest.mark.parametrize("role", ROLES)
def test_change_in_place(role):
    assert {s: permissions.can_change_lock(role, s) for s in STATUSES} == EDITS_LOCK_IN[role]


@pytest.mark.parametrize("role", ROLES)
def test_status_change(role):
    """Every (from, to) pair, the same status included (a form never offers it)."""
    actual = {
        (a, b): permissions.can_change_lock(role, a, to_status=b)
        for a in STATUSES
        for b in STATUSES
    }
    expected = {
        (a, b): SETS_STATUS_OF[role][a] and SETS_STATUS_TO[role][b]
        for a in STATUSES
        for b in STATUSES
    }
    assert {cell for cell in actual if actual[cell] != expected[cell]} == set()


@pytest.mark.parametrize("role", ROLES)
def test_lock_page_offers_a_change(role):
    offered = {s: permissions.can_change_lock_somehow(role, s) for s in STATUSES}
    assert offered == {s: EDITS_LOCK_IN[role][s] or SETS_STATUS_OF[role][s] for s in STATUSES}


@pytest.mark.parametrize("role", ROLES)
def test_add_lock(role):
    assert {s: permissions.can_create_lock(role, s) for s in STATUSES} == ADDS_LOCK_IN[role]


@pytest.mark.parametrize("role", ROLES)
def test_status_choices_offered(role):
    """Forms offer exactly the statuses the role may set, as (value, label) pairs or values."""
    choices = [(s, s.title()) for s in STATUSES]
    for status in STATUSES:
        settable = [s for s in STATUSES if SETS_STATUS_OF[role][status] and SETS_STATUS_TO[role][s]]
        assert permissions.settable_statuses(role, status, STATUSES) == settable
        assert permissions.settable_statuses(role, status, choices) == [
            (s, s.title()) for s in settable
        ]


def test_api_keys_and_tenants():
    assert {s: permissions.key_can_view_code(s) for s in STATUSES} == OUTSIDE["api_key"]
    # The SQL statement's parameter: the statuses whose code no key reads.
    assert {s for s in STATUSES if not OUTSIDE["api_key"][s]} == permissions.WITHHELD_STATUSES
    sent = {s: permissions.tenant_can_receive_code(s) for s in STATUSES}
    assert sent == OUTSIDE["tenant_notice"]


# The permissions an API key may hold, as the help text words them.
KEY_PERMISSIONS = {
    "read": "Read lock information",
    "release": "Release overlocks",
    "set_status": "Set lock status",
    "fms_events": "Send FMS events",
    "events": "Read the event feed",
}


def test_key_permissions_and_the_default():
    assert dict(permissions.KeyPermission.choices) == KEY_PERMISSIONS
    assert permissions.DEFAULT_KEY_PERMISSIONS == ("read",)
    assert permissions.key_has_permission(["read", "release"], "release")
    assert not permissions.key_has_permission(["read"], "release")
    assert not permissions.key_has_permission([], "read")


def test_key_permissions_are_cleaned_to_known_values_in_order():
    assert permissions.key_permissions_clean(["events", "read", "read"]) == ["read", "events"]
    assert permissions.key_permissions_clean([]) == []
    with pytest.raises(ValueError, match="Unknown permission write"):
        permissions.key_permissions_clean(["read", "write"])


def test_a_key_sets_the_statuses_a_call_center_may():
    """`set_status` on a key is the Client Call Center's status change, cell for cell."""
    actual = {(a, b): permissions.key_can_set_status(a, b) for a in STATUSES for b in STATUSES}
    expected = {
        (a, b): SETS_STATUS_OF[CALL_CENTER][a] and SETS_STATUS_TO[CALL_CENTER][b]
        for a in STATUSES
        for b in STATUSES
    }
    assert actual == expected
    assert not permissions.key_can_set_status(AUCTION, RTD)


@pytest.mark.parametrize("role", ROLES)
def test_pages(role):
    asked = (
        permissions.can_manage_users(role),
        permissions.can_manage_integrations(role),
        permissions.can_edit_facilities(role),
        permissions.can_change_locks(role),
        permissions.sees_lock_limit(role),
    )
    assert asked == PAGES[role]


@pytest.mark.parametrize("role", ROLES)
def test_team(role):
    assert (
        tuple(permissions.can_edit_member(role, member) for member in ROLES) == EDITS_MEMBER[role]
    )
    assert permissions.assignable_roles(role) == GIVES_ROLES[role]


def test_no_role_is_no_permission():
    unknown = "manager"  # a value from before the five roles
    assert not any(permissions.can_view_code(unknown, s) for s in STATUSES)
    assert not any(permissions.can_change_lock_somehow(unknown, s) for s in STATUSES)
    assert not permissions.can_create_lock(unknown, "available")
    assert not (permissions.can_manage_users(unknown) or permissions.can_change_locks(unknown))


# --- Each view asks: one allowed and one refused request per role class ----------------------


@pytest.fixture
def as_role(account, owner):
    """`as_role(role)`: a client of the account signed in with `role`, confirmed lately (a
    reveal shows the code; asking first is tests/accounts')."""

    def client(role: str):
        if role == OWNER:
            return confirmed(signed_in(owner))
        user = MembershipFactory(account=account, role=role, user__email=f"{role}@example.com")
        return confirmed(signed_in(user.user))

    return client


def _lock(facility, status: str, **kwargs) -> Lock:
    if status in UNIT_STATUSES:
        return assigned_lock(UnitFactory(facility=facility), status, **kwargs)
    return LockFactory(facility=facility, status=status, **kwargs)


def _csv(rows: str) -> dict:
    text = "unit_number,tenant_name,tenant_email,tenant_phone,serial,unlock_code,status\n" + rows
    return {"file": SimpleUploadedFile("units.csv", text.encode(), content_type="text/csv")}


# (view, method, data, a role allowed, a role refused): the pages a role opens or not.
PAGE_VIEWS = [
    ("facilities:facility_create", None, "get", None, ADMIN, PERSONNEL),
    ("facilities:facility_create", None, "post", {"name": "Harbor New"}, ADMIN, PERSONNEL),
    ("facilities:facility_edit", "facility", "post", {"name": "Harbor Renamed"}, ADMIN, PERSONNEL),
    ("facilities:unit_create", "facility", "post", {"unit_number": "Z9"}, RESTRICTED, CALL_CENTER),
    ("facilities:unit_edit", "unit", "post", {"unit_number": "Z8"}, RESTRICTED, CALL_CENTER),
    ("facilities:lock_create", "facility", "get", None, RESTRICTED, CALL_CENTER),
    ("facilities:facility_import", "facility", "post", "csv", RESTRICTED, CALL_CENTER),
    (
        "facilities:facility_import_commit",
        "facility",
        "post",
        {"payload": "x"},
        RESTRICTED,
        CALL_CENTER,
    ),
    ("facilities:release_activity", None, "get", None, ADMIN, PERSONNEL),
    ("integrations:api_settings", None, "get", None, ADMIN, PERSONNEL),
    ("integrations:api_key_create", None, "get", None, ADMIN, PERSONNEL),
    ("integrations:api_key_detail", "key", "get", None, ADMIN, PERSONNEL),
    ("integrations:api_key_reveal", "key", "post", None, ADMIN, PERSONNEL),
    ("integrations:api_key_disable", "key", "post", None, ADMIN, PERSONNEL),
    ("integrations:api_key_enable", "key", "post", None, ADMIN, PERSONNEL),
    ("integrations:api_key_roll", "key", "get", None, ADMIN, PERSONNEL),
    ("integrations:api_key_delete", "key", "get", None, ADMIN, PERSONNEL),
    ("integrations:facility_list", None, "get", None, ADMIN, PERSONNEL),
    ("integrations:facility_include", "facility_id", "post", None, ADMIN, PERSONNEL),
    ("integrations:activity", None, "get", None, ADMIN, PERSONNEL),
    ("team:member_list", None, "get", None, ADMIN, PERSONNEL),
    ("team:member_add", None, "get", None, ADMIN, PERSONNEL),
]
# "lock history, search, CSV export": everyone, down to Call Center.
EVERYONE_VIEWS = [
    ("facilities:facility_list", None),
    ("facilities:facility_detail", "facility"),
    ("facilities:facility_locks", "facility"),
    ("facilities:unit_detail", "unit"),
    ("facilities:lock_detail", "lock"),
    ("facilities:search", None),
    ("facilities:facility_export", "facility"),
]


PAGE_CASES = [
    pytest.param(name, target, method, data, role, may, id=f"{name}-{method}-{role}")
    for name, target, method, data, allowed, refused in PAGE_VIEWS
    for role, may in ((allowed, True), (refused, False))
]


@pytest.mark.parametrize(("name", "target", "method", "data", "role", "may"), PAGE_CASES)
def test_pages_ask(as_role, account, facility, name, target, method, data, role, may):
    unit = UnitFactory(facility=facility, unit_number="A1")
    key = ApiKeyFactory(account=account)
    obj = {"facility": facility.pk, "unit": unit.pk, "key": key.pk}.get(target)
    args = [facility.facility_id] if target == "facility_id" else [obj] if obj else []
    if data == "csv":
        data = _csv("A2,,,,,,\n")
    response = getattr(as_role(role), method)(reverse(name, args=args), data or {})
    if may:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 403
        facility.refresh_from_db()
        key.refresh_from_db()
        assert facility.name == "Harbor Downtown" and facility.include_in_api
        assert key.is_active and not key.is_deleted and ApiKey.objects.count() == 1


@pytest.mark.parametrize(("name", "target"), EVERYONE_VIEWS)
def test_pages_for_everyone(as_role, facility, name, target):
    unit = UnitFactory(facility=facility, unit_number="A1")
    lock = assigned_lock(unit)
    obj = {"facility": facility, "unit": unit, "lock": lock}.get(target)
    response = as_role(CALL_CENTER).get(reverse(name, args=[obj.pk] if obj else []))
    assert response.status_code == 200


# Lock actions: per role's row, a status where it may and one where it may not (where the
# row has both).
REVEALS = [
    (OWNER, AUCTION, True),
    (PERSONNEL, TUL, True),
    (PERSONNEL, AUCTION, False),
    (RESTRICTED, "assigned_overlock", True),
    (RESTRICTED, TUL, False),
    (CALL_CENTER, TUL, True),
    (CALL_CENTER, AUCTION, False),
]


@pytest.mark.parametrize(("role", "status", "may"), REVEALS)
def test_reveal_asks(as_role, facility, role, status, may):
    lock = _lock(facility, status, code="4321")
    client = as_role(role)
    response = client.post(reverse("facilities:lock_reveal", args=[lock.pk]))
    revealed = LockEvent.objects.filter(kind=LockEvent.Kind.CODE_REVEALED).count()
    if may:
        assert response.status_code == 200 and "4321" in response.content.decode()
        assert revealed == 1
    else:
        assert response.status_code == 403 and "4321" not in response.content.decode()
        assert revealed == 0
        page = client.get(reverse("facilities:lock_detail", args=[lock.pk]))
        assert "Withheld" in page.content.decode()


STATUS_CHANGES = [
    (OWNER, AUCTION, "assigned_other", True),
    (PERSONNEL, "assigned_overlock", "assigned_vacant", True),
    (PERSONNEL, AUCTION, "assigned_other", False),
    (RESTRICTED, "assigned_vacant", "assigned_overlock", True),
    (RESTRICTED, "assigned_vacant", TUL, False),
    (CALL_CENTER, "assigned_overlock", RTD, True),
    (CALL_CENTER, "assigned_overlock", "assigned_vacant", False),
]


@pytest.mark.parametrize(("role", "from_status", "to_status", "may"), STATUS_CHANGES)
def test_status_change_asks(as_role, facility, role, from_status, to_status, may):
    lock = _lock(facility, from_status)
    response = as_role(role).post(
        reverse("facilities:lock_status", args=[lock.pk]), {"status": to_status}
    )
    lock.refresh_from_db()
    if may:
        assert response.status_code == 302, response.content.decode()[:500]
        assert lock.status == to_status
    else:
        assert response.status_code == 403
        assert lock.status == from_status and not LockEvent.objects.exists()


UNASSIGNS = [
    (OWNER, AUCTION, True),
    (PERSONNEL, "assigned_vacant", True),
    (PERSONNEL, AUCTION, False),
    (RESTRICTED, "assigned_vacant", True),
    (RESTRICTED, TUL, False),
    (CALL_CENTER, "assigned_vacant", False),  # Available is not its to set
]


@pytest.mark.parametrize(("role", "from_status", "may"), UNASSIGNS)
def test_unassign_asks(as_role, facility, role, from_status, may):
    lock = _lock(facility, from_status)
    response = as_role(role).post(
        reverse("facilities:lock_unassign", args=[lock.pk]),
        {"status": "available", "confirm_unreleased": "on"},
    )
    lock.refresh_from_db()
    if may:
        assert response.status_code == 302
        assert (lock.status, lock.unit_id) == ("available", None)
    else:
        assert response.status_code == 403
        assert lock.status == from_status and lock.unit_id is not None


@pytest.mark.parametrize("role", [OWNER, CALL_CENTER])
def test_release_asks(as_role, facility, role):
    """Every role may release an overlock (Call Center through its Returned to Dropbox)."""
    lock = _lock(facility, "assigned_overlock")
    response = as_role(role).post(reverse("facilities:lock_release", args=[lock.pk]))
    lock.refresh_from_db()
    assert response.status_code == 302
    assert lock.status == RTD and lock.unit_id is not None


ASSIGNS = [
    ("lock_assign", PERSONNEL, AUCTION, True),
    ("lock_assign", RESTRICTED, TUL, False),
    ("lock_assign", CALL_CENTER, TUL, False),  # no assigning at all
    ("unit_assign_lock", RESTRICTED, "assigned_vacant", True),
    ("unit_assign_lock", RESTRICTED, TUL, False),
    ("unit_assign_lock", CALL_CENTER, RTD, False),
]


@pytest.mark.parametrize(("where", "role", "to_status", "may"), ASSIGNS)
def test_assign_asks(as_role, facility, where, role, to_status, may):
    unit = UnitFactory(facility=facility)
    lock = LockFactory(facility=facility)
    if where == "lock_assign":
        url = reverse("facilities:lock_assign", args=[lock.pk])
        data = {"unit": unit.unit_number, "status": to_status}
    else:
        url = reverse("facilities:unit_assign_lock", args=[unit.pk])
        data = {"lock": lock.serial, "status": to_status}
    response = as_role(role).post(url, data)
    lock.refresh_from_db()
    if may:
        assert response.status_code == 302
        assert (lock.status, lock.unit_id) == (to_status, unit.pk)
    else:
        assert response.status_code == 403
        assert lock.unit_id is None


@pytest.mark.parametrize(("role", "may"), [(PERSONNEL, True), (CALL_CENTER, False)])
def test_set_code_asks(as_role, facility, role, may):
    lock = LockFactory(facility=facility, status="damaged", code="1111")
    response = as_role(role).post(
        reverse("facilities:lock_code", args=[lock.pk]), {"unlock_code": "2222"}
    )
    lock.refresh_from_db()
    assert response.status_code == (302 if may else 403)
    assert lock.unlock_code == ("2222" if may else "1111")


@pytest.mark.parametrize(("role", "may"), [(RESTRICTED, True), (CALL_CENTER, False)])
def test_add_lock_asks(as_role, facility, role, may):
    """The form offers statuses off any unit only, which every lock editor may add a lock in
    (Restricted's Tenant Using Lock is refused in an import: test_import_asks)."""
    response = as_role(role).post(
        reverse("facilities:lock_create", args=[facility.pk]),
        {"serial": "NEWLOCK1", "unlock_code": "1234", "status": "on_dropbox"},
    )
    assert response.status_code == (302 if may else 403), response.content.decode()[:500]
    assert Lock.objects.filter(serial="NEWLOCK1").exists() == may


IMPORTS = [
    # (role, the status of the lock moved and of the lock added, refused rows)
    (OWNER, AUCTION, False),
    (PERSONNEL, TUL, False),
    (PERSONNEL, AUCTION, True),  # the move: its code is withheld from Personnel
    (RESTRICTED, "assigned_overlock", False),
    (RESTRICTED, TUL, True),
]


@pytest.mark.parametrize(("role", "status", "refused"), IMPORTS)
def test_import_asks(as_role, facility, role, status, refused):
    """A file that moves a lock of `status` to Assigned Vacant, and adds a lock in it."""
    assigned_lock(UnitFactory(facility=facility, unit_number="A1"), status, serial="HD000001")
    rows = f"A1,,,,HD000001,,assigned_vacant\nA2,,,,HD000002,1234,{status}\n"
    response = as_role(role).post(
        reverse("facilities:facility_import", args=[facility.pk]), _csv(rows)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert ("HD000001: a " in body) == refused
    # A new lock is refused only in a status the role may not add a lock in.
    assert ("HD000002: a " in body) == (not ADDS_LOCK_IN[role][status])


# "Team (users)": owners edit everyone, Client Admins non-admin users; the others never reach
# the page (test_pages_ask).
TEAM_EDITS = [(OWNER, ADMIN, True), (ADMIN, PERSONNEL, True), (ADMIN, ADMIN, False)]


@pytest.mark.parametrize(("role", "target_role", "may"), TEAM_EDITS)
def test_team_edit_asks(as_role, account, role, target_role, may):
    member = MembershipFactory(account=account, role=target_role, user__email="target@example.com")
    client = as_role(role)
    url = reverse("team:member_edit", args=[member.pk])
    assert client.get(url).status_code == (200 if may else 403)
    response = client.post(
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
    assert response.status_code == (302 if may else 403)
    assert (member.user.name == "Renamed") == may
