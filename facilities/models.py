from __future__ import annotations

import secrets
import string

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from davinci import crypto
from davinci.accounts.models import Account
from facilities.querysets import (
    FacilityQuerySet,
    LockEventQuerySet,
    LockQuerySet,
    UnitQuerySet,
)

FACILITY_ID_ALPHABET = string.ascii_lowercase + string.digits
FACILITY_ID_LENGTH = 16


def generate_facility_id() -> str:
    """Opaque, URL-safe and easy to read out over the phone (about 82 bits)."""
    return "".join(secrets.choice(FACILITY_ID_ALPHABET) for _ in range(FACILITY_ID_LENGTH))


class Facility(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="facilities")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    facility_id = models.CharField(
        "Facility ID",
        max_length=32,
        unique=True,
        default=generate_facility_id,
        editable=False,
        help_text="Created with the facility; call centers use it in API requests.",
    )
    include_in_api = models.BooleanField(
        "Include in API",
        default=True,
        help_text="Off removes the facility from every API key and from the overlock-release page.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "facilities"
        indexes = [models.Index(fields=["account", "name"])]

    def __str__(self) -> str:
        return self.name


unit_number_validator = RegexValidator(
    r"^[^\s/?#]+(?: [^\s/?#]+)*$",
    "Use letters, digits and dashes; no slashes, question marks or leading/trailing spaces.",
    code="invalid_unit_number",
)


class PhoneNumberField(models.CharField):
    """Text kept in E.164: full_clean() (model forms, the admin) stores what was typed as
    normalize_phone() returns it, or refuses it with normalize_phone()'s error."""

    def clean(self, value, model_instance):
        # Not to_python(): Django also calls that to prepare query values, and a number kept
        # from before E.164 must stay readable and savable.
        value = super().clean(value, model_instance)
        return normalize_phone(value) if value else value


class Unit(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="units")
    # Text, not a number: "007" and "7" are different doors.
    unit_number = models.CharField(max_length=20, validators=[unit_number_validator])
    tenant_name = models.CharField(max_length=200, blank=True)
    tenant_email = models.EmailField(blank=True)
    tenant_phone = PhoneNumberField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["facility", "unit_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "unit_number"],
                name="unit_number_unique_in_facility",
                violation_error_message="This facility already has a unit with that number.",
            ),
        ]

    def __str__(self) -> str:
        return f"Unit {self.unit_number}"


class LockStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    ASSIGNED_VACANT = "assigned_vacant", "Assigned Vacant"
    ASSIGNED_OVERLOCK = "assigned_overlock", "Assigned Overlock"
    TENANT_USING_LOCK = "tenant_using_lock", "Tenant Using Lock"
    ASSIGNED_AUCTION = "assigned_auction", "Assigned Auction"
    ASSIGNED_OTHER = "assigned_other", "Assigned Other"
    ASSIGNED_VENDOR = "assigned_vendor", "Assigned Vendor"
    RETURNED_TO_DROPBOX = "returned_to_dropbox", "Returned to Dropbox"
    ON_DROPBOX = "on_dropbox", "On Dropbox"
    DAMAGED = "damaged", "Damaged"
    LOST = "lost", "Lost"
    SOLD = "sold", "Sold"
    UNSCANNABLE = "unscannable", "Unscannable"


# Statuses in which a lock hangs on a unit's door.
UNIT_STATUSES = frozenset(
    {
        LockStatus.ASSIGNED_VACANT,
        LockStatus.ASSIGNED_OVERLOCK,
        LockStatus.TENANT_USING_LOCK,
        LockStatus.ASSIGNED_AUCTION,
        LockStatus.ASSIGNED_OTHER,
        LockStatus.ASSIGNED_VENDOR,
    }
)
# The code of a lock on a unit being auctioned is withheld from the API and call centers.
WITHHELD_STATUSES = frozenset({LockStatus.ASSIGNED_AUCTION})

serial_validator = RegexValidator(
    r"^[A-Z0-9]{8}$",
    "A serial is exactly 8 letters or digits, as engraved on the lock.",
    code="invalid_serial",
)
unlock_code_validator = RegexValidator(
    r"^[0-9]{4}\Z", "An unlock code is exactly 4 digits.", code="invalid_unlock_code"
)


