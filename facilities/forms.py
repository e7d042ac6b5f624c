from __future__ import annotations

import json
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from davinci import crypto
from davinci.accounts import permissions
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


# --- The facility picker ------------------------------------------------------------------

# A search shows this many matches; the chosen facilities are shown this many at a time.
PICKER_RESULTS = 20
PICKER_CHOSEN_PER_PAGE = 50
# Past this many Facility IDs one query reads the chooser's facilities instead of an IN list
# (SQLite caps the parameters of a statement; reading an account's facilities is cheap).
_IN_LIST_MAX = 1000
_SEPARATORS = re.compile(r"[\s,;]+")
_FACILITY_ID = re.compile(r"[a-z0-9]{1,32}\Z")


def parse_facility_ids(text: str) -> list[str]:
    """Facility IDs as typed, pasted or posted: separated by spaces, commas or new lines, in
    any case. Duplicates are dropped; the order is kept."""
    return list(dict.fromkeys(token.lower() for token in _SEPARATORS.split(text or "") if token))


def wellformed(ids: list[str]) -> list[str]:
    """The IDs that can be a Facility ID: only these are looked up (anything else, a NUL
    byte that PostgreSQL refuses included, is simply not a facility)."""
    return [facility_id for facility_id in ids if _FACILITY_ID.match(facility_id)]


@dataclass
class PickerState:
    """What one drawing of the picker shows beyond the chosen IDs: the search and its
    matches, the page of the chosen list, and what the last button did."""

    query: str = ""
    searched: bool = False
    page: int = 1
    announcement: str = ""
    hide_list: bool = False
    note_excluded: bool = False
    results: list[Facility] = field(default_factory=list)
    more_results: bool = False


