from __future__ import annotations

import json
import time
import zlib
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from davinci import crypto
from davinci.accounts.models import Account, Membership
from davinci.phones import normalize_phone
from facilities import imports, notices
from facilities.models import (
    UNIT_STATUSES,
    Facility,
    Lock,
    LockStatus,
    Unit,
    unlock_code_validator,
)
from facilities.querysets import NO_LOCK
from facilities.services import UNASSIGN_STATUSES

IMPORT_PREVIEW_MAX_AGE = 60 * 60  # seconds between the preview and "Import"

ON_UNIT_CHOICES = [(s.value, s.label) for s in LockStatus if s in UNIT_STATUSES]
OFF_UNIT_CHOICES = [(s.value, s.label) for s in LockStatus if s not in UNIT_STATUSES]


class LockCodeFormMixin(forms.ModelForm):
    """Edits the encrypted unlock code through a plain 4-digit field.

    The code is handed to the model before model validation, so `Lock.clean()` judges it
    (4 digits, and no change while the lock is assigned).
    """

    unlock_code = forms.CharField(
        label="Unlock code",
        min_length=4,
        max_length=4,
        validators=[unlock_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["unlock_code"].required = False
            self.fields["unlock_code"].help_text = "Leave empty to keep the current code."

    def clean(self) -> dict:
        cleaned = super().clean()
        code = cleaned.get("unlock_code")
        if code:
            self.instance.unlock_code = code
        return cleaned


class LockAdminForm(LockCodeFormMixin):
    class Meta:
        model = Lock
        fields = ["account", "facility", "serial", "status", "unit"]


# --- Facilities and units ---------------------------------------------------------------------


class FacilityForm(forms.ModelForm):
    class Meta:
        model = Facility
        fields = ["name", "address"]
        help_texts = {"address": "Street, city, state and ZIP, as tenants know it."}

    def __init__(self, *args, account: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Facility.objects.for_account(self.account).filter(name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                "You already have a facility with this name.", code="duplicate_name"
            )
        return name


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["unit_number", "tenant_name", "tenant_email", "tenant_phone"]
        help_texts = {
            "unit_number": "As painted on the door; leading zeros are kept (007 is not 7).",
            "tenant_email": "The overlock-release page sends the code to this address.",
        }

    def __init__(self, *args, facility: Facility, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.facility = facility
        self.instance.facility = facility

    def clean_tenant_phone(self) -> str:
        return normalize_phone(self.cleaned_data["tenant_phone"])

    def clean_unit_number(self) -> str:
        number = self.cleaned_data["unit_number"].strip()
        taken = Unit.objects.filter(facility=self.facility, unit_number=number)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                f"{self.facility} already has a unit {number}.", code="duplicate_unit_number"
            )
        return number


class UnitFilterForm(forms.Form):
    """The facility page's filter: lock status (or no lock) and a unit number/serial search."""

    q = forms.CharField(label="Unit number or serial", required=False, max_length=50, strip=True)
    status = forms.ChoiceField(
        label="Lock status",
        required=False,
        choices=[("", "All units"), (NO_LOCK, "No lock"), *ON_UNIT_CHOICES],
    )


class SearchForm(forms.Form):
    q = forms.CharField(label="Serial or unit number", required=False, max_length=50)


class LockFilterForm(forms.Form):
    q = forms.CharField(label="Serial or unit number", required=False, max_length=50)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *LockStatus.choices]
    )


# --- Locks ------------------------------------------------------------------------------------


class LockCreateForm(LockCodeFormMixin):
    """Add a lock to a facility's inventory: it starts off any unit."""

    status = forms.ChoiceField(
        label="Status", choices=OFF_UNIT_CHOICES, initial=LockStatus.AVAILABLE
    )

    class Meta:
        model = Lock
        fields = ["serial", "status"]
        labels = {"serial": "Serial"}
        help_texts = {"serial": "The 8 letters or digits engraved on the lock."}
        error_messages = {"serial": {"unique": "A lock with this serial is already registered."}}

    def __init__(self, *args, facility: Facility, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.facility = facility
        self.instance.account_id = facility.account_id

    def clean_serial(self) -> str:
        return imports.normalize_serial(self.cleaned_data["serial"])


class TypedChoiceField(forms.ModelChoiceField):
    """An object picked by typing its natural key (a serial, a unit number).

    A NUL character would make PostgreSQL raise instead of finding nothing: it is refused as
    an unknown value."""

    def to_python(self, value: Any):
        if isinstance(value, str):
            value = self.normalize(value)
            if "\x00" in value:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def normalize(self, value: str) -> str:
        return value.strip()


class SerialChoiceField(TypedChoiceField):
    """A lock picked by typing its serial, in any case."""

    def normalize(self, value: str) -> str:
        return imports.normalize_serial(value)


class UnitAssignLockForm(forms.Form):
    """On a unit's page: put one of the account's available locks on it."""

    lock = SerialChoiceField(
        label="Lock serial",
        queryset=Lock.objects.none(),
        to_field_name="serial",
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "available-locks"}),
        error_messages={"invalid_choice": "Your account has no lock with this serial."},
    )
    status = forms.ChoiceField(
        label="Status", choices=ON_UNIT_CHOICES, initial=LockStatus.ASSIGNED_OVERLOCK
    )

    def __init__(self, *args, unit: Unit, membership: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        # A lock of another facility may move here, but only from the member's facilities.
        self.fields["lock"].queryset = Lock.objects.for_membership(membership).select_related(
            "unit"
        )

    def clean_lock(self) -> Lock:
        lock = self.cleaned_data["lock"]
        if lock.unit_id is not None:
            raise ValidationError(
                f"Lock {lock.serial} is already on unit {lock.unit.unit_number}.",
                code="lock_on_unit",
            )
        if lock.status != LockStatus.AVAILABLE:
            raise ValidationError(
                f"Lock {lock.serial} is {lock.get_status_display()}; only Available locks can "
                "be assigned. Change its status to Available first.",
                code="lock_not_available",
            )
        return lock

    def clean(self) -> dict:
        cleaned = super().clean()
        if hasattr(self.unit, "lock"):
            raise ValidationError(
                f"Unit {self.unit.unit_number} already has lock {self.unit.lock.serial}. "
                "Unassign it first.",
                code="unit_has_lock",
            )
        return cleaned


class LockAssignForm(forms.Form):
    """On an available lock's page: put it on a unit of its facility."""

    unit = TypedChoiceField(
        label="Unit number",
        queryset=Unit.objects.none(),
        to_field_name="unit_number",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid_choice": "This facility has no unit with this number."},
    )
    status = forms.ChoiceField(
        label="Status", choices=ON_UNIT_CHOICES, initial=LockStatus.ASSIGNED_OVERLOCK
    )

    def __init__(self, *args, lock: Lock, **kwargs) -> None:
        kwargs.setdefault("auto_id", "assign_%s")  # several forms share the lock page
        super().__init__(*args, **kwargs)
        self.lock = lock
        self.fields["unit"].queryset = (
            Unit.objects.for_account(lock.account)
            .filter(facility_id=lock.facility_id)
            .select_related("lock")
        )

    def clean_unit(self) -> Unit:
        unit = self.cleaned_data["unit"]
        if hasattr(unit, "lock"):
            raise ValidationError(
                f"Unit {unit.unit_number} already has lock {unit.lock.serial}.",
                code="unit_has_lock",
            )
        return unit


class LockStatusForm(forms.Form):
    """A new status on the same side of the door: on a unit, or off any unit."""

    status = forms.ChoiceField(label="New status")

    def __init__(self, *args, lock: Lock, membership: Membership, **kwargs) -> None:
        kwargs.setdefault("auto_id", "status_%s")
        super().__init__(*args, **kwargs)
        choices = ON_UNIT_CHOICES if lock.needs_unit else OFF_UNIT_CHOICES
        # No status preselected: a change of status is always a deliberate choice.
        others = [choice for choice in choices if choice[0] != lock.status]
        others = membership.settable_statuses(lock, others)
        self.fields["status"].choices = [("", "Choose a status…"), *others]


class LockUnassignForm(forms.Form):
    """Take the lock off its unit: Available first. For an Assigned Overlock lock that means
    its tenant will never be released, so choosing Available must be confirmed."""

    status = forms.ChoiceField(
        label="After taking it off the unit, the lock is",
        choices=[(s.value, s.label) for s in UNASSIGN_STATUSES],
        initial=LockStatus.AVAILABLE,
    )
    confirm_unreleased = forms.BooleanField(
        label="I understand: the tenant will no longer get the code from the overlock-release page",
        required=False,
    )

    def __init__(self, *args, lock: Lock, membership: Membership, **kwargs) -> None:
        kwargs.setdefault("auto_id", "unassign_%s")
        super().__init__(*args, **kwargs)
        self.lock = lock
        choices = membership.settable_statuses(lock, self.fields["status"].choices)
        self.fields["status"].choices = choices
        if choices and LockStatus.AVAILABLE not in dict(choices):
            self.fields["status"].initial = choices[0][0]
        if lock.status != LockStatus.ASSIGNED_OVERLOCK:
            del self.fields["confirm_unreleased"]

    @property
    def warns_unreleased(self) -> bool:
        return "confirm_unreleased" in self.fields

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            self.warns_unreleased
            and cleaned.get("status") == LockStatus.AVAILABLE
            and not cleaned.get("confirm_unreleased")
        ):
            self.add_error(
                "confirm_unreleased",
                ValidationError(
                    "The tenant of this unit has not been released. If they have paid, use "
                    "Release overlock instead; otherwise tick the box to set the lock Available.",
                    code="unreleased",
                ),
            )
        return cleaned


