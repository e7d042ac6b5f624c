"""Webhook endpoints of an account, the events written for them, and how each was delivered.

- `Endpoint`: a URL of the account's, the events it wants, its facilities (All Facilities or
  chosen, as an API key), its signing secret (encrypted) and its delivery state.
- `Event`: one thing that happened (a lock's status changed, an overlock released, ...),
  written in the transaction of the change: what every endpoint that wants it is sent.
- `Delivery`: one event for one endpoint, delivered in the order written (webhooks/delivery.py).
- `Attempt`: one HTTP request of a delivery: the endpoint's delivery log.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from davinci import crypto
from davinci.accounts.models import Account, User
from facilities.models import Facility
from webhooks.querysets import EndpointQuerySet
from webhooks.secrets import SECRET_PREFIX

# "Roll secret": the previous secret keeps signing for this long, so receivers can switch.
ROLL_GRACE = timedelta(hours=24)


class EventType(models.TextChoices):
    LOCK_STATUS_CHANGED = "lock.status_changed", "A lock's status changed"
    OVERLOCK_RELEASED = "overlock.released", "An overlock was released"
    RELEASE_CODE_SENT = "release_code.sent", "An unlock code was sent to a tenant"
    AUTOMATION_RAN = "automation.ran", "An automation ran"
    WEBHOOK_TEST = "webhook.test", "Test event (Send test event)"


# What an endpoint may subscribe to: the test event goes only where "Send test event" is asked.
SUBSCRIBABLE = [choice for choice in EventType.choices if choice[0] != EventType.WEBHOOK_TEST]


class Endpoint(models.Model):
    class DisabledReason(models.TextChoices):
        BY_USER = "by_user", "Disabled by a user"
        FAILING = "failing", "Disabled after 3 days of failed deliveries"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField("events", default=list)
    all_facilities = models.BooleanField("All Facilities", default=True)
    facilities = models.ManyToManyField(Facility, blank=True, related_name="webhook_endpoints")
    is_active = models.BooleanField("active", default=True)

    secret_encrypted = models.TextField(editable=False)
    # After "Roll secret" the previous secret signs too (a second signature) until then.
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Delivery state (webhooks/delivery.py): one request in flight at a time (`lease_until`),
    # the endpoint's backoff after a failed request (`retry_at`, `failures` in a row), and
    # since when every request has failed (`failing_since`: 3 days of it disable the endpoint).
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url

    @property
    def status_label(self) -> str:
        if self.deleted_at is not None:
            return "Deleted"
        return "Active" if self.is_active else "Disabled"

    @property
    def masked_secret(self) -> str:
        return SECRET_PREFIX + "•" * 16

    @property
    def in_grace_period(self) -> bool:
        return bool(self.previous_secret_encrypted) and (
            self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > timezone.now()
        )

    def audit_target(self) -> tuple[str, str, str]:
        return "webhook_endpoint", str(self.pk), self.url

    def event_type_labels(self) -> list[str]:
        return [EventType(value).label for value in self.event_types if value in EventType]

    def facilities_in_scope(self) -> models.QuerySet[Facility]:
        """The endpoint's scope, as an API key's: (all facilities, or the chosen ones) ∩
        Include in API on ∩ the endpoint's account. Computed when an event is written."""
        facilities = Facility.objects.filter(account_id=self.account_id, include_in_api=True)
        if not self.all_facilities:
            facilities = facilities.filter(webhook_endpoints=self)
        return facilities

    # Rules about this one row. Services call them inside a transaction and write the audit.

    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def signing_secrets(self) -> list[str]:
        """The secrets that sign a request now: the current one, and the previous one for 24 h
        after a roll (two signatures in `webhook-signature`)."""
        found = [self.secret()]
        if self.in_grace_period:
            found.append(crypto.decrypt(self.previous_secret_encrypted))
        return found

    def set_secret(self, secret: str, *, keep_previous: bool = False) -> None:
        if keep_previous and self.secret_encrypted:
            self.previous_secret_encrypted = self.secret_encrypted
            self.previous_secret_expires_at = timezone.now() + ROLL_GRACE
        else:
            self.previous_secret_encrypted = ""
            self.previous_secret_expires_at = None
        self.secret_encrypted = crypto.encrypt(secret)

    def disable(self, *, by: User | None, reason: str) -> None:
        self.is_active = False
        self.disabled_at = timezone.now()
        self.disabled_by = by
        self.disabled_reason = reason

    def enable(self) -> None:
        """Active again, with a clean slate: what failed before is not held against it."""
        self.is_active = True
        self.disabled_at = None
        self.disabled_by = None
        self.disabled_reason = ""
        self.retry_at = None
        self.failures = 0
        self.failing_since = None

    def soft_delete(self, *, by: User | None) -> None:
        """Nothing more is written or sent for it; the row stays so the Activity log keeps its
        name. The secrets are dropped: they can never be shown or used again."""
        self.is_active = False
        self.deleted_at = timezone.now()
        self.deleted_by = by
        self.secret_encrypted = ""
        self.previous_secret_encrypted = ""
        self.previous_secret_expires_at = None


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


class Event(models.Model):
    """One thing that happened, as endpoints are sent it: `type` and `data` (ids, statuses,
    the unit number, the Facility ID and times; never an unlock code or a tenant's contact).
    The body is built from the row each time it is sent (webhooks/payloads.py), byte for byte
    the same."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=40, choices=EventType.choices)
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The retention task's old events (webhooks/retention.py).
            models.Index(fields=["created_at"], name="webhooks_event_age"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Given up"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Retried until then (about a day), then given up.
    give_up_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The endpoint's queue: its oldest pending delivery first.
            models.Index(fields=["endpoint", "status", "id"], name="webhooks_delivery_queue"),
            # The retention task's old deliveries (webhooks/retention.py).
            models.Index(fields=["created_at"], name="webhooks_delivery_age"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.get_status_display()})"


class Attempt(models.Model):
    """One request of a delivery, as the delivery log shows it."""

    RESPONSE_KEPT = 2048  # the first 2 KB of the response body

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why there is no status code (refused address, timeout, connection error).
    error = models.CharField(max_length=200, blank=True)
    response_body = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The delivery log: an endpoint's attempts, newest first, paged by id.
            models.Index(fields=["endpoint", "-id"], name="webhooks_attempt_log"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
