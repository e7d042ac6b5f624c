"""Forms of the Integrations tabs. Every form takes `account=` and only offers (and only
accepts) that account's facilities."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any

from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from davinci.accounts.models import Account, Membership
from davinci.accounts.permissions import DEFAULT_KEY_PERMISSIONS, KeyPermission
from facilities.forms import (
    PICKER_ENTER_BUTTON,
    FacilityChoiceField,
    FacilityPickerMixin,
    facility_scope_clean,
)
from facilities.models import Facility
from integrations.models import ApiKey

MAX_ALLOWED_IP_RANGES = 50
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _validate_name(value: str) -> None:
    if _CONTROL_CHARACTERS.search(value):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid_name")


def parse_allowed_ips(text: str) -> list[str]:
    """One CIDR range or address per line (commas and spaces also separate them), normalised:
    `203.0.113.7` → `203.0.113.7/32`, `10.1.2.3/8` → `10.0.0.0/8`. Duplicates dropped."""
    entries = [entry for entry in re.split(r"[\s,]+", text) if entry]
    networks: list[str] = []
    bad: list[str] = []
    for entry in entries:
        try:
            network = str(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            bad.append(entry)
            continue
        if network not in networks:
            networks.append(network)
    if bad:
        shown = ", ".join(f"“{entry[:45]}”" for entry in bad[:5])
        raise ValidationError(
            f"Not an IP address or CIDR range: {shown}. Write one per line, "
            "for example 203.0.113.0/24 or 2001:db8::/48.",
            code="invalid_cidr",
        )
    if len(networks) > MAX_ALLOWED_IP_RANGES:
        raise ValidationError(
            f"At most {MAX_ALLOWED_IP_RANGES} ranges; combine neighbouring ones into a wider "
            "CIDR range.",
            code="too_many_ranges",
        )
    return networks


def expiry_to_datetime(day: dt.date | None) -> dt.datetime | None:
    """An expiry date means the key stops working at 00:00 on that day (TIME_ZONE)."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def datetime_to_expiry(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


class ApiKeyForm(FacilityPickerMixin, forms.Form):
    """ "Create API Key" and the key detail window share it: Name, All Facilities, the
    facilities and the permissions (Read lock information checked on a new key); the detail
    window adds expiry and allowed IP ranges. Whoever may manage keys may give any
    permission: it says what the key does within its facilities."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        validators=[_validate_name],
        help_text="A descriptive name that tells you what the key is for, for example "
        "“Call Center”. Names don't have to be unique.",
        error_messages={"required": "Give the key a name, for example “Call Center”."},
    )
    all_facilities = forms.BooleanField(
        label="All Facilities",
        required=False,
        initial=True,
        help_text="On: the key reads every facility of the account, including ones you add "
        "later. Off: only the facilities you choose below.",
    )
    facilities = FacilityChoiceField(
        label="Facilities",
        required=False,
        help_text="Used when All Facilities is off. Choose at least one.",
    )
    permissions = forms.MultipleChoiceField(
        label="Permissions",
        choices=KeyPermission.choices,
        initial=list(DEFAULT_KEY_PERMISSIONS),
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do in its facilities. A call center that looks codes up "
        "needs Read lock information only.",
        error_messages={
            "required": "Choose at least one permission, for example Read lock information.",
            "invalid_choice": "Not a permission a key can have: %(value)s.",
        },
    )
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at 00:00 on this day. Leave empty for a "
        "key that does not expire.",
    )
    allowed_ips = forms.CharField(
        label="Allowed IP ranges",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Optional. One IP address or CIDR range per line, e.g. 203.0.113.0/24. "
        "Empty allows calls from any address.",
    )

    def __init__(
        self,
        *args: Any,
        account: Account,
        membership: Membership | None = None,
        detail: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.account = account
        self.membership = membership
        facilities = (
            Facility.objects.for_membership(membership)
            if membership is not None
            else Facility.objects.for_account(account)
        )
        self.fields["facilities"].queryset = facilities.order_by("name", "id")
        if membership is not None and not membership.all_facilities:
            self.fields["all_facilities"].initial = False
            self.fields["all_facilities"].help_text = (
                "Only a user with All Facilities can create an All Facilities key: choose "
                "your facilities below."
            )
        if not self.fields["facilities"].queryset.exists():
            self.fields["facilities"].help_text = (
                "This account has no facilities yet. Keep All Facilities on: the key will "
                "cover each facility as you add it."
            )
        if not detail:
            del self.fields["expires_on"]
            del self.fields["allowed_ips"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.setup_facility_picker(note_excluded=True)
        self.helper.layout = Layout(
            HTML(PICKER_ENTER_BUTTON),
            Field("name", autocomplete="off"),
            Switch("all_facilities"),
            # integrations.js hides the picker while "All Facilities" is on (it is ignored then).
            Div(
                "facilities",
                css_class="facility-choices",
                data_hidden_when_checked="#id_all_facilities",
            ),
            "permissions",
            *(["expires_on", "allowed_ips"] if detail else []),
        )

    def field_errors(self) -> list[tuple[forms.BoundField, str]]:
        """Each field error, for the summary above the form (non-field errors are shown by
        crispy itself)."""
        return [(self[name], error) for name in self.fields for error in self[name].errors]

    @classmethod
    def for_key(
        cls, api_key: ApiKey, data: Any = None, *, membership: Membership | None = None
    ) -> ApiKeyForm:
        initial = {
            "name": api_key.name,
            "all_facilities": api_key.all_facilities,
            "facilities": list(
                api_key.facilities.order_by("name", "id").values_list("facility_id", flat=True)
            ),
            "expires_on": datetime_to_expiry(api_key.expires_at),
            "allowed_ips": "\n".join(api_key.allowed_ips),
            "permissions": list(api_key.permissions),
        }
        return cls(
            data, account=api_key.account, membership=membership, detail=True, initial=initial
        )

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data["expires_on"]
        # Re-saving a key that already expired keeps its date; a new date must be ahead.
        if day and "expires_on" in self.changed_data and day <= timezone.localdate():
            raise ValidationError("Pick a date after today.", code="expiry_in_past")
        return day

    def clean_allowed_ips(self) -> list[str]:
        return parse_allowed_ips(self.cleaned_data["allowed_ips"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        facility_scope_clean(
            self,
            cleaned,
            membership=self.membership,
            refusal="Only a user with All Facilities can create an All Facilities key.",
        )
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {
            "name": data["name"],
            "all_facilities": data["all_facilities"],
            "facilities": list(data["facilities"]),
            "permissions": data["permissions"],
        }
        if "expires_on" in self.fields:
            kwargs["expires_at"] = expiry_to_datetime(data["expires_on"])
            kwargs["allowed_ips"] = data["allowed_ips"]
        return kwargs


ROLL_GRACE_CHOICES = [
    (0, "Immediately"),
    (1, "After 1 hour"),
    (4, "After 4 hours"),
    (12, "After 12 hours"),
    (24, "After 24 hours"),
]


class RollSecretForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        label="When should the current secret stop working?",
        choices=ROLL_GRACE_CHOICES,
        coerce=int,
        initial=0,
        widget=forms.RadioSelect,
        help_text="A grace period lets the third party switch to the new secret without "
        "failed calls. If the secret leaked, stop it immediately.",
    )

    def grace(self) -> dt.timedelta:
        return dt.timedelta(hours=self.cleaned_data["grace_hours"])


class IncludeInApiForm(forms.Form):
    include_in_api = forms.BooleanField(label="Include in API", required=False)