def normalize_phone(value: str) -> str:
    """A phone number as typed, e.g. "(603) 555-0142", in E.164 ("+16035550142"): the form
    every unit keeps on file and text-message providers expect. Numbers without a country
    code are read as numbers of settings.PHONE_DEFAULT_REGION. Raises ValidationError."""
    value = value.strip()
    if not value:
        return ""
    digits = sum("0" <= ch <= "9" for ch in value)
    error = ValidationError(
        "Enter a phone number that exists, e.g. (603) 555-0142, or +44 20 7946 0958 with its "
        "country code.",
        code="invalid_phone",
    )
    if not set(value) <= set("0123456789+().- ") or not 7 <= digits <= 15:
        raise error
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise error from None
    if not phonenumbers.is_valid_number(number):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Lock(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="locks")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="locks")
    serial = models.CharField(max_length=8, unique=True, validators=[serial_validator])
    # Fernet ciphertext of the 4-digit code; the plain code never reaches the database.
    unlock_code_encrypted = models.TextField(editable=False)
    status = models.CharField(
        max_length=32, choices=LockStatus.choices, default=LockStatus.AVAILABLE
    )
    unit = models.OneToOneField(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="lock"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LockQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]
        indexes = [models.Index(fields=["facility", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status__in=sorted(UNIT_STATUSES), unit__isnull=False)
                    | (~Q(status__in=sorted(UNIT_STATUSES)) & Q(unit__isnull=True))
                ),
                name="lock_unit_matches_status",
                violation_error_message=(
                    "An assigned lock (Assigned …, Tenant Using Lock) needs a unit, "
                    "and a lock in any other status must not have one."
                ),
            ),
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._code_changed = False
        self._stored_status = self.status if self.pk else None

    def __str__(self) -> str:
        return self.serial

    @property
    def unlock_code(self) -> str:
        """The plain code. Callers that show or send it must record a LockEvent."""
        return crypto.decrypt(self.unlock_code_encrypted) if self.unlock_code_encrypted else ""

    @unlock_code.setter
    def unlock_code(self, code: str) -> None:
        # Every code handed in is judged by clean(), the current one too: a form that let the
        # current code of an assigned lock through and refused any other would tell the code.
        self.unlock_code_encrypted = crypto.encrypt(code)
        self._pending_code = code
        self._code_changed = True

    @property
    def needs_unit(self) -> bool:
        return self.status in UNIT_STATUSES

    @property
    def code_withheld(self) -> bool:
        return self.status in WITHHELD_STATUSES

    @property
    def code_editable(self) -> bool:
        """The factory code may only be changed while the lock hangs on no unit."""
        return self._stored_status not in UNIT_STATUSES and not self.needs_unit

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self._code_changed:
            try:
                unlock_code_validator(self._pending_code)
            except ValidationError as exc:
                errors.setdefault("unlock_code", []).append(exc)
            if self.pk and not self.code_editable:
                errors.setdefault("unlock_code", []).append(
                    ValidationError(
                        "The code can only change while the lock is not assigned to a unit.",
                        code="code_locked",
                    )
                )
        elif not self.unlock_code_encrypted:
            errors.setdefault("unlock_code", []).append(
                ValidationError("Enter the lock's 4-digit unlock code.", code="required")
            )
        if self.needs_unit and self.unit_id is None:
            errors.setdefault("unit", []).append(
                ValidationError(
                    f"A lock that is {self.get_status_display()} needs a unit.",
                    code="unit_required",
                )
            )
        if not self.needs_unit and self.unit_id is not None:
            errors.setdefault("unit", []).append(
                ValidationError(
                    f"A lock that is {self.get_status_display()} cannot be on a unit.",
                    code="unit_not_allowed",
                )
            )
        if self.unit_id and self.facility_id and self.unit.facility_id != self.facility_id:
            errors.setdefault("unit", []).append(
                ValidationError("The unit belongs to another facility.", code="unit_elsewhere")
            )
        if self.facility_id and self.account_id and self.facility.account_id != self.account_id:
            errors.setdefault("facility", []).append(
                ValidationError("The facility belongs to another account.", code="wrong_account")
            )
        if errors:
            raise ValidationError(errors)

    def to_api_dict(self) -> dict:
        """The lock without its code; callers add `unlock_code` (and record a LockEvent)."""
        return lock_api_dict(
            serial=self.serial,
            status=self.status,
            unit_number=self.unit.unit_number if self.unit_id else None,
            facility_id=self.facility.facility_id,
            updated_at=self.updated_at,
        )


def lock_api_dict(
    *, serial: str, status: str, unit_number: str | None, facility_id: str, updated_at
) -> dict:
    """A lock as the lookup API shows it, without its code."""
    return {
        "serial": serial,
        "status": status,
        "status_label": LockStatus(status).label,
        "unit_number": unit_number,
        "facility_id": facility_id,
        "updated_at": updated_at.isoformat(),
    }


class LockEvent(models.Model):
    """One line of a lock's history. Append-only: it is the record of every code shown."""

    class Actor(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        TENANT_PAGE = "tenant_page", "Tenant page"
        SYSTEM = "system", "System"

    class Kind(models.TextChoices):
        CREATED = "created", "Added to inventory"
        ASSIGNED = "assigned", "Assigned to unit"
        STATUS_CHANGED = "status_changed", "Status changed"
        UNASSIGNED = "unassigned", "Unassigned"
        CODE_SET = "code_set", "Code changed"
        CODE_REVEALED = "code_revealed", "Code revealed in the portal"
        CODE_LOOKED_UP = "code_looked_up", "Code looked up through the API"
        CODE_SENT = "code_sent", "Code sent to tenant"
        IMPORTED = "imported", "Imported"

    lock = models.ForeignKey(Lock, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_type = models.CharField(max_length=20, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "integrations.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lock_events",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    from_status = models.CharField(max_length=32, choices=LockStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=LockStatus.choices, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="lock_events"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = LockEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lock", "-created_at"]),
            models.Index(fields=["api_key", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.lock} · {self.get_kind_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Lock events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Lock events are append-only.")


class ReleaseAttemptQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> ReleaseAttemptQuerySet:
        return self.filter(account=account)


class ReleaseAttempt(models.Model):
    """One submission of the public overlock-release form, whatever came of it.

    The tenant always sees the same answer; this row is where the owner sees the truth.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Code sent"
        DELIVERY_FAILED = "delivery_failed", "Sending failed"
        UNKNOWN_UNIT = "unknown_unit", "No such unit"
        FACILITY_EXCLUDED = "facility_excluded", "Facility excluded from the API"
        CONTACT_MISMATCH = "contact_mismatch", "Contact did not match"
        NOT_RELEASED = "not_released", "Lock not released"
        RATE_LIMITED = "rate_limited", "Too many attempts"
        HONEYPOT = "honeypot", "Blocked as automated"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    facility = models.ForeignKey(
        Facility, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the visitor typed, kept as typed: the unit may not exist.
    unit_number = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    contact = models.CharField(max_length=254)
    # The unit and lock the attempt matched, when it matched one.
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lock = models.ForeignKey(
        Lock, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)

    objects = ReleaseAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"Unit {self.unit_number} · {self.get_outcome_display()}"