class LockReleaseForm(forms.Form):
    """Release overlock: the tenant has paid. Optionally send them the code at once."""

    notify = forms.BooleanField(label="Send the tenant their code now", required=False)

    def __init__(self, *args, lock: Lock, **kwargs) -> None:
        kwargs.setdefault("auto_id", "release_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["notify"]
        unit = lock.unit
        channels = notices.unit_channels(unit) if unit else []
        if channels:
            field.initial = True
            where = " and ".join(
                unit.tenant_email if channel == "email" else unit.tenant_phone
                for channel in channels
            )
            field.help_text = f"The “Unlock and Delinquency Paid” notice, to {where}."
        else:
            field.disabled = True
            field.help_text = (
                "No email address or phone number on file for this unit: add one to the unit "
                "(Edit unit) to send the code."
            )


class LockCodeForm(LockCodeFormMixin):
    """Set the factory code of a lock that is on no unit."""

    class Meta:
        model = Lock
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "code_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["unlock_code"]
        field.required = True
        field.label = "New unlock code"
        field.help_text = "4 digits, as set at the factory. The change is recorded."


# --- CSV import -------------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 or Excel CSV, up to {imports.MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            raise ValidationError(
                f"The file is larger than {imports.MAX_BYTES // (1024 * 1024)} MB.",
                code="too_large",
            )
        self.text = imports.decode_csv(upload.read())
        if _sealed_size(self.text) > _post_limit():
            raise ValidationError(
                "This file is too large to import in one go. Split it into smaller files.",
                code="too_large_to_confirm",
            )
        return upload


