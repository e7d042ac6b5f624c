from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from davinci import crypto
from davinci.accounts.models import Account
from davinci.phones import normalize_phone
from facilities.querysets import (
    FacilityQuerySet,
    HistoryArchiveQuerySet,
    LockEventQuerySet,
    LockQuerySet,
    UnitQuerySet,
)
from facilities.statuses import (
    LIMIT_STATUSES,
    UNIT_STATUSES,
    LockStatus,
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

    def clean(self) -> None:
        """A facility's account never changes once it is created: its units, locks and
        history cannot follow it, and the other account's keys would read its codes."""
        if self.pk is None:
            return
        saved = Facility.objects.filter(pk=self.pk).values_list("account_id", flat=True).first()
        if saved is not None and saved != self.account_id:
            raise ValidationError(
                {
                    "account": ValidationError(
                        "A facility stays with the account it was created in.",
                        code="account_fixed",
                    )
                }
            )

    def audit_target(self) -> tuple[str, str, str]:
        return "facility", self.facility_id, f"{self.name} ({self.facility_id})"


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


serial_validator = RegexValidator(
    r"^[A-Z0-9]{8}$",
    "A serial is exactly 8 letters or digits, as engraved on the lock.",
    code="invalid_serial",
)
unlock_code_validator = RegexValidator(
    r"^[0-9]{4}\Z", "An unlock code is exactly 4 digits.", code="invalid_unlock_code"
)


class Lock(models.Model):
    # No index of its own: the (account, status…) indexes of Meta start with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="locks", db_index=False
    )
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
        indexes = [
            models.Index(fields=["facility", "status"]),
            # The account's lock-limit count (the facilities list) from the index alone.
            models.Index(fields=["account", "status"], name="lock_account_status"),
            # The reports' locks by age in a status (overlocks by age, the remove-overlock
            # queue, reports/overlocks.py) from the index alone, oldest first.
            models.Index(
                fields=["account", "status", "updated_at"],
                include=["facility", "unit"],
                name="lock_account_status_updated",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status__in=sorted(UNIT_STATUSES), unit__isnull=False)
                    | (~Q(status__in=sorted(UNIT_STATUSES)) & Q(unit__isnull=True))
                ),
                name="lock_unit_matches_status",
                violation_error_message=(
                    "A lock on a unit (Assigned …, Tenant Using Lock, Returned to Dropbox) "
                    "needs a unit, and a lock in any other status must not have one."
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
    def counts_towards_limit(self) -> bool:
        return self.status in LIMIT_STATUSES

    @property
    def code_editable(self) -> bool:
        """The factory code may only change in a status that does not count towards the lock
        limit, before and after the edit (Available, Damaged, Lost, Sold, Unscannable)."""
        return self._stored_status not in LIMIT_STATUSES and not self.counts_towards_limit

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
                        f"The code of a lock that is {self.get_status_display()} cannot change: "
                        "only a lock that does not count towards the lock limit (Available, "
                        "Damaged, Lost, Sold, Unscannable) can get a new code.",
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


# A key's writes by API (Release overlock, Set lock status): the condition of the index
# `lockevent_key_writes` and the filter that reads it (integrations/usage.py). Equalities, not
# IN: PostgreSQL prints an IN back in a form that prints differently once run again (the scale
# loader rebuilds indexes from that print), and SQLite uses a partial index only for a query
# that repeats its condition's terms.
KEY_WRITES = Q(api_key__isnull=False) & (Q(kind="released") | Q(kind="status_changed"))


class LockEvent(models.Model):
    """One line of a lock's history. Append-only: it is the record of every code shown."""

    class Actor(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        TENANT_PAGE = "tenant_page", "Tenant page"
        SYSTEM = "system", "System"
        AUTOMATION = "automation", "Automation"

    class Kind(models.TextChoices):
        CREATED = "created", "Added to inventory"
        ASSIGNED = "assigned", "Assigned to unit"
        STATUS_CHANGED = "status_changed", "Status changed"
        UNASSIGNED = "unassigned", "Unassigned"
        CODE_SET = "code_set", "Code changed"
        CODE_REVEALED = "code_revealed", "Code revealed in the portal"
        CODE_LOOKED_UP = "code_looked_up", "Code looked up through the API"
        CODE_SENT = "code_sent", "Code sent to tenant"
        CODE_SEND_FAILED = "code_send_failed", "Code could not be sent"
        RELEASED = "released", "Overlock released"
        IMPORTED = "imported", "Imported"

    # The foreign keys' own single-column indexes are left out where an index of Meta starts
    # with the column (docs/scaling.md, "History retention and row sizes"): every index is
    # written on each lookup, and this table is most of the database.
    lock = models.ForeignKey(Lock, on_delete=models.PROTECT, related_name="events", db_index=False)
    # Also what history retention walks (older than the cutoff, facilities/retention.py).
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_type = models.CharField(max_length=20, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    api_key = models.ForeignKey(
        "integrations.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lock_events",
        db_index=False,
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
            # A lock's history, newest first (the lock page); lookups by lock.
            models.Index(fields=["lock", "-created_at"]),
            # A key's events newest first (its page's recent lookups); lookups by key.
            models.Index(fields=["api_key", "-created_at"]),
            # Most events have no user (API lookups): only the rows with one are indexed,
            # for what a user did and for the PROTECT check when a user is deleted.
            models.Index(
                fields=["actor_user"],
                condition=Q(actor_user__isnull=False),
                name="lockevent_actor_user_idx",
            ),
            # A key's lookups by time, of lookups only: the usage chart and the API Settings
            # list count them in this index alone, never reading the events themselves.
            models.Index(
                fields=["api_key", "created_at"],
                condition=Q(kind="code_looked_up"),
                name="lockevent_key_time",
            ),
            # The API's event feed (integrations/api/services.py event_page): a lock's
            # changes in (created_at, id) order, a tenth of the events; lookups are not in it.
            models.Index(
                fields=["created_at", "id"],
                # Equalities, not IN: PostgreSQL prints them back as written, so the scale
                # loader's drop-and-recreate of indexes (bench/scale_data.py) keeps it as is.
                condition=Q(kind="status_changed")
                | Q(kind="released")
                | Q(kind="assigned")
                | Q(kind="unassigned"),
                name="lockevent_feed",
            ),
            # A key's writes by time (Release overlock, Set status by API), of those only: the
            # usage chart counts them here, however many lookups the key makes. Few rows.
            models.Index(
                fields=["api_key", "created_at"],
                condition=KEY_WRITES,
                name="lockevent_key_writes",
            ),
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

    def for_membership(self, membership) -> ReleaseAttemptQuerySet:
        """A member with chosen facilities sees the attempts at those facilities only."""
        attempts = self.filter(account_id=membership.account_id)
        if membership.all_facilities:
            return attempts
        facilities = Facility.objects.for_membership(membership).values("pk")
        return attempts.filter(facility_id__in=facilities)


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
        SEND_LIMITED = "send_limited", "Code sent too often already"
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


class HistoryArchive(models.Model):
    """One gzip JSON Lines file of history that left the database: one account's LockEvents
    or AuditEvents older than its retention, taken by one run of facilities/retention.py.

    The rows it holds are those of the account and kind created before `cutoff` with an id up
    to `last_pk`; `removed` counts those deleted so far (in the transaction of each delete),
    so an interrupted run is finished by the next without loss or duplicates."""

    class Kind(models.TextChoices):
        LOCK_EVENTS = "lock_events", "Lock history"
        AUDIT_EVENTS = "audit_events", "Activity log"

    class State(models.TextChoices):
        WRITING = "writing", "Being written"
        WRITTEN = "written", "Written, rows being removed"
        DONE = "done", "Archived and removed"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WRITING)
    cutoff = models.DateTimeField(help_text="The archive holds the rows created before this.")
    first_at = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    last_pk = models.BigIntegerField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    # Never served from MEDIA_URL: only the owner's download view reads it.
    file = models.FileField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = HistoryArchiveQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=~Q(state="done"),
                name="history_archive_one_unfinished_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} before {self.cutoff:%Y-%m-%d}"

    def audit_target(self) -> tuple[str, str, str]:
        return "history_archive", str(self.pk), f"{self} ({self.rows} rows)"

    @property
    def download_name(self) -> str:
        """What the browser saves it as: the account, the kind and the period."""
        period = f"{self.first_at:%Y-%m-%d}-to-" if self.first_at else "to-"
        kind = self.kind.replace("_", "-")
        return f"{self.account.slug}-{kind}-{period}{self.cutoff:%Y-%m-%d}.jsonl.gz"