class FacilityPicker(forms.Widget):
    """A searchable facility picker that posts ONE value: the chosen Facility IDs in a text
    area. Without JavaScript its Search, Add, Remove and page buttons post the form to redraw
    it (FacilityPickerMixin); static/js/facility_picker.js turns the search into a combobox
    that adds and removes chips in place."""

    template_name = "facilities/includes/facility_picker.html"
    use_fieldset = True

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.queryset: QuerySet[Facility] = Facility.objects.none()
        self.state = PickerState()

    def __deepcopy__(self, memo: dict) -> FacilityPicker:
        # Each form gets its own state: Widget's copy is shallow, and a search drawn for one
        # request must never be drawn for the next.
        copied = super().__deepcopy__(memo)
        copied.state = PickerState()
        return copied

    def format_value(self, value: Any) -> str:
        return "" if value is None else str(value)

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer=None) -> str:
        # The project's template engine: the picker's template lives with the pages.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        state = self.state
        ids = [] if state.hide_list else parse_facility_ids(context["widget"]["value"])
        pages = max(1, -(-len(ids) // PICKER_CHOSEN_PER_PAGE))
        page = min(max(state.page, 1), pages)
        shown = ids[(page - 1) * PICKER_CHOSEN_PER_PAGE : page * PICKER_CHOSEN_PER_PAGE]
        known = {f.facility_id: f for f in self.queryset.filter(facility_id__in=wellformed(shown))}
        chosen_ids = set(ids)
        context["widget"].update(
            value="\n".join(ids),
            state=state,
            search_url=reverse("facilities:facility_picker"),
            chosen=[(facility_id, known.get(facility_id)) for facility_id in shown],
            chosen_count=len(ids),
            page=page,
            pages=pages,
            first_shown=(page - 1) * PICKER_CHOSEN_PER_PAGE + 1,
            last_shown=(page - 1) * PICKER_CHOSEN_PER_PAGE + len(shown),
            results=[(f, f.facility_id in chosen_ids) for f in state.results],
        )
        return context


class FacilityChoiceField(forms.Field):
    """Facilities chosen by Facility ID, posted as one text value (not one field per
    facility: a key or member with 2,000 facilities stays one field). Cleans to the Facility
    objects, in the order given; an ID outside `queryset` (unknown, another account's, or
    outside the chooser's access: all alike) is a form error naming it."""

    widget = FacilityPicker
    default_error_messages = {
        "invalid_choice": "Not a facility you can choose: %(ids)s. Search for the facility "
        "by name, or check its Facility ID on Integrations → Facilities.",
    }

    def __init__(self, *, queryset: QuerySet[Facility] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queryset = queryset if queryset is not None else Facility.objects.none()

    @property
    def queryset(self) -> QuerySet[Facility]:
        return self._queryset

    @queryset.setter
    def queryset(self, queryset: QuerySet[Facility]) -> None:
        self._queryset = queryset
        self.widget.queryset = queryset

    def __deepcopy__(self, memo: dict) -> FacilityChoiceField:
        result = super().__deepcopy__(memo)
        result.queryset = self._queryset.all()
        return result

    def prepare_value(self, value: Any) -> str:
        """The text area's text: one Facility ID a line, from text or from facilities."""
        if value is None or isinstance(value, str):
            return value or ""
        return "\n".join(str(getattr(item, "facility_id", item)) for item in value)

    def to_python(self, value: Any) -> list[str]:
        return parse_facility_ids(self.prepare_value(value))

    def clean(self, value: Any) -> list[Facility]:
        return self.facilities_for(super().clean(value))

    def facilities_for(self, ids: list[str]) -> list[Facility]:
        """One query whatever the number of IDs."""
        if not ids:
            return []
        asked = wellformed(ids)
        if len(asked) <= _IN_LIST_MAX:
            rows = self.queryset.filter(facility_id__in=asked)
        else:
            wanted = set(asked)
            rows = (f for f in self.queryset if f.facility_id in wanted)
        found = {facility.facility_id: facility for facility in rows}
        unknown = [facility_id for facility_id in ids if facility_id not in found]
        if unknown:
            shown = ", ".join(facility_id[:32] for facility_id in unknown[:3])
            if len(unknown) > 3:
                shown += f" and {len(unknown) - 3:,} more"
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"ids": shown}
            )
        return [found[facility_id] for facility_id in ids]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return set(self.to_python(initial)) != set(self.to_python(data))


def facility_scope_clean(
    form: forms.Form, cleaned: dict[str, Any], *, membership: Membership | None, refusal: str
) -> None:
    """The "All Facilities" switch and the chosen facilities of an API key, a webhook
    endpoint or an automation rule, as their forms' `clean()` checks them: only a member with
    All Facilities may switch it on (`refusal` says so for this thing, e.g. "Only a user with
    All Facilities can create an All Facilities key."); with it on, the chosen list and its
    errors do not count; with it off, at least one facility. `membership` None: platform
    staff or a command, who may choose either."""
    if cleaned.get("all_facilities") and membership is not None and not membership.all_facilities:
        form.add_error(
            "all_facilities",
            ValidationError(
                f"{refusal} Turn it off and select your facilities.",
                code="all_facilities_not_allowed",
            ),
        )
    if cleaned.get("all_facilities"):
        # The chosen list is not used then: neither its IDs nor their errors count.
        form.errors.pop("facilities", None)
        cleaned["facilities"] = []
    elif "facilities" in cleaned and not cleaned["facilities"]:
        form.add_error(
            "facilities",
            ValidationError(
                "Select at least one facility, or turn on All Facilities.", code="no_facilities"
            ),
        )


class FacilityPickerMixin:
    """For a form with an `all_facilities` switch and a FacilityChoiceField `facilities`.

    The picker's own buttons (Search, Add, Remove, a page of the chosen list) post the whole
    form, so that nothing typed is lost without JavaScript. Such a post redraws the form and
    never saves it: the form starts again from what was posted, unbound, so `is_valid()` is
    False and no error is shown. The form's first, hidden submit button (Enter in a text
    field) searches when the search box holds a query not searched yet, and saves otherwise.
    """

    def setup_facility_picker(self, *, note_excluded: bool = False) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        field: FacilityChoiceField = form.fields["facilities"]  # type: ignore[assignment]
        name = form.add_prefix("facilities")
        state = field.widget.state
        state.note_excluded = note_excluded
        data = form.data if form.is_bound else {}
        state.query = _search_text(data.get(f"{name}_q", ""))
        action = data.get(f"{name}_picker", "")
        if action == "enter":
            unsearched = state.query and state.query != data.get(f"{name}_searched", "")
            action = "search" if unsearched else ""
        if action and not field.disabled:
            self._redraw(form, field, action)
        state.hide_list = bool(form["all_facilities"].value()) or field.disabled
        if state.searched:
            state.results, state.more_results = picker_matches(field.queryset, state.query)

    @staticmethod
    def _redraw(form: forms.Form, field: FacilityChoiceField, action: str) -> None:
        posted = {
            name: each.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
            for name, each in form.fields.items()
            if not each.disabled
        }
        state = field.widget.state
        state.searched = bool(state.query)
        ids = parse_facility_ids(posted["facilities"] or "")
        verb, _, argument = action.partition(":")
        argument = argument.strip().lower()
        if verb == "search":
            state.searched = True
        elif verb == "add" and _FACILITY_ID.match(argument):
            facility = field.queryset.filter(facility_id=argument).first()
            if facility is None:
                state.announcement = "That facility cannot be chosen."
            else:
                ids = [argument, *(i for i in ids if i != argument)]
                state.announcement = f"Added {facility.name}. Save to keep it."
        elif verb == "remove" and argument in ids:
            ids.remove(argument)
            named = field.queryset.filter(facility_id=argument).values_list("name", flat=True)
            state.announcement = f"Removed {named.first() or argument}. Save to keep the change."
        elif verb == "page" and argument.isdigit():
            state.page = int(argument[:6])
        posted["facilities"] = "\n".join(ids)
        form.initial = {**form.initial, **posted}
        form.is_bound = False
        form.data = MultiValueDict()
        form.files = MultiValueDict()


def picker_matches(facilities: QuerySet[Facility], query: str) -> tuple[list[Facility], bool]:
    """The first PICKER_RESULTS facilities matching `query` (all of them, by name, for an
    empty query), and whether there are more."""
    rows = list(facilities.search(query).order_by("name", "id")[: PICKER_RESULTS + 1])
    return rows[:PICKER_RESULTS], len(rows) > PICKER_RESULTS


# The first submit button of a form with a picker: Enter in a text field presses it (see
# FacilityPickerMixin). Hidden from everyone; the visible Save button comes last.
PICKER_ENTER_BUTTON = (
    '<button type="submit" name="facilities_picker" value="enter" hidden tabindex="-1">'
    "Save</button>"
)


class PickerSearchForm(forms.Form):
    """The picker's JSON search: a query, or the Facility IDs whose names the page needs."""

    q = forms.CharField(required=False, max_length=100)
    ids = forms.CharField(required=False, max_length=PICKER_CHOSEN_PER_PAGE * 33)

    def clean_ids(self) -> list[str]:
        ids = parse_facility_ids(self.cleaned_data["ids"])
        if len(ids) > PICKER_CHOSEN_PER_PAGE:
            raise ValidationError(
                f"At most {PICKER_CHOSEN_PER_PAGE} Facility IDs at a time.", code="too_many_ids"
            )
        return ids


def _search_text(value: str) -> str:
    """The search box's text, bounded; a NUL (which PostgreSQL refuses) is dropped."""
    return value.replace("\x00", "").strip()[:100]


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
        others = permissions.settable_statuses(membership.role, lock.status, others)
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
        choices = permissions.settable_statuses(
            membership.role, lock.status, self.fields["status"].choices
        )
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


class SealedFileForm(forms.Form):
    """Carries a previewed file to its commit, sealed so what is written is what was seen.

    A file may hold unlock codes, so the hidden field is encrypted (Fernet: authenticated, so
    tampering is refused too), never merely signed: the page's HTML reveals nothing. `scope`
    names what the preview was for (a facility's import, an account's payments): a preview
    carried to another is refused with `wrong_scope_message`.
    """

    payload = forms.CharField(widget=forms.HiddenInput)
    wrong_scope_message = "This preview is for something else. Upload the file again."

    def __init__(self, *args, scope: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope

    @staticmethod
    def seal_for(*, scope: str, filename: str, text: str, fingerprint: str) -> str:
        data = {
            "scope": scope,
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
        if data.get("scope") != self.scope:
            raise ValidationError(self.wrong_scope_message, code="wrong_scope")
        return data


class ImportConfirmForm(SealedFileForm):
    """The facility's CSV import of units and locks, from its preview to "Import"."""

    wrong_scope_message = "This preview is for another facility. Upload the file again."

    def __init__(self, *args, facility: Facility, **kwargs) -> None:
        super().__init__(*args, scope=self.scope_of(facility), **kwargs)
        self.facility = facility

    @staticmethod
    def scope_of(facility: Facility) -> str:
        return f"facility-import:{facility.pk}"

    @staticmethod
    def seal(*, facility: Facility, filename: str, text: str, fingerprint: str) -> str:
        return SealedFileForm.seal_for(
            scope=ImportConfirmForm.scope_of(facility),
            filename=filename,
            text=text,
            fingerprint=fingerprint,
        )
