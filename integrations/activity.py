"""The account's Activity log (AuditEvents, davinci/accounts/models.py) as a member sees it."""

from __future__ import annotations

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from davinci.accounts.models import AuditEvent, Membership
from facilities.models import Facility
from integrations.models import ApiKey
from webhooks.models import Endpoint


def activity_visible_to(membership: Membership) -> QuerySet[AuditEvent]:
    """Everything of the account for a member with All Facilities; with chosen facilities,
    the events about those facilities, the keys, the webhook endpoints and the team members
    they see (an endpoint as a key: only one naming nothing but their facilities)."""
    events = AuditEvent.objects.for_account(membership.account)
    if membership.all_facilities:
        return events
    facility_ids = Facility.objects.for_membership(membership).values("facility_id")
    key_ids = ApiKey.objects.for_membership(membership).values("api_key")
    endpoint_ids = (
        Endpoint.objects.for_membership(membership)
        .annotate(target_key=Cast("pk", CharField()))
        .values("target_key")
    )
    user_ids = (
        Membership.objects.visible_to(membership)
        .annotate(user_key=Cast("user_id", CharField()))
        .values("user_key")
    )
    return events.filter(
        Q(target_type="facility", target_id__in=facility_ids)
        | Q(target_type="api_key", target_id__in=key_ids)
        | Q(target_type="webhook_endpoint", target_id__in=endpoint_ids)
        | Q(target_type="user", target_id__in=user_ids)
    )
