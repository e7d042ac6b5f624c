from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from facilities.models import Facility

if TYPE_CHECKING:
    from davinci.accounts.models import Account, Membership


def _facilities_outside(membership: Membership) -> models.QuerySet:
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
