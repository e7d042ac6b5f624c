"""The endpoint form (Add endpoint and the endpoint's page) and Roll secret. Facilities are
chosen with the same picker as API keys, narrowed to the member's facilities."""

from __future__ import annotations

from typing import Any

from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.core.exceptions import ValidationError

from davinci.accounts.models import Account, Membership
from facilities.forms import (
    PICKER_ENTER_BUTTON,
    FacilityChoiceField,
    FacilityPickerMixin,
    facility_scope_clean,
)
from facilities.models import Facility
from webhooks import transport
from webhooks.models import SUBSCRIBABLE, Endpoint


class EndpointForm(FacilityPickerMixin, forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where DaVinci Lock sends events: an https:// URL of yours on a public "
        "address, e.g. https://example.com/webhooks/davinci.",
        error_messages={"required": "Enter the URL of your receiver."},
    )
    description = forms.CharField(
        label="Description",
        max_length=200,
        required=False,
        help_text="Optional: what receives these events, e.g. “Billing system”.",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=SUBSCRIBABLE,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    all_facilities = forms.BooleanField(
        label="All Facilities",
        required=False,
        initial=True,
        help_text="On: events of every facility of the account that is included in the API, "
        "including ones you add later. Off: only the facilities you choose below.",
    )
    facilities = FacilityChoiceField(
        label="Facilities",
        required=False,
        help_text="Used when All Facilities is off. Choose at least one.",
    )

    def __init__(
        self, *args: Any, account: Account, membership: Membership | None = None, **kwargs: Any
    ) -> None:
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
                "Only a user with All Facilities can add an All Facilities endpoint: choose "
                "your facilities below."
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.setup_facility_picker(note_excluded=True)
        self.helper.layout = Layout(
            HTML(PICKER_ENTER_BUTTON),
            Field("url", autocomplete="off", spellcheck="false"),
            Field("description", autocomplete="off"),
            "event_types",
            Switch("all_facilities"),
            Div(
                "facilities",
                css_class="facility-choices",
                data_hidden_when_checked="#id_all_facilities",
            ),
        )

    @classmethod
    def for_endpoint(
        cls, endpoint: Endpoint, data: Any = None, *, membership: Membership | None = None
    ) -> EndpointForm:
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "all_facilities": endpoint.all_facilities,
            "facilities": list(
                endpoint.facilities.order_by("name", "id").values_list("facility_id", flat=True)
            ),
        }
        return cls(data, account=endpoint.account, membership=membership, initial=initial)

    def field_errors(self) -> list[tuple[forms.BoundField, str]]:
        return [(self[name], error) for name in self.fields for error in self[name].errors]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = transport.url_problem(url)
        if problem:
            raise ValidationError(problem, code="url_refused")
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        facility_scope_clean(
            self,
            cleaned,
            membership=self.membership,
            refusal="Only a user with All Facilities can add an All Facilities endpoint.",
        )
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "url": data["url"],
            "description": data["description"],
            "event_types": list(data["event_types"]),
            "all_facilities": data["all_facilities"],
            "facilities": list(data["facilities"]),
        }


class RollSecretForm(forms.Form):
    keep_previous = forms.TypedChoiceField(
        label="When should the current secret stop signing?",
        choices=[
            (1, "After 24 hours: both secrets sign meanwhile, so your receiver can switch"),
            (0, "Immediately: the secret leaked"),
        ],
        coerce=lambda value: value in (1, "1"),
        initial=1,
        widget=forms.RadioSelect,
    )
