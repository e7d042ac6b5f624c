from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce

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

    def with_facility_summary(self, account: Account) -> ApiKeyQuerySet:
        """Annotate what the API Settings list says of each key's facilities (the keys of
        `account`): `first_facility_1` … `_3`, the names of the first three chosen
        (FacilityQuerySet.first_names_chosen_by), and `included_in_account`, how many of the
        account's facilities are in the API: one subquery, run once."""
        included = (
            Facility.objects.filter(account=account, include_in_api=True)
            .order_by()
            .values("account_id")
            .annotate(count=Count("*"))
            .values("count")
        )
        return self.annotate(
            included_in_account=Coalesce(Subquery(included), 0),
            **Facility.objects.first_names_chosen_by("api_keys", row_field="apikey"),
        )
