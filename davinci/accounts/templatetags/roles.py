"""Template filters that ask a membership about one object (templates cannot pass arguments
to methods): `{% if current_membership|can_view_code:lock %}`."""

from django import template

register = template.Library()


@register.filter
def can_view_code(membership, lock) -> bool:
    return membership is not None and membership.can_view_code(lock)


@register.filter
def can_change_lock(membership, lock) -> bool:
    """Any change to `lock` at all: a status this member may set, or an edit."""
    return membership is not None and membership.can_change_lock_somehow(lock)
