"""What each member sees of the automations: the rules and the activity of their facilities."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q

from davinci.accounts.models import Account, Membership


class RuleQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> RuleQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> RuleQuerySet:
        """The rules a member sees: every rule of the account with All Facilities; with
        chosen facilities, the account-wide rules and the rules whose every facility is
        theirs (a rule naming a facility outside theirs is, to them, not there)."""
        rules = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return rules
        through = self.model.facilities.through
        outside = through.objects.filter(rule_id=OuterRef("pk")).exclude(
            facility_id__in=membership.facilities.values("pk")
        )
        return rules.filter(Q(all_facilities=True) | ~Exists(outside))

    def for_facility(self, facility_id: int) -> RuleQuerySet:
        """The rules that apply at one facility."""
        through = self.model.facilities.through
        chosen = through.objects.filter(rule_id=OuterRef("pk"), facility_id=facility_id)
        return self.filter(Q(all_facilities=True) | Exists(chosen))


class FmsEventQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> FmsEventQuerySet:
        return self.filter(account=account)


class AutomationRunQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> AutomationRunQuerySet:
        return self.filter(account=account)

    def for_membership(self, membership: Membership) -> AutomationRunQuerySet:
        runs = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return runs
        return runs.filter(facility_id__in=membership.facilities.values("pk"))
