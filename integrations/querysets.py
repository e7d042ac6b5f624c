from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import CharField, Q
from django.db.models.functions import Cast

if TYPE_CHECKING:
    from davinci.accounts.models import Account, Membership


def _facilities_outside(membership: Membership) -> models.QuerySet:
    from facilities.models import Facility

    return (
        Facility.objects.filter(account_id=membership.account_id)
        .exclude(pk__in=Facility.objects.for_membership(membership).values("pk"))
        .values("pk")
    )


class ApiKeyQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> ApiKeyQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> ApiKeyQuerySet:
        """The keys a member sees: with All Facilities every key of the account; otherwise
        the keys that name only facilities of theirs (never an All Facilities key)."""
        keys = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return keys
        return keys.filter(all_facilities=False).exclude(
            facilities__in=_facilities_outside(membership)
        )

    def not_deleted(self) -> ApiKeyQuerySet:
        return self.filter(deleted_at__isnull=True)


class AuditEventQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> AuditEventQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> AuditEventQuerySet:
        """Activity as a member sees it: with chosen facilities, the events about those
        facilities, the keys and the team members they see."""
        from davinci.accounts.models import Membership
        from facilities.models import Facility
        from integrations.models import ApiKey

        events = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return events
        facility_ids = Facility.objects.for_membership(membership).values("facility_id")
        key_ids = ApiKey.objects.for_membership(membership).values("api_key")
        user_ids = (
            Membership.objects.visible_to(membership)
            .annotate(user_key=Cast("user_id", CharField()))
            .values("user_key")
        )
        return events.filter(
            Q(target_type="facility", target_id__in=facility_ids)
            | Q(target_type="api_key", target_id__in=key_ids)
            | Q(target_type="user", target_id__in=user_ids)
        )
