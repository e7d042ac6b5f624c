from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from facilities.models import Facility

if TYPE_CHECKING:
    from davinci.accounts.models import Account, Membership


class EndpointQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> EndpointQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> EndpointQuerySet:
        """The endpoints a member sees: with All Facilities every endpoint of the account;
        otherwise those that name only facilities of theirs (never an All Facilities one),
        as for API keys."""
        endpoints = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return endpoints
        outside = (
            Facility.objects.filter(account_id=membership.account_id)
            .exclude(pk__in=Facility.objects.for_membership(membership).values("pk"))
            .values("pk")
        )
        return endpoints.filter(all_facilities=False).exclude(facilities__in=outside)

    def not_deleted(self) -> EndpointQuerySet:
        return self.filter(deleted_at__isnull=True)

    def receiving(self) -> EndpointQuerySet:
        """Endpoints that are sent events: active and not deleted."""
        return self.filter(is_active=True, deleted_at__isnull=True)
