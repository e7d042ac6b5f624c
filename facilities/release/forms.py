"""The public overlock-release page's form. The tenant finds their facility by typing a few
letters of its name or city: the page offers at most RELEASE_MATCHES facilities, never the
account's whole list (a chain has thousands)."""

from __future__ import annotations

from django import forms

from davinci import sms
from davinci.accounts.models import Account
from facilities.forms import TypedChoiceField
from facilities.models import Facility, unit_number_validator
from facilities.release.services import Contact, contact_parse

RELEASE_MATCHES = 10


def facility_label(facility: Facility) -> str:
    return f"{facility.name} — {facility.address}" if facility.address else facility.name


def facility_matches(account: Account, find: str) -> tuple[list[Facility], bool]:
    """The account's facilities included in the API whose name, address or Facility ID
    matches `find`, at most RELEASE_MATCHES, and whether there are more. With nothing typed,
    all of them if they are that few, else none (the tenant searches)."""
    included = Facility.objects.for_account(account).included_in_api().order_by("name", "id")
    rows = list(included.search(find)[: RELEASE_MATCHES + 1])
    more = len(rows) > RELEASE_MATCHES
    if more and not find:
        return [], True
    return rows[:RELEASE_MATCHES], more


def clean_find(value: str | None) -> str:
    """The search text as typed, bounded; a NUL (which PostgreSQL refuses) is dropped."""
    return (value or "").replace("\x00", "").strip()[:100]


class ReleaseForm(forms.Form):
    facility = TypedChoiceField(
        label="Your facility",
        queryset=Facility.objects.none(),
        to_field_name="facility_id",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the facility where your unit is.",
            "invalid_choice": "Choose one of the listed facilities.",
        },
    )
    unit_number = forms.CharField(
        label="Unit number",
        max_length=20,
        validators=[unit_number_validator],
        error_messages={"required": "Enter your unit number."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    contact = forms.CharField(
        label="Email address or phone number on file",
        max_length=254,
        error_messages={"required": "Enter the email address or phone number on file."},
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    # Honeypot: hidden from people and assistive technology; bots fill every field.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, account: Account, find: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.find = clean_find(find)
        # Any of the account's facilities validates, so a forged POST naming an excluded one
        # is refused like a wrong contact (not by a tell-tale form error); only facilities
        # included in the API are offered.
        self.fields["facility"].queryset = Facility.objects.for_account(account)
        self.fields["facility"].choices = []
        self.more_matches = False
        if not sms.sms_enabled():
            self.fields["contact"].label = "Email address on file"

    def offer_facilities(self) -> bool:
        """Fill the choice with the facilities matching the search (only for showing the
        page: a POST that is answered needs none of this). False if the account offers no
        facility at all."""
        matches, self.more_matches = facility_matches(self.account, self.find)
        choices = [(facility.facility_id, facility_label(facility)) for facility in matches]
        posted = str(self["facility"].value() or "") if self.is_bound else ""
        if posted.isascii() and posted.isalnum() and posted not in dict(choices):
            # Keep the facility chosen before (a form error elsewhere) on the page.
            chosen = Facility.objects.for_account(self.account).included_in_api()
            chosen = chosen.filter(facility_id=posted[:32]).first()
            if chosen is not None:
                choices.insert(0, (chosen.facility_id, facility_label(chosen)))
        if len(choices) == 1 and self.find:
            self.initial.setdefault("facility", choices[0][0])
        self.fields["facility"].choices = choices
        if choices or self.more_matches:
            return True
        return Facility.objects.for_account(self.account).included_in_api().exists()

    def clean_contact(self) -> Contact:
        return contact_parse(self.cleaned_data["contact"])
