"""Automations: the account's rules, the events its facility-management software (FMS) sends,
and each run of a rule on an event.

A rule says: on this event (payment received, move-in, move-out), when the lock on the unit
is in one of these statuses, set this status and/or send this notice, at all facilities or
at the chosen ones. Every event received is kept (FmsEvent) and every rule it met leaves one
AutomationRun, acted, skipped (and why) or failed, so the operator can always see what the
automation did and why it did nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from automations.querysets import AutomationRunQuerySet, FmsEventQuerySet, RuleQuerySet
from davinci.accounts.models import Account
from facilities.models import Facility, Lock, Unit
from facilities.notices import Notice
from facilities.statuses import LockStatus


class EventType(models.TextChoices):
    PAYMENT_RECEIVED = "payment_received", "Payment received"
    MOVE_IN = "move_in", "Move-in"
    MOVE_OUT = "move_out", "Move-out"


class Rule(models.Model):
    """One automation rule of an account, run in `position` order."""

    class Default(models.TextChoices):
        # The two rules every account starts with (services.default_rules_create). They can
        # be turned off and edited, never deleted, so an account can always turn them on.
        PAYMENT = "payment", "Payment releases the overlock"
        MOVE_IN = "move_in", "Move-in sends the new-rental code"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    trigger = models.CharField("When", max_length=20, choices=EventType.choices)
    # Lock status values (LockStatus); never Assigned Auction.
    statuses = models.JSONField("Lock statuses", default=list)
    set_status = models.CharField(
        "Set the lock to", max_length=32, choices=LockStatus.choices, blank=True
    )
    notice = models.CharField("Send", max_length=32, choices=Notice.choices, blank=True)
    all_facilities = models.BooleanField("All Facilities", default=True)
    facilities = models.ManyToManyField(Facility, blank=True, related_name="automation_rules")
    enabled = models.BooleanField("Enabled", default=True)
    default = models.CharField(max_length=20, choices=Default.choices, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["account", "position"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "default"],
                condition=~Q(default=""),
                name="automation_rule_one_default_each",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()}: {self.action_label}"

    @property
    def status_labels(self) -> list[str]:
        return [LockStatus(status).label for status in self.statuses if status in LockStatus]

    @property
    def action_label(self) -> str:
        parts = []
        if self.set_status:
            parts.append(f"set {self.get_set_status_display()}")
        if self.notice:
            parts.append(f"send “{self.get_notice_display()}”")
        text = " and ".join(parts)
        return text[:1].upper() + text[1:]

    def audit_target(self) -> tuple[str, str, str]:
        return "automation_rule", str(self.pk), f"{self.get_trigger_display()} rule #{self.pk}"


class FmsEvent(models.Model):
    """One event the facility-management software reported for a unit, as received."""

    class Source(models.TextChoices):
        API = "api", "API"
        CSV = "csv", "CSV upload"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=20, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    reference = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    api_key = models.ForeignKey(
        "integrations.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The event carried the new tenant's contact and the unit was updated with it.
    contact_updated = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = FmsEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(source="api", api_key__isnull=False, uploaded_by__isnull=True)
                | Q(source="csv", api_key__isnull=True, uploaded_by__isnull=False),
                name="fms_event_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · Unit {self.unit.unit_number}"

    @property
    def source_label(self) -> str:
        if self.source == self.Source.API:
            return f"API key “{self.api_key.name}”" if self.api_key_id else "API"
        return f"CSV upload by {self.uploaded_by}" if self.uploaded_by_id else "CSV upload"


class AutomationRun(models.Model):
    """What became of one event under one rule (or, when no rule could act at all, of the
    event: `rule` is empty). The facility, unit and unit number are copied from the event so
    the activity list filters on this table's own indexes."""

    class Result(models.TextChoices):
        ACTED = "acted", "Acted"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"
        NOTHING = "nothing", "Nothing to do"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(FmsEvent, on_delete=models.PROTECT, related_name="runs")
    rule = models.ForeignKey(
        Rule, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", db_index=False)
    unit_number = models.CharField(max_length=20)
    result = models.CharField(max_length=10, choices=Result.choices)
    reason = models.CharField(max_length=300, blank=True)
    lock = models.ForeignKey(
        Lock, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    from_status = models.CharField(max_length=32, choices=LockStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=LockStatus.choices, blank=True)
    notice = models.CharField(max_length=32, choices=Notice.choices, blank=True)
    notice_sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AutomationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # The activity list, newest first, by keyset on id: for the account, by result, by
        # unit number, and per facility (a member with chosen facilities, the filter).
        indexes = [
            models.Index(fields=["account", "-id"], name="automation_run_account"),
            models.Index(fields=["account", "result", "-id"], name="automation_run_result"),
            models.Index(fields=["account", "unit_number", "-id"], name="automation_run_unit"),
            models.Index(fields=["facility", "-id"], name="automation_run_facility"),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.get_result_display()}"