def _sealed_size(text: str) -> int:
    """About the size of the confirmation payload that carries the file (compressed, base64)."""
    return len(zlib.compress(text.encode())) * 4 // 3 + 1024


def _post_limit() -> float:
    """The preview's Import button posts the file back: it must fit Django's request limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return float("inf") if limit is None else limit * 0.9


class ImportConfirmForm(forms.Form):
    """Carries the previewed file to the commit, sealed so what is imported is what was seen.

    The file holds unlock codes, so the hidden field is encrypted (Fernet: authenticated, so
    tampering is refused too), never merely signed: the page's HTML reveals nothing.
    """

    payload = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, facility: Facility, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.facility = facility

    @staticmethod
    def seal(*, facility: Facility, filename: str, text: str, fingerprint: str) -> str:
        data = {
            "facility": facility.pk,
            "filename": filename,
            "text": text,
            "fingerprint": fingerprint,
            "at": time.time(),
        }
        return crypto.encrypt_bytes(zlib.compress(json.dumps(data).encode()))

    def clean_payload(self) -> dict:
        try:
            data = json.loads(zlib.decompress(crypto.decrypt_bytes(self.cleaned_data["payload"])))
        except (crypto.InvalidToken, zlib.error, ValueError, TypeError) as exc:
            raise ValidationError(
                "This preview could not be read. Upload the file again.", code="bad_payload"
            ) from exc
        if time.time() - data.get("at", 0) > IMPORT_PREVIEW_MAX_AGE:
            raise ValidationError(
                "This preview is more than an hour old. Upload the file again.", code="expired"
            )
        if data.get("facility") != self.facility.pk:
            raise ValidationError(
                "This preview is for another facility. Upload the file again.",
                code="wrong_facility",
            )
        return data
