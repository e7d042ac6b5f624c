"""Who may do what: the five DaVinci Lock roles, in one place.

Views, templates and services ask a membership (`membership.can_change_lock(lock,
to_status=...)`, `membership.can_view_code(lock)`, `membership.can_manage_users`...), and the
membership answers from the tables below. docs/team.md "The five roles" is the source.

Lock statuses are named by their values (facilities.models.LockStatus): this module sits
below the facilities app and must not import it. A test holds the values against LockStatus.
"""

from __future__ import annotations

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


# The names the portal used before the five DaVinci roles, kept as aliases (not extra
# choices: Django's choices must be unique) so code written against them keeps working.
Role.ADMIN = Role.CLIENT_ADMIN
Role.MANAGER = Role.CLIENT_PERSONNEL
Role.CALL_CENTER = Role.CLIENT_CALL_CENTER


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
# (Tuples, highest role first, so the 403 page names them in that order.)
MANAGES_USERS = (Role.OWNER, Role.CLIENT_ADMIN)
MANAGES_INTEGRATIONS = (Role.OWNER, Role.CLIENT_ADMIN)
EDITS_FACILITIES = (Role.OWNER, Role.CLIENT_ADMIN)
SEES_LOCK_LIMIT = (Role.OWNER, Role.CLIENT_ADMIN)  # the account's total towards the lock limit
# Locks (activate, assign, transfer, change status, set code, import) and units.
CHANGES_LOCKS = (
    Role.OWNER,
    Role.CLIENT_ADMIN,
    Role.CLIENT_PERSONNEL,
    Role.CLIENT_PERSONNEL_RESTRICTED,
)

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
# Statuses a role may not put a lock into (None: any status its other rules allow).
CANNOT_SET = {
    Role.CLIENT_PERSONNEL_RESTRICTED: frozenset({TENANT_USING_LOCK}),
}
# The only statuses a call-center user may set.
CALL_CENTER_SETS = frozenset({RETURNED_TO_DROPBOX, TENANT_USING_LOCK})


def role_label(role: str) -> str:
    return Role(role).label


def can_view_code(role: str, status: str) -> bool:
    return status not in CODE_WITHHELD.get(role, frozenset({status}))


def can_set_status(role: str, from_status: str | None, to_status: str) -> bool:
    """May `role` move a lock from `from_status` (None: a new lock) to `to_status`?"""
    if from_status is not None and not can_view_code(role, from_status):
        return False
    if role == Role.CLIENT_CALL_CENTER:
        return from_status is not None and to_status in CALL_CENTER_SETS
    if role not in CHANGES_LOCKS:
        return False
    return to_status not in CANNOT_SET.get(role, frozenset())


def can_edit_lock(role: str, status: str) -> bool:
    """Edits that keep the status (set code, assign, transfer, import a unit change)."""
    return role in CHANGES_LOCKS and can_view_code(role, status)


def assignable_roles(editor_role: str) -> list[str]:
    """The roles an editor may give: their own and below; the owner hands ownership over
    with its own action, never through the role list."""
    if editor_role not in MANAGES_USERS:
        return []
    return [role for role in ROLE_ORDER if role != Role.OWNER and RANK[role] <= RANK[editor_role]]
