from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from davinci import crypto
from davinci.accounts import permissions as rules
from davinci.accounts.models import Account, User
from facilities.models import Facility
from integrations.querysets import ApiKeyQuerySet
from integrations.secrets import API_SECRET_PREFIX, secret_digest


def default_permissions() -> list[str]:
    """A new key's permissions: Read lock information only."""
    return list(rules.DEFAULT_KEY_PERMISSIONS)


def validate_permissions(value: object) -> None:
    """A list of KeyPermission values, each once, in their order (as the forms save them)."""
    try:
        valid = isinstance(value, list) and rules.key_permissions_clean(value) == value
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise ValidationError(
            "Choose permissions from: " + ", ".join(rules.KeyPermission.values) + ".",
            code="invalid_permissions",
        )


# "Roll secret" may keep the previous secret working for at most this long.
MAX_ROLL_GRACE = timedelta(hours=24)


class ApiKey(models.Model):
    """Credentials for one outside party (typically a call center).

    The API Key is public and indexed. The API Secret is stored twice and never in plain
    text: an HMAC-SHA256 digest that authenticates requests, and a Fernet ciphertext that
    only "Show Key" decrypts. See integrations/secrets.py.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(
        max_length=100, help_text="A human-readable label such as “Call Center”; not unique."
    )
    api_key = models.CharField("API Key", max_length=40, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    secret_encrypted = models.TextField(editable=False)
    # After "Roll secret" with a grace period the previous secret keeps working until then.
    previous_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    all_facilities = models.BooleanField("All Facilities", default=True)
    facilities = models.ManyToManyField(Facility, blank=True, related_name="api_keys")
    is_active = models.BooleanField("active", default=True)
    expires_at = models.DateTimeField("expires", null=True, blank=True)
    allowed_ips = models.JSONField(
        "allowed IP ranges",
        default=list,
        blank=True,
        help_text="CIDR ranges; empty allows any address.",
    )
    # KeyPermission values (davinci/accounts/permissions.py), in their order. A list in JSON
    # rather than a table: read with the key in the one authentication query, on every
    # database.
    permissions = models.JSONField(
        default=default_permissions, blank=True, validators=[validate_permissions]
    )

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.api_key})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def expires_in_days(self) -> int | None:
        """Calendar days (in TIME_ZONE) until the key expires; 0 on its last day, negative
        once it has expired, None when it never does."""
        if self.expires_at is None:
            return None
        return (timezone.localdate(self.expires_at) - timezone.localdate()).days

    @property
    def expires_in_text(self) -> str:
        """ "expires in 3 days", "expires today", "expired": for the pages and the emails."""
        days = self.expires_in_days
        if days is None:
            return "never expires"
        if self.is_expired:
            return "expired"
        if days <= 0:
            return "expires today"
        return f"expires in {days} day{'s' if days != 1 else ''}"

    @property
    def status_label(self) -> str:
        if self.is_deleted:
            return "Deleted"
        if not self.is_active:
            return "Disabled"
        if self.is_expired:
            return "Expired"
        return "Active"

    @property
    def masked_secret(self) -> str:
        """What every page but the reveal response shows in place of the API Secret."""
        return API_SECRET_PREFIX + "•" * 16

    @property
    def in_grace_period(self) -> bool:
        """After a roll with a grace period, the previous secret still works until then."""
        return bool(self.previous_secret_digest) and (
            self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > timezone.now()
        )

    def has_permission(self, permission: str) -> bool:
        return rules.key_has_permission(self.permissions, permission)

    @property
    def permission_labels(self) -> list[str]:
        """The key's permissions as the pages and emails name them."""
        return [rules.KeyPermission(value).label for value in self.permissions]

    def audit_target(self) -> tuple[str, str, str]:
        return "api_key", self.api_key, f"{self.name} ({self.api_key})"

    def facilities_in_scope(self) -> QuerySet[Facility]:
        """The key's effective scope, the one rule every screen and API lookup goes through:
        (all facilities, or the chosen ones) ∩ Include in API on ∩ the key's account.

        Computed from the database on every call, so a toggle, a new facility or a changed
        selection takes effect on the very next request.
        """
        facilities = Facility.objects.filter(account_id=self.account_id, include_in_api=True)
        if not self.all_facilities:
            facilities = facilities.filter(api_keys=self)
        return facilities

    # Rules about this one row. Services call them inside a transaction and write the audit.

    def set_secret(self, secret: str, *, grace: timedelta = timedelta(0)) -> None:
        """Store a new secret (digest + ciphertext). With a grace period the current secret
        keeps working until then; without one it stops at once."""
        if grace > MAX_ROLL_GRACE or grace < timedelta(0):
            raise ValueError(f"The grace period must be between 0 and {MAX_ROLL_GRACE}.")
        if grace and self.secret_digest:
            self.previous_secret_digest = self.secret_digest
            self.previous_secret_expires_at = timezone.now() + grace
        else:
            self.previous_secret_digest = ""
            self.previous_secret_expires_at = None
        self.secret_digest = secret_digest(secret)
        self.secret_encrypted = crypto.encrypt(secret)

    def disable(self, *, by: User | None) -> None:
        self.is_active = False
        self.disabled_at = timezone.now()
        self.disabled_by = by

    def enable(self) -> None:
        self.is_active = True
        self.disabled_at = None
        self.disabled_by = None

    def soft_delete(self, *, by: User | None) -> None:
        """The key stops working for good; the row stays so history keeps its name. The
        ciphertext is dropped: a deleted key's secret can never be shown again."""
        self.is_active = False
        self.deleted_at = timezone.now()
        self.deleted_by = by
        self.secret_encrypted = ""
        self.previous_secret_digest = ""
        self.previous_secret_expires_at = None


class ExpiryReminder(models.Model):
    """One email sent (to the account's owners and admins) about a key's coming expiry: at
    most one row per key, expiry date and threshold (days before; 0 once it has expired), so
    each reminder goes out exactly once, also when two runs overlap. A new expiry date starts
    the reminders afresh."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="expiry_reminders")
    expires_at = models.DateTimeField()
    days_before = models.PositiveSmallIntegerField()
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "expires_at", "days_before"],
                name="expiry_reminder_once_per_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.api_key}: {self.days_before} days before {self.expires_at:%Y-%m-%d}"


class ApiKeyUsageDay(models.Model):
    """A key's refused requests on one day (UTC), by answer: the part of them already folded
    in from the cache counters by `integrations.usage.usage_fold` (the lookups of the day are
    its LockEvents, not counted here)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    refused_401 = models.PositiveIntegerField(default=0)
    refused_403 = models.PositiveIntegerField(default=0)
    refused_429 = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "day"], name="api_key_usage_one_row_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.api_key}: {self.day:%Y-%m-%d}"


class IdempotencyKey(models.Model):
    """One write of the API under its Idempotency-Key (integrations/api/idempotency.py): the
    claim, made by inserting this row (unique per API key and Idempotency-Key), and then the
    answer, kept until `expires_at` to be replayed byte for byte. An answer may carry an
    unlock code, so it is stored encrypted, as the codes are."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the JSON body: the same key for another request
    # is refused (422 idempotency_key_reused).
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)  # what the beat task sweeps
    # Null while the request that claimed the key is still acting.
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_encrypted = models.TextField(blank=True)
    # The lock whose code the answer gives out: each replay is recorded as a read of it.
    disclosed_lock = models.ForeignKey(
        "facilities.Lock", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}: {self.key}"
