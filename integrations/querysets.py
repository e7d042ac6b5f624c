from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from davinci.accounts.models import Account


class ApiKeyQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> ApiKeyQuerySet:
        return self.filter(account=account)

    def not_deleted(self) -> ApiKeyQuerySet:
        return self.filter(deleted_at__isnull=True)


class AuditEventQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> AuditEventQuerySet:
        return self.filter(account=account)
