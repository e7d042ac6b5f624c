"""Who may do what: the five DaVinci Lock roles and the API keys, in one place.

Every view, template (`{% load roles %}`), form, service, the CSV import and the API ask the
functions below, and nothing else states these rules. They take plain values (a role, a
lock's status), never a model, so the whole table is tested as a table of cases
(tests/team/test_permission_matrix.py) without a database. The API lookup's SQL statement
(integrations/api/statements.py) takes WITHHELD_STATUSES as a parameter.

Lock statuses are named by their values (facilities.models.LockStatus): this module sits
below the facilities app and must not import it. A test holds the values against LockStatus.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

TENANT_USING_LOCK = "tenant_using_lock"
ASSIGNED_AUCTION = "assigned_auction"
RETURNED_TO_DROPBOX = "returned_to_dropbox"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    CLIENT_ADMIN = "client_admin", "Client Admin"
    CLIENT_PERSONNEL = "client_personnel", "Client Personnel"
    CLIENT_PERSONNEL_RESTRICTED = "client_personnel_restricted", "Client Personnel (Restricted)"
    CLIENT_CALL_CENTER = "client_call_center", "Client Call Center"


# Highest first. Nobody may give anyone a role above their own.
ROLE_ORDER = (
    Role.OWNER,
    Role.CLIENT_ADMIN,
    Role.CLIENT_PERSONNEL,
    Role.CLIENT_PERSONNEL_RESTRICTED,
    Role.CLIENT_CALL_CENTER,
)
RANK = {role: len(ROLE_ORDER) - index for index, role in enumerate(ROLE_ORDER)}

# Team (users) and Integrations (API keys, Include in API); facilities add/edit.
# (Tuples, highest role first: `account_required(*MANAGES_USERS)` names them in that order
# on the 403 page.)
MANAGES_USERS = (Role.OWNER, Role.CLIENT_ADMIN)
MANAGES_INTEGRATIONS = (Role.OWNER, Role.CLIENT_ADMIN)
# Webhook endpoints (Integrations → Webhooks), each member within their facilities.
MANAGES_WEBHOOKS = (Role.OWNER, Role.CLIENT_ADMIN)
MANAGES_AUTOMATIONS = (Role.OWNER, Role.CLIENT_ADMIN)  # Integrations → Automations
EDITS_FACILITIES = (Role.OWNER, Role.CLIENT_ADMIN)
SEES_LOCK_LIMIT = (Role.OWNER, Role.CLIENT_ADMIN)  # the account's total towards the lock limit
# Reports: everyone but the call center (facility access narrows what each report counts).
SEES_REPORTS = (
    Role.OWNER,
    Role.CLIENT_ADMIN,
    Role.CLIENT_PERSONNEL,
    Role.CLIENT_PERSONNEL_RESTRICTED,
)
# The audit export (every LockEvent and AuditEvent as a file): those who keep the account.
EXPORTS_HISTORY = (Role.OWNER, Role.CLIENT_ADMIN)
# Locks (activate, assign, transfer, change status, set code, import) and units.
CHANGES_LOCKS = (
    Role.OWNER,
    Role.CLIENT_ADMIN,
    Role.CLIENT_PERSONNEL,
    Role.CLIENT_PERSONNEL_RESTRICTED,
)

# The code of a lock on a unit being auctioned never leaves the portal: every API key reads
# it as withheld (and its lookup records nothing), and no tenant is ever sent it.
WITHHELD_STATUSES = frozenset({ASSIGNED_AUCTION})

# Statuses whose code a role never sees. Changing a lock in such a status would show the
# code to the user afterwards, so a role also cannot change locks in them (for Restricted,
# DaVinci's "no changes to Tenant Using Lock locks", docs/team.md).
CODE_WITHHELD = {
    Role.OWNER: frozenset(),
    Role.CLIENT_ADMIN: frozenset(),
    Role.CLIENT_PERSONNEL: frozenset({ASSIGNED_AUCTION}),
    Role.CLIENT_PERSONNEL_RESTRICTED: frozenset({TENANT_USING_LOCK, ASSIGNED_AUCTION}),
    Role.CLIENT_CALL_CENTER: frozenset({ASSIGNED_AUCTION}),
}
# Statuses a role may not put a lock into (absent: any status its other rules allow).
CANNOT_SET = {
    Role.CLIENT_PERSONNEL_RESTRICTED: frozenset({TENANT_USING_LOCK}),
}
# The only statuses a call-center user may set.
CALL_CENTER_SETS = frozenset({RETURNED_TO_DROPBOX, TENANT_USING_LOCK})


def role_label(role: str) -> str:
    return Role(role).label


# --- API keys and tenants -----------------------------------------------------------------------


class KeyPermission(models.TextChoices):
    """What an API key may do, chosen on Create API Key and the key's page. An endpoint names
    the one it needs (`api_endpoint(permission=...)`, integrations/api/views.py)."""

    READ = "read", "Read lock information"
    RELEASE = "release", "Release overlocks"
    SET_STATUS = "set_status", "Set lock status"
    FMS_EVENTS = "fms_events", "Send FMS events"
    EVENTS = "events", "Read the event feed"


# A new key may only look codes up: the help article's purpose.
DEFAULT_KEY_PERMISSIONS = (KeyPermission.READ.value,)


def key_permissions_clean(values: Iterable[str]) -> list[str]:
    """`values` as a key stores them: known permissions only, each once, in the order of
    KeyPermission. Raises ValueError naming an unknown one."""
    chosen = set(values)
    unknown = chosen - set(KeyPermission.values)
    if unknown:
        raise ValueError(
            f"Unknown permission {', '.join(sorted(unknown))}; choose from "
            f"{', '.join(KeyPermission.values)}."
        )
    return [value for value in KeyPermission.values if value in chosen]


def key_has_permission(granted: Iterable[str], permission: str) -> bool:
    """Whether a key holding `granted` may call an endpoint that needs `permission`."""
    return permission in granted


def key_can_set_status(status: str, to_status: str) -> bool:
    """Whether a key with `set_status` may move a lock from `status` to `to_status`: what a
    Client Call Center may set in the portal, and nothing else."""
    return can_change_lock(Role.CLIENT_CALL_CENTER, status, to_status=to_status)


def key_can_view_code(status: str) -> bool:
    """Whether an API key's lookup hands out (and records) the code of a lock in `status`;
    otherwise `unlock_code` is null and `unlock_code_withheld` names the status."""
    return status not in WITHHELD_STATUSES


def tenant_can_receive_code(status: str) -> bool:
    """Whether a notice may send a tenant the code of a lock in `status`."""
    return status not in WITHHELD_STATUSES


def automation_can_act(status: str) -> bool:
    """Whether an automation rule may touch a lock in `status`: never one being auctioned
    (its status is a person's decision, and its code never goes to a tenant)."""
    return status not in WITHHELD_STATUSES


# --- Roles: pages ---------------------------------------------------------------------------


def can_manage_users(role: str) -> bool:
    """Team: owners and Client Admins."""
    return role in MANAGES_USERS


def can_manage_integrations(role: str) -> bool:
    """API keys, the Include-in-API toggles, Activity, the account's time zone."""
    return role in MANAGES_INTEGRATIONS


def can_manage_webhooks(role: str) -> bool:
    """Webhook endpoints: add, edit, show and roll the secret, disable, delete, test."""
    return role in MANAGES_WEBHOOKS


def can_manage_automations(role: str) -> bool:
    """Integrations → Automations: the rules and their activity."""
    return role in MANAGES_AUTOMATIONS


def can_edit_rule(*, member_all_facilities: bool, rule_all_facilities: bool) -> bool:
    """Of the rules a member sees (a member with chosen facilities sees the account-wide
    rules and those of their facilities only), which they may change: all of them with All
    Facilities; with chosen facilities only the rules of their facilities, since an
    account-wide rule acts on facilities outside theirs."""
    return member_all_facilities or not rule_all_facilities


def can_reorder_rules(*, member_all_facilities: bool) -> bool:
    """Moving a rule moves it past rules of facilities the member may not see: only a
    member with All Facilities orders the rules (a new rule of anyone's comes last)."""
    return member_all_facilities


def can_edit_facilities(role: str) -> bool:
    return role in EDITS_FACILITIES


def sees_lock_limit(role: str) -> bool:
    """The account's total of locks counting towards the lock limit."""
    return role in SEES_LOCK_LIMIT


def can_see_reports(role: str) -> bool:
    """The Reports tab: lock usage, overlocks by age, the remove-overlock queue, code
    disclosures, within the member's facilities."""
    return role in SEES_REPORTS


def can_export_history(role: str) -> bool:
    """The audit export: LockEvents and AuditEvents as a file, within the member's
    facilities."""
    return role in EXPORTS_HISTORY


def can_change_locks(role: str) -> bool:
    """Add, assign, transfer and import locks, add and edit units: everyone but Call Center
    (who only sets a status, see can_change_lock). Each lock still asks its own question."""
    return role in CHANGES_LOCKS


# --- Roles: one lock ------------------------------------------------------------------------


def can_view_code(role: str, status: str) -> bool:
    """Whether `role` may see (reveal) the code of a lock in `status`."""
    return status not in CODE_WITHHELD.get(role, frozenset({status}))


def _can_set_status(role: str, from_status: str | None, to_status: str) -> bool:
    """May `role` move a lock from `from_status` (None: a new lock) to `to_status`?"""
    if from_status is not None and not can_view_code(role, from_status):
        return False
    if role == Role.CLIENT_CALL_CENTER:
        return from_status is not None and to_status in CALL_CENTER_SETS
    if role not in CHANGES_LOCKS:
        return False
    return to_status not in CANNOT_SET.get(role, frozenset())


def can_create_lock(role: str, status: str) -> bool:
    """May `role` add a lock (typing its code) in `status`?"""
    return _can_set_status(role, None, status)


def can_change_lock(role: str, status: str, *, to_status: str | None = None) -> bool:
    """May `role` change a lock in `status`: to `to_status`, or (None) in a way that keeps its
    status (set code, assign, transfer, a unit change in an import)?"""
    if to_status is None:
        return role in CHANGES_LOCKS and can_view_code(role, status)
    return _can_set_status(role, status, to_status)


def can_change_lock_somehow(role: str, status: str) -> bool:
    """Whether the lock page offers `role` any change at all to a lock in `status`."""
    return can_change_lock(role, status) or any(
        can_change_lock(role, status, to_status=to_status) for to_status in CALL_CENTER_SETS
    )


def settable_statuses(role: str, status: str, choices: Iterable) -> list:
    """`choices` (values, or (value, label) pairs) narrowed to those `role` may set on a lock
    in `status`."""
    return [
        choice
        for choice in choices
        if can_change_lock(
            role, status, to_status=choice[0] if isinstance(choice, tuple) else choice
        )
    ]


# --- Roles: the team ------------------------------------------------------------------------


def assignable_roles(editor_role: str) -> list[str]:
    """The roles an editor may give: their own and below; the owner hands ownership over
    with its own action, never through the role list."""
    if editor_role not in MANAGES_USERS:
        return []
    return [role for role in ROLE_ORDER if role != Role.OWNER and RANK[role] <= RANK[editor_role]]


def can_edit_member(editor_role: str, member_role: str) -> bool:
    """Owners edit everyone; Client Admins edit non-admin users; nobody else edits anyone."""
    if editor_role not in MANAGES_USERS:
        return False
    return editor_role == Role.OWNER or RANK.get(member_role, 0) < RANK[editor_role]
