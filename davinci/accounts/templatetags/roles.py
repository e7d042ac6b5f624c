"""Template filters that ask davinci/accounts/permissions.py about the current membership's
role (templates cannot call functions with arguments):
`{% if current_membership|can_view_code:lock %}`, `{% if current_membership|can_manage_users %}`.
No membership (a page outside an account) may do nothing."""

from django import template

from davinci.accounts import permissions

register = template.Library()


@register.filter
def can_view_code(membership, lock) -> bool:
    return membership is not None and permissions.can_view_code(membership.role, lock.status)


@register.filter
def can_change_lock(membership, lock) -> bool:
    """Any change to `lock` at all: a status this member may set, or an edit."""
    return membership is not None and permissions.can_change_lock_somehow(
        membership.role, lock.status
    )


@register.filter
def can_change_locks(membership) -> bool:
    return membership is not None and permissions.can_change_locks(membership.role)


@register.filter
def can_edit_facilities(membership) -> bool:
    return membership is not None and permissions.can_edit_facilities(membership.role)


@register.filter
def can_manage_integrations(membership) -> bool:
    return membership is not None and permissions.can_manage_integrations(membership.role)


@register.filter
def can_manage_users(membership) -> bool:
    return membership is not None and permissions.can_manage_users(membership.role)


@register.filter
def can_see_reports(membership) -> bool:
    return membership is not None and permissions.can_see_reports(membership.role)


@register.filter
def can_export_history(membership) -> bool:
    return membership is not None and permissions.can_export_history(membership.role)


@register.filter
def can_manage_automations(membership) -> bool:
    return membership is not None and permissions.can_manage_automations(membership.role)


@register.filter
def can_edit_rule(membership, rule) -> bool:
    return (
        membership is not None
        and permissions.can_manage_automations(membership.role)
        and permissions.can_edit_rule(
            member_all_facilities=membership.all_facilities,
            rule_all_facilities=rule.all_facilities,
        )
    )


@register.filter
def can_reorder_rules(membership) -> bool:
    return (
        membership is not None
        and permissions.can_manage_automations(membership.role)
        and permissions.can_reorder_rules(member_all_facilities=membership.all_facilities)
    )
