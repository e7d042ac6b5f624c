"""Forms of Integrations → Automations: a rule, its Enabled switch, the activity filter, and
the CSV upload of payments. Every form takes the member and offers only their facilities."""

from __future__ import annotations

from typing import Any

from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from automations import payments
from automations.models import AutomationRun, EventType, Rule
from davinci.accounts import permissions
from davinci.accounts.models import Membership
from facilities.forms import (
    PICKER_ENTER_BUTTON,
    FacilityChoiceField,
    FacilityPickerMixin,
    ImportUploadForm,
    SealedFileForm,
    UnitForm,
    facility_scope_clean,
)
from facilities.models import UNIT_STATUSES, Facility, LockStatus, Unit
from facilities.notices import NOTICE_STATUS, Notice

# The statuses a rule can apply to and set: a lock on the unit, never Assigned Auction.
RULE_STATUS_CHOICES = [
    (status.value, status.label)
    for status in LockStatus
    if status in UNIT_STATUSES and permissions.automation_can_act(status)
]


class RuleForm(FacilityPickerMixin, forms.Form):
    trigger = forms.ChoiceField(
        label="When the facility software reports",
        choices=EventType.choices,
        initial=EventType.PAYMENT_RECEIVED,
    )
    statuses = forms.MultipleChoiceField(
        label="And the lock on the unit is",
        choices=RULE_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="The rule acts only on a lock in one of these statuses. It never acts on "
        "a lock in Assigned Auction.",
        error_messages={"required": "Choose at least one lock status."},
    )
    set_status = forms.ChoiceField(
        label="Set the lock to",
        choices=[("", "Keep its status"), *RULE_STATUS_CHOICES],
        required=False,
        help_text="The same change a person makes on the lock's page (Returned to Dropbox "
        "from Assigned Overlock is Release overlock).",
    )
    notice = forms.ChoiceField(
        label="Send the tenant",
        choices=[("", "No notice"), *Notice.choices],
        required=False,
        help_text="With the lock's code, to the email address and phone number on file.",
    )
    all_facilities = forms.BooleanField(
        label="All Facilities",
        required=False,
        initial=True,
        help_text="On: the rule runs at every facility, including ones you add later. Off: "
        "only at the facilities you choose below.",
    )
    facilities = FacilityChoiceField(
        label="Facilities",
        required=False,
        help_text="Used when All Facilities is off. Choose at least one.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.fields["facilities"].queryset = Facility.objects.for_membership(membership).order_by(
            "name", "id"
        )
        if not membership.all_facilities:
            self.fields["all_facilities"].initial = False
            self.fields["all_facilities"].help_text = (
                "Only a user with All Facilities can make a rule for All Facilities: choose "
                "your facilities below."
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.setup_facility_picker()
        self.helper.layout = Layout(
            HTML(PICKER_ENTER_BUTTON),
            Field("trigger"),
            Field("statuses"),
            Field("set_status"),
            Field("notice"),
            Switch("all_facilities"),
            # integrations.js hides the picker while "All Facilities" is on (it is ignored then).
            Div(
                "facilities",
                css_class="facility-choices",
                data_hidden_when_checked="#id_all_facilities",
            ),
            Switch("enabled"),
        )

    @classmethod
    def for_rule(cls, rule: Rule, data: Any = None, *, membership: Membership) -> RuleForm:
        initial = {
            "trigger": rule.trigger,
            "statuses": rule.statuses,
            "set_status": rule.set_status,
            "notice": rule.notice,
            "all_facilities": rule.all_facilities,
            "facilities": list(
                rule.facilities.order_by("name", "id").values_list("facility_id", flat=True)
            ),
            "enabled": rule.enabled,
        }
        return cls(data, membership=membership, initial=initial)

    def field_errors(self) -> list[tuple[forms.BoundField, str]]:
        return [(self[name], error) for name in self.fields for error in self[name].errors]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        statuses, set_status, notice = (
            cleaned.get("statuses") or [],
            cleaned.get("set_status"),
            cleaned.get("notice"),
        )
        if "statuses" in cleaned and not set_status and not notice:
            raise ValidationError(
                "Choose what the rule does: set a status, send a notice, or both.",
                code="no_action",
            )
        if notice and statuses:
            needed = NOTICE_STATUS[Notice(notice)]
            if any((set_status or status) != needed for status in statuses):
                self.add_error(
                    "notice",
                    ValidationError(
                        f"“{Notice(notice).label}” is sent only for a lock that is "
                        f"{needed.label}: set the lock to {needed.label}, or apply the rule "
                        f"to {needed.label} locks only.",
                        code="notice_wrong_status",
                    ),
                )
        facility_scope_clean(
            self,
            cleaned,
            membership=self.membership,
            refusal="Only a user with All Facilities can make a rule for All Facilities.",
        )
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "trigger": data["trigger"],
            "statuses": data["statuses"],
            "set_status": data["set_status"],
            "notice": data["notice"],
            "all_facilities": data["all_facilities"],
            "facilities": list(data["facilities"]),
            "enabled": data["enabled"],
        }


class RuleEnabledForm(forms.Form):
    """The list's Enabled switch: a POST form that works without JavaScript."""

    enabled = forms.BooleanField(label="Enabled", required=False)


class RuleMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Move up"), ("down", "Move down")])


# --- The activity list ------------------------------------------------------------------------


class ActivityFilterForm(forms.Form):
    facility = forms.CharField(
        label="Facility",
        required=False,
        max_length=200,
        help_text="Its name or Facility ID.",
    )
    unit = forms.CharField(label="Unit number", required=False, max_length=20)
    result = forms.ChoiceField(
        label="Result",
        required=False,
        choices=[("", "All results"), *AutomationRun.Result.choices],
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.membership = membership

    def clean_facility(self) -> Facility | None:
        text = self.cleaned_data["facility"].replace("\x00", "").strip()
        if not text:
            return None
        found = (
            Facility.objects.for_membership(self.membership)
            .filter(Q(facility_id=text.lower()) | Q(name__iexact=text))
            .order_by("name", "id")
            .first()
        )
        if found is None:
            raise ValidationError("No facility of yours has this name or Facility ID.")
        return found

    def clean_unit(self) -> str:
        return self.cleaned_data["unit"].replace("\x00", "").strip()


# --- Payments by CSV --------------------------------------------------------------------------


class PaymentUploadForm(ImportUploadForm):
    """The facilities import's upload (size, encoding, what fits the confirmation), for a
    file of payments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"UTF-8 or Excel CSV, up to {payments.MAX_ROWS:,} payments. Columns: "
            f"{', '.join(payments.COLUMNS)}."
        )


class PaymentConfirmForm(SealedFileForm):
    wrong_scope_message = "This preview is for another account. Upload the file again."

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, scope=self.scope_of(membership), **kwargs)

    @staticmethod
    def scope_of(membership: Membership) -> str:
        return f"automation-payments:{membership.pk}"


# --- A move-in's contact ----------------------------------------------------------------------


def contact_form(unit: Unit, contact: dict[str, Any]) -> UnitForm:
    """The portal's unit form, bound to the unit's own number and the new tenant's contact:
    a move-in's contact is checked (and its phone normalized) exactly as a person's edit."""
    data = {
        "unit_number": unit.unit_number,
        "tenant_name": contact.get("tenant_name", ""),
        "tenant_email": contact.get("tenant_email", ""),
        "tenant_phone": contact.get("tenant_phone", ""),
    }
    return UnitForm(data, instance=unit, facility=unit.facility)
