from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from davinci.accounts.models import Account
    from integrations.models import ApiKey


class FacilityQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> FacilityQuerySet:
        return self.filter(account=account)

    def included_in_api(self) -> FacilityQuerySet:
        return self.filter(include_in_api=True)

    def in_api_scope(self, api_key: ApiKey) -> FacilityQuerySet:
        """The effective scope of a key, the one rule every API lookup goes through:
        (all facilities, or the chosen ones) ∩ Include in API on ∩ the key's account.

        Computed from the database on every call, so a toggle or a new facility takes effect
        on the very next request.
        """
        facilities = self.filter(account_id=api_key.account_id, include_in_api=True)
        if not api_key.all_facilities:
            facilities = facilities.filter(api_keys=api_key)
        return facilities


class UnitQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> UnitQuerySet:
        return self.filter(facility__account=account)


class LockQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> LockQuerySet:
        return self.filter(account=account)


class LockEventQuerySet(models.QuerySet):
    """History is append-only: rows are added, never changed or removed in bulk."""

    def for_account(self, account: Account) -> LockEventQuerySet:
        return self.filter(lock__account=account)

    def update(self, **kwargs):
        raise TypeError("Lock events are append-only.")

    def delete(self):
        raise TypeError("Lock events are append-only.")
